"""Idempotency keys: where a keyed send lands, and the fingerprint of what a keyed request
asked for, to tell a retry (the first result again, nothing charged) from a reuse of the
key for something else (CONFLICT)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping

from ..domain.rules import FollowUpTiming

_NAMESPACE = uuid.UUID("5b0e3f53-6a0c-4b54-9d5e-0d7c1c2f6a11")


def keyed_thread_id(recruiter_id: str, idempotency_key: str) -> str:
    """A send's key is per recruiter: the same key always names the same thread."""
    return str(uuid.uuid5(_NAMESPACE, f"{recruiter_id}\n{idempotency_key}"))


def fingerprint(request: Mapping[str, object]) -> str:
    """Stored with what a keyed request created; a retry must come with the same one."""
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()


def timing_fields(timing: FollowUpTiming) -> dict[str, object]:
    """A follow-up's timing as the request gave it."""
    return {"delayDays": timing.delay_days, "sendAt": timing.send_at.isoformat() if timing.send_at else None}
