"""In-memory doubles of the ports, with the same conditional semantics as DynamoStore:
every commit is all-or-nothing, versions and ids are checked, counters keep limits."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from inmail.domain.errors import Conflict, LimitExceeded, TransientDeliveryError, TransientStoreError
from inmail.domain.model import (
    Candidate,
    Changes,
    Contract,
    LedgerEntry,
    Page,
    Seat,
    Thread,
)
from inmail.domain.ports import LedgerIndex, ThreadIndex


@dataclass
class MemoryStore:
    contracts: dict[str, Contract] = field(default_factory=dict)
    seats: dict[str, Seat] = field(default_factory=dict)
    candidates: dict[str, Candidate] = field(default_factory=dict)
    threads: dict[str, Thread] = field(default_factory=dict)
    ledger: dict[str, LedgerEntry] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    due_shards: int = 1  # one shard holds everything here
    commits: int = 0
    # A hook run before each commit: tests use it to inject faults or interleavings.
    before_commit: Callable[[Changes], None] | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def get_contract(self, contract_id: str) -> Contract | None:
        return self.contracts.get(contract_id)

    def get_seat(self, recruiter_id: str) -> Seat | None:
        return self.seats.get(recruiter_id)

    def get_candidate(self, candidate_id: str) -> Candidate | None:
        return self.candidates.get(candidate_id)

    def get_thread(self, thread_id: str) -> Thread | None:
        return self.threads.get(thread_id)

    def get_counter(self, key: str) -> int:
        return self.counters.get(key, 0)

    def commit(self, changes: Changes) -> None:
        if self.before_commit is not None:
            self.before_commit(changes)
        with self._lock:
            self._check(changes)
            for thread, _ in changes.threads:
                self.threads[thread.thread_id] = thread
            for contract, _ in changes.contracts:
                self.contracts[contract.contract_id] = contract
            for seat, _ in changes.seats:
                self.seats[seat.recruiter_id] = seat
            for candidate, _ in changes.candidates:
                self.candidates[candidate.candidate_id] = candidate
            for entry in changes.ledger:
                self.ledger[entry.entry_id] = entry
            for counter in changes.counters:
                self.counters[counter.key] = self.counters.get(counter.key, 0) + counter.delta
            self.commits += 1

    def _check(self, changes: Changes) -> None:
        tables: list[tuple[dict[str, Any], list[tuple[Any, int | None]], str]] = [
            (self.threads, list(changes.threads), "thread_id"),
            (self.contracts, list(changes.contracts), "contract_id"),
            (self.seats, list(changes.seats), "recruiter_id"),
            (self.candidates, list(changes.candidates), "candidate_id"),
        ]
        for table, writes, key_attr in tables:
            for item, expected in writes:
                current = table.get(getattr(item, key_attr))
                if expected is None and current is not None:
                    raise Conflict(key_attr)
                if expected is not None and (current is None or current.version != expected):
                    raise Conflict(key_attr)
        for entry in changes.ledger:
            if entry.entry_id in self.ledger:
                raise Conflict("ledger")
        for counter in changes.counters:
            over = counter.limit is not None and self.counters.get(counter.key, 0) + counter.delta > counter.limit
            if over and counter.delta > 0:
                raise LimitExceeded(counter.kind)
        expect_tables: dict[type, dict[str, Any]] = {
            Contract: self.contracts,
            Seat: self.seats,
            Candidate: self.candidates,
        }
        for expect in changes.expects:
            current = expect_tables[type(expect.entity)].get(expect.entity.key)
            if current is None or current.version != expect.entity.version:
                raise Conflict(type(expect.entity).__name__)

    def list_threads(self, index: ThreadIndex, key: str, first: int, after: str | None) -> Page[Thread]:
        def keep(t: Thread) -> bool:
            if index is ThreadIndex.RECRUITER:
                return t.recruiter_id == key
            if index is ThreadIndex.CONTRACT:
                return t.contract_id == key
            if index is ThreadIndex.INBOX:
                return t.candidate_id == key and t.in_inbox
            return t.recruiter_id == key and t.in_awaiting_reply

        items = sorted(
            (t for t in self.threads.values() if keep(t)), key=lambda t: (t.created_at, t.thread_id), reverse=True
        )
        ids = [t.thread_id for t in items]
        start = ids.index(after) + 1 if after in ids else 0
        page = items[start : start + first]
        return Page(page, [t.thread_id for t in page], start + first < len(items))

    def list_ledger(self, index: LedgerIndex, key: str, first: int, after: str | None) -> Page[LedgerEntry]:
        attr = "contract_id" if index is LedgerIndex.CONTRACT else "recruiter_id"
        items = sorted(
            (e for e in self.ledger.values() if getattr(e, attr) == key),
            key=lambda e: (e.at, e.entry_id),
            reverse=True,
        )
        ids = [e.entry_id for e in items]
        start = ids.index(after) + 1 if after in ids else 0
        page = items[start : start + first]
        return Page(page, [e.entry_id for e in page], start + first < len(items))

    def due_thread_ids(self, shard: int, now: datetime, limit: int) -> list[str]:
        if shard != 0:
            return []
        due = []
        for t in self.threads.values():
            fu = t.scheduled_follow_up
            if fu is not None and fu.scheduled_for is not None and fu.scheduled_for <= now:
                due.append((fu.scheduled_for, t.thread_id))
        return [tid for _, tid in sorted(due)[:limit]]

    # ---- what tests check ------------------------------------------------------------

    def balance_used(self, contract_id: str) -> int:
        """Credits used across all months, from the counters."""
        return sum(v for k, v in self.counters.items() if k.startswith(f"credits#{contract_id}#"))


class StoreDelivery:
    def __init__(self, store: MemoryStore):
        self.store = store
        self.delivered = 0

    def deliver(self, changes: Changes) -> None:
        try:
            self.store.commit(changes)
        except TransientStoreError as exc:  # as the DynamoDB adapter maps it
            raise TransientDeliveryError(str(exc)) from exc
        self.delivered += 1


class FlakyDelivery:
    """Fails the first `failures` deliveries with a transient error, then delivers."""

    def __init__(self, inner: Any, failures: int):
        self.inner = inner
        self.failures = failures
        self.attempts = 0

    def deliver(self, changes: Changes) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise TransientDeliveryError("injected")
        self.inner.deliver(changes)
