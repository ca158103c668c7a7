"""How a use case commits: a lost race is decided again, a transient delivery failure is
retried with backoff, and a store that stays busy is refused as TECHNICAL_ISSUE."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from ..domain.errors import Conflict, ErrorCode, Refusal, TransientDeliveryError, TransientStoreError
from ..domain.model import Changes
from . import refusals
from .deps import Deps

P = ParamSpec("P")
T = TypeVar("T")

CONFLICT_ATTEMPTS = 5

# Jitter from the OS, not the module's seeded generator: with SnapStart, environments
# restored from one snapshot would share its state and back off in lockstep.
_jitter = random.SystemRandom()


def retry_on_conflict(attempt: Callable[P, T]) -> Callable[P, T]:
    """Optimistic concurrency. `attempt` reads what it decides on, decides and commits; a
    commit that lost a race (Conflict) changed nothing, so the attempt runs again on fresh
    reads, up to CONFLICT_ATTEMPTS times. Then the request is refused with CONFLICT."""

    @functools.wraps(attempt)
    def retried(*args: P.args, **kwargs: P.kwargs) -> T:
        for _ in range(CONFLICT_ATTEMPTS - 1):
            try:
                return attempt(*args, **kwargs)
            except Conflict:
                continue
        try:
            return attempt(*args, **kwargs)
        except Conflict as exc:
            raise Refusal(ErrorCode.CONFLICT, "The thread changed while this request ran; try again.") from exc

    return retried


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
        raise refusals.store_busy() from exc
