"""Ports: what the services need from the outside world. Adapters live in store/."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from .model import (
    Batch,
    Candidate,
    Changes,
    Cohort,
    CohortFigures,
    Contract,
    LedgerEntry,
    Page,
    ReportMetric,
    Seat,
    Template,
    Thread,
)


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

    # Many at once (one request for a batch's candidates or threads): the ones that exist.
    def get_candidates(self, candidate_ids: list[str]) -> dict[str, Candidate]: ...
    def get_threads(self, thread_ids: list[str]) -> dict[str, Thread]: ...

    # A contract's templates (R92): read under the contract's own key, so another
    # contract's template is never found.
    def get_template(self, contract_id: str, template_id: str) -> Template | None: ...
    def list_templates(self, contract_id: str) -> list[Template]: ...

    def get_batch(self, batch_id: str) -> Batch | None: ...

    def commit(self, changes: Changes) -> None:
        """All of `changes` or nothing. Raises Conflict (a version moved or an id exists),
        NameTaken (a template name claimed), LimitExceeded (a counter limit),
        TransientStoreError (retry may help)."""
        ...

    def list_threads(self, index: ThreadIndex, key: str, first: int, after: str | None) -> Page[Thread]: ...

    def list_ledger(self, index: LedgerIndex, key: str, first: int, after: str | None) -> Page[LedgerEntry]: ...

    def due_thread_ids(self, shard: int, now: datetime, limit: int) -> list[str]:
        """Ids of threads whose follow-up is SCHEDULED and due at or before `now` (oldest
        first), from the sparse due index of one shard, 0 to due_shards - 1."""
        ...

    def claim_due(self, thread_id: str, owner: str, now: datetime, until: datetime) -> Thread | None:
        """R30: lease a thread whose follow-up is SCHEDULED and due at `now` to `owner` until
        `until`, atomically, if no other owner's lease is live (an expired one, or `owner`'s
        own, does not stop it); the thread as stored after, one version on. None when it is
        not due, not scheduled, missing, or leased to another owner. Not a `Changes` commit:
        the lease is no state a use case decides on, only who may decide."""
        ...

    def report_cohorts(
        self, contract_id: str, first_day: date, last_day: date, recruiter_id: str | None = None
    ) -> list[CohortFigures]:
        """The contract's cohort counters of the days first_day to last_day inclusive, every
        recruiter's or one recruiter's; cohorts with nothing counted are absent. Reads
        counters only, never a thread (R83)."""
        ...

    def contract_recruiter_ids(self, contract_id: str) -> list[str]:
        """Every recruiter with a seat on the contract (R80: one row each)."""
        ...


class ReportRepair(Protocol):
    """What the recount (`inmail recount`) reads and corrects: whole tables, so never on a
    request or sweep path."""

    def all_threads(self) -> Iterator[Thread]:
        """Every thread, each as last committed when read (strongly consistent)."""
        ...

    def all_ledger(self) -> Iterator[LedgerEntry]: ...

    def all_cohorts(self, contract_id: str | None = None) -> list[CohortFigures]:
        """Every cohort's counters (of one contract), strongly consistent."""
        ...

    def correct_cohort(self, cohort: Cohort, deltas: Mapping[ReportMetric, int], expected_version: int) -> bool:
        """Add `deltas` to the cohort's counters if its version is still `expected_version`
        (0: no item yet); False, and nothing written, if a write came in between."""
        ...


class Delivery(Protocol):
    """Puts a message in the candidate's inbox. In DynamoDB the inbox is the thread's
    inbox index, so delivering is committing the delivered state with what it pays."""

    def deliver(self, changes: Changes) -> None:
        """Raises TransientDeliveryError when a retry may help; Conflict and LimitExceeded
        pass through."""
        ...


class WorkQueue(Protocol):
    """Where a sweep hands off the follow-ups it leaves to the fan-out workers (SQS)."""

    def send(self, hand_offs: list[Any]) -> list[int]:
        """Queue each (services.fan_out.HandOff, at most 10 at once); returns the positions
        of those the queue refused (none sent raises)."""
        ...
