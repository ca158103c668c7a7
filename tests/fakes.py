"""In-memory doubles of the ports. MemoryStore keeps DynamoStore's semantics, and
tests/store/test_store_contract.py runs one contract on both so it cannot drift: every
commit all-or-nothing; versions, ids and expects checked in DynamoDB's order (the first
failed condition names the error); counters refused past their limit; a transaction with
one item twice or over 100 items refused as DynamoDB refuses it; listings newest first on
the same index keys, with the same opaque cursors (a position inside the caller's own
partition, refused otherwise); the due index sharded as DynamoStore shards it."""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from inmail.domain.errors import Conflict, LimitExceeded, NameTaken, TransientDeliveryError, TransientStoreError
from inmail.domain.model import (
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
from inmail.domain.ports import LedgerIndex, ThreadIndex
from inmail.domain.rules import invalid_cursor, template_name_key
from inmail.store.codec import created_key, sortable
from inmail.store.dynamo import due_shard

# DynamoDB's TransactWriteItems limit.
MAX_TRANSACTION_ITEMS = 100


class InvalidTransaction(Exception):
    """What DynamoDB answers with a ValidationException: a caller's bug, never a lost race."""


def _inbox_key(t: Thread) -> str | None:
    return t.candidate_id if t.in_inbox else None


def _awaiting_key(t: Thread) -> str | None:
    return t.recruiter_id if t.in_awaiting_reply else None


# The thread indexes: (partition attribute, its value for a thread or None when the sparse
# index leaves the thread out); the sort key is created_key, as in store/models.py.
THREAD_INDEXES: dict[ThreadIndex, tuple[str, Callable[[Thread], str | None]]] = {
    ThreadIndex.RECRUITER: ("recruiter_id", lambda t: t.recruiter_id),
    ThreadIndex.CONTRACT: ("contract_id", lambda t: t.contract_id),
    ThreadIndex.INBOX: ("inbox_candidate_id", _inbox_key),
    ThreadIndex.AWAITING: ("awaiting_recruiter_id", _awaiting_key),
}
LEDGER_INDEXES: dict[LedgerIndex, str] = {LedgerIndex.CONTRACT: "contract_id", LedgerIndex.RECRUITER: "recruiter_id"}


def _at_key(e: LedgerEntry) -> str:
    return f"{sortable(e.at)}#{e.entry_id}"


@dataclass
class MemoryStore:
    contracts: dict[str, Contract] = field(default_factory=dict)
    seats: dict[str, Seat] = field(default_factory=dict)
    candidates: dict[str, Candidate] = field(default_factory=dict)
    threads: dict[str, Thread] = field(default_factory=dict)
    ledger: dict[str, LedgerEntry] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    # The report's counters per cohort, and the number of updates each has had.
    cohorts: dict[Cohort, Counter[ReportMetric]] = field(default_factory=dict)
    cohort_versions: dict[Cohort, int] = field(default_factory=dict)
    # R92: (contract, template id) -> template; (contract, name key) -> the template holding it.
    templates: dict[tuple[str, str], Template] = field(default_factory=dict)
    names: dict[tuple[str, str], str] = field(default_factory=dict)
    batches: dict[str, Batch] = field(default_factory=dict)
    # Shards of the due index (Settings.due_shards), spread as DynamoStore spreads them.
    due_shards: int = 1
    commits: int = 0
    # A hook run before each commit: tests use it to inject faults or interleavings.
    before_commit: Callable[[Changes], None] | None = None
    # The same before the recount corrects a cohort (traffic racing the recount).
    before_correct: Callable[[Cohort], None] | None = None
    # The same before each claim (thread id, owner).
    before_claim: Callable[[str, str], None] | None = None
    claims: int = 0
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

    def get_candidates(self, candidate_ids: list[str]) -> dict[str, Candidate]:
        return {cid: self.candidates[cid] for cid in candidate_ids if cid in self.candidates}

    def get_threads(self, thread_ids: list[str]) -> dict[str, Thread]:
        return {tid: self.threads[tid] for tid in thread_ids if tid in self.threads}

    def get_template(self, contract_id: str, template_id: str) -> Template | None:
        return self.templates.get((contract_id, template_id))

    def list_templates(self, contract_id: str) -> list[Template]:
        mine = [t for (cid, _), t in self.templates.items() if cid == contract_id]
        return sorted(mine, key=lambda t: (template_name_key(t.name), t.template_id))

    def get_batch(self, batch_id: str) -> Batch | None:
        return self.batches.get(batch_id)

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
            for change in changes.cohorts:
                self._add_to_cohort(change.cohort, change.deltas)
            self._apply_templates(changes)
            self.commits += 1

    def _add_to_cohort(self, cohort: Cohort, deltas: Mapping[ReportMetric, int]) -> None:
        """As DynamoDB's ADD on the item's numbers: absent counts as 0; the item stays even
        when its numbers come back to 0."""
        self.cohorts.setdefault(cohort, Counter()).update(deltas)
        self.cohort_versions[cohort] = self.cohort_versions.get(cohort, 0) + 1

    def _apply_templates(self, changes: Changes) -> None:
        for template in changes.deleted_templates:
            del self.templates[(template.contract_id, template.template_id)]
        for claim in changes.released_names:
            del self.names[(claim.contract_id, claim.name_key)]
        for template, _ in changes.templates:
            self.templates[(template.contract_id, template.template_id)] = template
        for claim in changes.name_claims:
            self.names[(claim.contract_id, claim.name_key)] = claim.template_id
        for batch, _ in changes.batches:
            self.batches[batch.batch_id] = batch

    def _check(self, changes: Changes) -> None:
        """DynamoStore's refusals, in its order: a limit below the delta before anything is
        sent; then a malformed transaction; then the first failed condition in the order of
        DynamoDB's cancellation reasons (condition checks, deletes, puts, counter updates)."""
        for counter in changes.counters:
            if counter.limit is not None and counter.delta > 0 and counter.limit < counter.delta:
                raise LimitExceeded(counter.kind)
        self._check_shape(changes)
        for expect in changes.expects:
            label, table = self._table(expect.entity)
            current = table.get(expect.entity.key)
            if current is None or current.version != expect.entity.version:
                raise Conflict(label)
        self._check_deletes(changes)
        self._check_puts(changes)
        for entry in changes.ledger:
            if entry.entry_id in self.ledger:
                raise Conflict("ledger")
        self._check_template_puts(changes)
        for counter in changes.counters:
            over = counter.limit is not None and self.counters.get(counter.key, 0) + counter.delta > counter.limit
            if over and counter.delta > 0:
                raise LimitExceeded(counter.kind)

    def _check_puts(self, changes: Changes) -> None:
        """Each put's version condition: absent when expected is None, else that version."""
        puts: list[tuple[str, dict[str, Any], list[tuple[Any, int | None]], str]] = [
            ("thread", self.threads, list(changes.threads), "thread_id"),
            ("contract", self.contracts, list(changes.contracts), "contract_id"),
            ("seat", self.seats, list(changes.seats), "recruiter_id"),
            ("candidate", self.candidates, list(changes.candidates), "candidate_id"),
        ]
        for label, table, writes, key_attr in puts:
            for item, expected in writes:
                stored = table.get(getattr(item, key_attr))
                if expected is None and stored is not None:
                    raise Conflict(label)
                if expected is not None and (stored is None or stored.version != expected):
                    raise Conflict(label)

    def _check_deletes(self, changes: Changes) -> None:
        """R92: a template deleted on the version read; a name released only by its holder."""
        for deleted in changes.deleted_templates:
            current = self.templates.get((deleted.contract_id, deleted.template_id))
            if current is None or current.version != deleted.version:
                raise Conflict("template")
        for claim in changes.released_names:
            if self.names.get((claim.contract_id, claim.name_key)) != claim.template_id:
                raise Conflict("name")

    def _check_template_puts(self, changes: Changes) -> None:
        """Templates and batches on their version; a name claimed only while free (NameTaken)."""
        versioned: list[tuple[Any, int | None]] = [
            (self.templates.get((t.contract_id, t.template_id)), expected) for t, expected in changes.templates
        ]
        for claim in changes.name_claims:
            if (claim.contract_id, claim.name_key) in self.names:
                raise NameTaken()
        versioned += [(self.batches.get(b.batch_id), expected) for b, expected in changes.batches]
        for current, expected in versioned:
            if expected is None and current is not None:
                raise Conflict("template or batch")
            if expected is not None and (current is None or current.version != expected):
                raise Conflict("template or batch")

    def _check_shape(self, changes: Changes) -> None:
        items = [(self._table(e.entity)[0], e.entity.key) for e in changes.expects]
        items += [("thread", t.thread_id) for t, _ in changes.threads]
        items += [("contract", c.contract_id) for c, _ in changes.contracts]
        items += [("seat", s.recruiter_id) for s, _ in changes.seats]
        items += [("candidate", c.candidate_id) for c, _ in changes.candidates]
        items += [("ledger", e.entry_id) for e in changes.ledger]
        items += [("counter", c.key) for c in changes.counters]
        items += [("report", f"{c.cohort.contract_id}#{c.cohort.day}#{c.cohort.recruiter_id}") for c in changes.cohorts]
        items += [("template", t.template_id) for t, _ in changes.templates]
        items += [("template", t.template_id) for t in changes.deleted_templates]
        items += [("name", (c.contract_id, c.name_key)) for c in (*changes.name_claims, *changes.released_names)]
        items += [("batch", b.batch_id) for b, _ in changes.batches]
        if len(items) > MAX_TRANSACTION_ITEMS:
            raise InvalidTransaction(f"{len(items)} items in one transaction (DynamoDB takes {MAX_TRANSACTION_ITEMS})")
        if len(set(items)) != len(items):
            raise InvalidTransaction("a transaction cannot include multiple operations on one item")

    def _table(self, entity: Contract | Seat | Candidate) -> tuple[str, dict[str, Any]]:
        if isinstance(entity, Contract):
            return "contract", self.contracts
        if isinstance(entity, Seat):
            return "seat", self.seats
        return "candidate", self.candidates

    # ---- listings: DynamoStore's index keys and cursors ------------------------------------

    def list_threads(self, index: ThreadIndex, key: str, first: int, after: str | None) -> Page[Thread]:
        hash_attr, partition = THREAD_INDEXES[index]
        rows = [(created_key(t), t) for t in self.threads.values() if partition(t) == key]
        return _page(rows, ("thread_id", hash_attr, "created_key"), key, first, after, lambda t: t.thread_id)

    def list_ledger(self, index: LedgerIndex, key: str, first: int, after: str | None) -> Page[LedgerEntry]:
        hash_attr = LEDGER_INDEXES[index]
        rows = [(_at_key(e), e) for e in self.ledger.values() if getattr(e, hash_attr) == key]
        return _page(rows, ("entry_id", hash_attr, "at_key"), key, first, after, lambda e: e.entry_id)

    def due_thread_ids(self, shard: int, now: datetime, limit: int) -> list[str]:
        due = []
        for t in self.threads.values():
            fu = t.scheduled_follow_up
            in_index = fu is not None and fu.scheduled_for is not None
            if in_index and due_shard(t.thread_id, self.due_shards) == str(shard):
                assert fu is not None and fu.scheduled_for is not None
                if sortable(fu.scheduled_for) <= sortable(now):
                    due.append((sortable(fu.scheduled_for), t.thread_id))
        return [tid for _, tid in sorted(due)[:limit]]

    def claim_due(self, thread_id: str, owner: str, now: datetime, until: datetime) -> Thread | None:
        if self.before_claim is not None:
            self.before_claim(thread_id, owner)
        with self._lock:
            t = self.threads.get(thread_id)
            fu = t.scheduled_follow_up if t is not None else None
            if t is None or fu is None or fu.scheduled_for is None or sortable(fu.scheduled_for) > sortable(now):
                return None
            live = t.lease_expires_at is not None and t.lease_expires_at > now
            if t.lease_owner not in (None, owner) and live:
                return None
            claimed = replace(t, lease_owner=owner, lease_expires_at=until, version=t.version + 1)
            self.threads[thread_id] = claimed
            self.claims += 1
            return claimed

    # ---- the report ------------------------------------------------------------------

    def _figures(self, cohort: Cohort) -> CohortFigures:
        figures = {m: n for m, n in self.cohorts[cohort].items() if n}
        return CohortFigures(cohort, figures, self.cohort_versions[cohort])

    def report_cohorts(
        self, contract_id: str, first_day: date, last_day: date, recruiter_id: str | None = None
    ) -> list[CohortFigures]:
        """DynamoStore's order: the contract's partition by day, then recruiter id."""
        with self._lock:
            found = [
                c
                for c in self.cohorts
                if c.contract_id == contract_id
                and first_day <= c.day <= last_day
                and recruiter_id in (None, c.recruiter_id)
            ]
            return [self._figures(c) for c in sorted(found, key=lambda c: (c.day, c.recruiter_id))]

    def contract_recruiter_ids(self, contract_id: str) -> list[str]:
        return sorted(s.recruiter_id for s in self.seats.values() if s.contract_id == contract_id)

    def all_threads(self) -> Iterator[Thread]:
        with self._lock:
            threads = list(self.threads.values())
        yield from threads

    def all_ledger(self) -> Iterator[LedgerEntry]:
        with self._lock:
            entries = list(self.ledger.values())
        yield from entries

    def all_cohorts(self, contract_id: str | None = None) -> list[CohortFigures]:
        with self._lock:
            return [self._figures(c) for c in sorted(self.cohorts) if contract_id in (None, c.contract_id)]

    def correct_cohort(self, cohort: Cohort, deltas: Mapping[ReportMetric, int], expected_version: int) -> bool:
        if self.before_correct is not None:
            self.before_correct(cohort)
        with self._lock:
            if self.cohort_versions.get(cohort, 0) != expected_version:
                return False
            self._add_to_cohort(cohort, deltas)
            return True

    # ---- what tests check ------------------------------------------------------------

    def balance_used(self, contract_id: str) -> int:
        """Credits used across all months, from the counters."""
        return sum(v for k, v in self.counters.items() if k.startswith(f"credits#{contract_id}#"))


def _page(
    rows: list[tuple[str, Any]],
    key_attrs: tuple[str, str, str],
    key: str,
    first: int,
    after: str | None,
    item_id: Callable[[Any], str],
) -> Page[Any]:
    """Newest first by the index's sort key; a cursor resumes after its sort key, like
    DynamoDB's ExclusiveStartKey (also when that item has since left a sparse index)."""
    id_attr, hash_attr, sort_attr = key_attrs
    rows.sort(key=lambda row: row[0], reverse=True)
    if after:  # "" reads from the start, as DynamoStore does
        start = _decode_cursor(after, key, hash_attr, key_attrs)[sort_attr]
        rows = [row for row in rows if row[0] < start]
    page = rows[:first]
    cursors = [_encode_cursor({id_attr: item_id(item), hash_attr: key, sort_attr: sort}) for sort, item in page]
    return Page([item for _, item in page], cursors, len(rows) > first)


def _encode_cursor(raw: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).decode()


def _decode_cursor(cursor: str, key: str, hash_attr: str, key_attrs: tuple[str, ...]) -> dict[str, str]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise invalid_cursor() from exc
    valid = (
        isinstance(raw, dict)
        and set(raw) == set(key_attrs)
        and all(isinstance(v, str) and 0 < len(v) <= 512 for v in raw.values())
        and raw[hash_attr] == key
    )
    if not valid:
        raise invalid_cursor()
    return raw


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
