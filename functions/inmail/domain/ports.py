"""Ports: what the services need from the outside world. Adapters live in store/."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Protocol

from .model import Candidate, Changes, Contract, LedgerEntry, Page, Seat, Thread


class ThreadIndex(StrEnum):
    """The ways threads are listed, each one index query, newest first."""

    RECRUITER = "recruiter"
    CONTRACT = "contract"
    INBOX = "inbox"
    AWAITING = "awaiting"


class LedgerIndex(StrEnum):
    CONTRACT = "contract"
    RECRUITER = "recruiter"


class Clock(Protocol):
    def now(self) -> datetime: ...


class IdGenerator(Protocol):
    def new_id(self) -> str: ...


class Store(Protocol):
    # How many shards the due index is spread over (see due_thread_ids); the store writes
    # them, so it alone knows the count.
    @property
    def due_shards(self) -> int: ...

    def get_contract(self, contract_id: str) -> Contract | None: ...
    def get_seat(self, recruiter_id: str) -> Seat | None: ...
    def get_candidate(self, candidate_id: str) -> Candidate | None: ...
    def get_thread(self, thread_id: str) -> Thread | None: ...
    def get_counter(self, key: str) -> int: ...

    def commit(self, changes: Changes) -> None:
        """All of `changes` or nothing. Raises Conflict (a version moved or an id exists),
        LimitExceeded (a counter limit), TransientStoreError (retry may help)."""
        ...

    def list_threads(self, index: ThreadIndex, key: str, first: int, after: str | None) -> Page[Thread]: ...

    def list_ledger(self, index: LedgerIndex, key: str, first: int, after: str | None) -> Page[LedgerEntry]: ...

    def due_thread_ids(self, shard: int, now: datetime, limit: int) -> list[str]:
        """Ids of threads whose follow-up is SCHEDULED and due at or before `now` (oldest
        first), from the sparse due index of one shard, 0 to due_shards - 1."""
        ...


class Delivery(Protocol):
    """Puts a message in the candidate's inbox. In DynamoDB the inbox is the thread's
    inbox index, so delivering is committing the delivered state with what it pays."""

    def deliver(self, changes: Changes) -> None:
        """Raises TransientDeliveryError when a retry may help; Conflict and LimitExceeded
        pass through."""
        ...
