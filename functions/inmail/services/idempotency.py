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
# sendInMails keys: a key used for a batch and for a single send names two different things.
_BATCH_NAMESPACE = uuid.UUID("c0a3b1e2-7f4d-4e59-8a61-2b9d3f5e7c10")


def keyed_thread_id(recruiter_id: str, idempotency_key: str) -> str:
    """A send's key is per recruiter: the same key always names the same thread."""
    return str(uuid.uuid5(_NAMESPACE, f"{recruiter_id}\n{idempotency_key}"))


def keyed_batch_id(recruiter_id: str, idempotency_key: str) -> str:
    """A sendInMails key is per recruiter, like a send's."""
    return str(uuid.uuid5(_BATCH_NAMESPACE, f"{recruiter_id}\n{idempotency_key}"))


def keyed_batch_thread_id(batch_id: str, candidate_id: str) -> str:
    """Each candidate of a keyed batch has one thread, whatever attempt sends it (R90)."""
    return str(uuid.uuid5(_BATCH_NAMESPACE, f"{batch_id}\n{candidate_id}"))


def fingerprint(request: Mapping[str, object]) -> str:
    """Stored with what a keyed request created; a retry must come with the same one."""
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()


def timing_fields(timing: FollowUpTiming) -> dict[str, object]:
    """A follow-up's timing as the request gave it."""
    return {"delayDays": timing.delay_days, "sendAt": timing.send_at.isoformat() if timing.send_at else None}
