"""What every use case takes: the ports and a few tunables, wired once per cold start."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from ..domain.errors import Conflict, ErrorCode, Refusal, TransientDeliveryError, TransientStoreError
from ..domain.model import Changes
from ..domain.ports import Clock, Delivery, IdGenerator, Store

T = TypeVar("T")

# Jitter from the OS, not the module's seeded generator: with SnapStart, environments
# restored from one snapshot would share its state and back off in lockstep.
_jitter = random.SystemRandom()

CONFLICT_ATTEMPTS = 5


@dataclass
class Deps:
    store: Store
    clock: Clock
    ids: IdGenerator
    delivery: Delivery
    lease: timedelta = timedelta(minutes=15)
    delivery_attempts: int = 3
    backoff_seconds: float = 0.05
    due_shards: int = 8
    sleep: Callable[[float], None] = field(default=time.sleep)


def deliver_with_retries(deps: Deps, changes: Changes) -> None:
    """Transient delivery failures are retried with exponential backoff and jitter; the
    last one propagates (R26). The commit is conditional, so a retry of an attempt that
    did land fails with Conflict instead of delivering twice."""
    for attempt in range(deps.delivery_attempts):
        try:
            deps.delivery.deliver(changes)
            return
        except TransientDeliveryError:
            if attempt == deps.delivery_attempts - 1:
                raise
            deps.sleep(deps.backoff_seconds * (2**attempt) * (1 + _jitter.random()))


def commit_or_technical_issue(deps: Deps, changes: Changes) -> None:
    try:
        deps.store.commit(changes)
    except TransientStoreError as exc:
        raise Refusal(ErrorCode.TECHNICAL_ISSUE, "The service is busy; try again.") from exc


def retry_on_conflict(attempt: Callable[[], T]) -> T:
    """Optimistic concurrency: a lost race reloads and decides again."""
    for _ in range(CONFLICT_ATTEMPTS - 1):
        try:
            return attempt()
        except Conflict:
            continue
    try:
        return attempt()
    except Conflict as exc:
        raise Refusal(ErrorCode.CONFLICT, "The thread changed while this request ran; try again.") from exc
