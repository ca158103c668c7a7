"""What one sweep reads once and its workers share: the contracts, seats and candidates its
due follow-ups were decided on, and each recruiter's count of the day.

Safe because of what guards each outcome. A delivery's commit expects the contract, seat
and candidate at the versions it was decided on (transitions.follow_up_settled), and its
daily count is an update conditioned on the maximum: an entry that went stale makes the
commit fail (Conflict, or LimitExceeded), never deliver wrongly; the sweep forgets the
entries and decides again on fresh reads. Any other outcome (fail, cancel, delete) is not
guarded that way, so it is only ever decided on fresh reads (`Facts.cached` tells the
sweep to read again). So a stale entry costs a retry, never a wrong outcome."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from ..domain import rules
from ..domain.model import Candidate, Contract, Seat, Thread
from ..domain.ports import Store

T = TypeVar("T")


@dataclass(frozen=True)
class Facts:
    """What a follow-up is decided on, besides its thread."""

    contract: Contract | None
    seat: Seat | None
    candidate: Candidate | None
    sent_today: int
    # Some of it was read before this decision (by another follow-up of the sweep).
    cached: bool


class SweepCache:
    """Entries by kind and key, read on first use. Thread-safe: the sweep's workers share
    it; two of them missing the same entry at once both read it (harmless). Entities that
    do not exist are not cached (a follow-up decided on a missing one is not delivered, so
    it reads again anyway). With `max_age`, an entry is read again once that old (a fan-out
    worker's cache outlives one batch: staleness costs retries, so it is bounded)."""

    def __init__(
        self,
        store: Store,
        shared: bool = True,
        max_age: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._store = store
        self._shared = shared
        self._max_age = max_age
        self._clock = clock
        self._entries: dict[tuple[str, str], tuple[float, object]] = {}
        self._lock = threading.Lock()
        self.reads = 0
        self.hits = 0

    def facts(self, thread: Thread, now: datetime) -> Facts:
        """Through the cache."""
        hits_before = self.hits
        contract = self._get("contract", thread.contract_id, self._store.get_contract)
        seat = self._get("seat", thread.recruiter_id, self._store.get_seat)
        candidate = self._get("candidate", thread.candidate_id, self._store.get_candidate)
        sent = self._get("sends", rules.sends_key(thread.recruiter_id, now), self._store.get_counter)
        return Facts(contract, seat, candidate, sent or 0, cached=self.hits > hits_before)

    def fresh(self, thread: Thread, now: datetime) -> Facts:
        """Read again, whatever the cache holds, and kept for the follow-ups after."""
        contract = self._read("contract", thread.contract_id, self._store.get_contract)
        seat = self._read("seat", thread.recruiter_id, self._store.get_seat)
        candidate = self._read("candidate", thread.candidate_id, self._store.get_candidate)
        sent = self._read("sends", rules.sends_key(thread.recruiter_id, now), self._store.get_counter)
        return Facts(contract, seat, candidate, sent or 0, cached=False)

    def forget(self, thread: Thread, now: datetime) -> None:
        """After a commit found one of them stale (Conflict, LimitExceeded)."""
        with self._lock:
            for key in self._keys(thread, now):
                self._entries.pop(key, None)

    def delivered(self, thread: Thread, now: datetime) -> None:
        """The sweep's own delivery added one to the recruiter's count of the day."""
        key = ("sends", rules.sends_key(thread.recruiter_id, now))
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and isinstance(entry[1], int):
                self._entries[key] = (entry[0], entry[1] + 1)

    @staticmethod
    def _keys(thread: Thread, now: datetime) -> list[tuple[str, str]]:
        return [
            ("contract", thread.contract_id),
            ("seat", thread.recruiter_id),
            ("candidate", thread.candidate_id),
            ("sends", rules.sends_key(thread.recruiter_id, now)),
        ]

    def _get(self, kind: str, key: str, read: Callable[[str], T]) -> T:
        with self._lock:
            entry = self._entries.get((kind, key)) if self._shared else None
            if entry is not None and (self._max_age is None or self._clock() - entry[0] < self._max_age):
                self.hits += 1
                found: T = entry[1]  # type: ignore[assignment]
                return found
        return self._read(kind, key, read)

    def _read(self, kind: str, key: str, read: Callable[[str], T]) -> T:
        at = self._clock()
        value = read(key)
        with self._lock:
            self.reads += 1
            if self._shared and value is not None:
                self._entries[kind, key] = (at, value)
        return value
