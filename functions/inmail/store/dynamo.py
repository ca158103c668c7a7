"""The Store port on DynamoDB through PynamoDB. DynamoDB errors become domain errors here."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, TypeVar, assert_never

from botocore.awsrequest import AWSResponse
from pynamodb.attributes import Attribute
from pynamodb.exceptions import (
    DeleteError,
    PutError,
    PynamoDBException,
    TransactWriteError,
    UpdateError,
)
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ..config import Settings
from ..domain import rules
from ..domain.errors import Conflict, LimitExceeded, NameTaken, TransientDeliveryError, TransientStoreError
from ..domain.model import (
    Batch,
    Candidate,
    Changes,
    Cohort,
    CohortChange,
    CohortFigures,
    Contract,
    CounterChange,
    Expect,
    LedgerEntry,
    LedgerKind,
    NameClaim,
    Page,
    ReportMetric,
    Seat,
    Template,
    Thread,
)
from ..domain.ports import LedgerIndex, ThreadIndex
from ..domain.rules import invalid_cursor
from . import codec
from .models import (
    BatchModel,
    CandidateModel,
    ContractModel,
    CounterModel,
    LedgerModel,
    ReportModel,
    SeatModel,
    TemplateModel,
    ThreadModel,
    configure,
)

TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "ThrottlingError",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
        "TransactionConflict",
        "TransactionInProgressException",
    }
)
M = TypeVar("M", bound=Model)

CONDITION_FAILED = frozenset({"ConditionalCheckFailedException", "ConditionalCheckFailed"})


# The report's counter attribute of each metric (an AttributeError at import if one is missing).
_METRIC_ATTRIBUTES: dict[ReportMetric, Any] = {metric: getattr(ReportModel, metric.value) for metric in ReportMetric}


def due_shard(thread_id: str, shards: int) -> str:
    return str(zlib.crc32(thread_id.encode()) % shards)


class DynamoStore:
    def __init__(self, settings: Settings):
        self._settings = settings
        # Every model and TransactWriteItems on one session and client, built here.
        self._connection = configure(settings)
        self.due_shards = settings.due_shards

    @property
    def session(self) -> Any:
        """The botocore session every client of this store is made from."""
        return self._connection.session

    def transaction_client(self) -> Any:
        """The botocore client transactions go through (for metering): the models' own."""
        return self._connection.client

    def reconnect(self) -> None:
        """A new session and client, keeping the service models already loaded: no
        credentials or pooled sockets from before (after a SnapStart restore)."""
        old = self._connection
        self._connection = configure(self._settings, models_from=old.session)
        old.client.close()

    @contextmanager
    def answered_in_process(self, *entities: Contract | Seat | Candidate) -> Iterator[Counter[str]]:
        """Every DynamoDB request of this store answered here and none sent: a GetItem on
        an entity's table finds that entity, on any other table nothing; every write is
        accepted and not applied. Requests still go all the way through PynamoDB and
        botocore (built, signed, their answers parsed). Yields the operations answered.
        For the SnapStart prime: a request's whole path warmed, against no table."""
        items = {}
        for entity in entities:
            model = _entity_model(entity)
            items[model.Meta.table_name] = model.serialize()
        answered: Counter[str] = Counter()

        def answer(request: Any, **_: Any) -> AWSResponse:
            target = request.headers["X-Amz-Target"]
            operation = (target.decode() if isinstance(target, bytes) else target).rpartition(".")[2]
            answered[operation] += 1
            table = json.loads(request.body or b"{}").get("TableName")
            found = {"Item": items[table]} if operation == "GetItem" and table in items else {}
            headers = {"content-type": "application/x-amz-json-1.0"}
            return AWSResponse(request.url, 200, headers, _Body(json.dumps(found).encode()))

        events = self._connection.client.meta.events
        events.register_first("before-send.dynamodb", answer)
        try:
            yield answered
        finally:
            events.unregister("before-send.dynamodb", answer)

    # ---- reads ------------------------------------------------------------------

    def get_contract(self, contract_id: str) -> Contract | None:
        m = self._get(ContractModel, contract_id)
        if m is None:
            return None
        return Contract(
            contract_id=m.contract_id,
            name=m.name,
            monthly_credits=int(m.monthly_credits),
            max_daily_limit=int(m.max_daily_limit),
            follow_ups_enabled=bool(m.follow_ups_enabled),
            follow_ups_changed_by=m.follow_ups_changed_by,
            follow_ups_changed_at=codec.parse(m.follow_ups_changed_at),
            version=int(m.version),
            send_window=codec.send_window_from(m.send_window),
            send_window_changed_by=m.send_window_changed_by,
            send_window_changed_at=codec.parse(m.send_window_changed_at),
            reschedule_on_daily_limit=bool(m.reschedule_on_daily_limit),
            reschedule_changed_by=m.reschedule_changed_by,
            reschedule_changed_at=codec.parse(m.reschedule_changed_at),
        )

    def get_seat(self, recruiter_id: str) -> Seat | None:
        m = self._get(SeatModel, recruiter_id)
        if m is None:
            return None
        return Seat(
            recruiter_id=m.recruiter_id,
            contract_id=m.contract_id,
            daily_limit=int(m.daily_limit),
            admin=bool(m.admin),
            restricted=bool(m.restricted),
            version=int(m.version),
            name=m.name,
        )

    def get_candidate(self, candidate_id: str) -> Candidate | None:
        m = self._get(CandidateModel, candidate_id)
        return None if m is None else _candidate_from(m)

    def get_thread(self, thread_id: str) -> Thread | None:
        m = self._get(ThreadModel, thread_id)
        return None if m is None else _thread_from(m)

    def get_candidates(self, candidate_ids: list[str]) -> dict[str, Candidate]:
        """One BatchGetItem per 100 ids (PynamoDB retries the unprocessed keys)."""
        return {c.candidate_id: c for c in map(_candidate_from, self._batch_get(CandidateModel, candidate_ids))}

    def get_threads(self, thread_ids: list[str]) -> dict[str, Thread]:
        return {t.thread_id: t for t in map(_thread_from, self._batch_get(ThreadModel, thread_ids))}

    def _batch_get(self, model: type[M], keys: list[str]) -> list[M]:
        if not keys:
            return []
        with _mapped_errors():
            return list(model.batch_get(list(dict.fromkeys(keys)), consistent_read=True))

    def get_template(self, contract_id: str, template_id: str) -> Template | None:
        with _mapped_errors():
            try:
                m = TemplateModel.get(contract_id, template_item_key(template_id), consistent_read=True)
            except TemplateModel.DoesNotExist:
                return None
        return _template_from(m)

    def list_templates(self, contract_id: str) -> list[Template]:
        """The contract's templates (at most TEMPLATES_MAX), by name."""
        with _mapped_errors():
            items = list(
                TemplateModel.query(
                    contract_id, TemplateModel.item_key.startswith(TEMPLATE_PREFIX), consistent_read=True
                )
            )
        return sorted(map(_template_from, items), key=_by_name)

    def get_batch(self, batch_id: str) -> Batch | None:
        m = self._get(BatchModel, batch_id)
        if m is None:
            return None
        return codec.batch_from_document(m.batch_id, m.recruiter_id, m.contract_id, int(m.version), m.document)

    def get_counter(self, key: str) -> int:
        m = self._get(CounterModel, key)
        return 0 if m is None or m.used is None else int(m.used)

    def _get(self, model: type[M], key: str) -> M | None:
        with _mapped_errors():
            try:
                return model.get(key, consistent_read=True)
            except model.DoesNotExist:
                return None

    # ---- listings -----------------------------------------------------------------

    def list_threads(self, index: ThreadIndex, key: str, first: int, after: str | None) -> Page[Thread]:
        """The index holds keys only: one Query for the page's keys, one BatchGetItem for its
        threads (eventually consistent, like the index). A thread read after its index entry
        may have left the listing meanwhile (a reply takes it out of Awaiting Reply): it is
        left out, as the index itself will soon leave it out."""
        gsi: Any = {
            ThreadIndex.RECRUITER: ThreadModel.by_recruiter,
            ThreadIndex.CONTRACT: ThreadModel.by_contract,
            ThreadIndex.INBOX: ThreadModel.inbox,
            ThreadIndex.AWAITING: ThreadModel.awaiting,
        }[index]
        hash_attr = {
            ThreadIndex.RECRUITER: "recruiter_id",
            ThreadIndex.CONTRACT: "contract_id",
            ThreadIndex.INBOX: "inbox_candidate_id",
            ThreadIndex.AWAITING: "awaiting_recruiter_id",
        }[index]
        key_attrs = ("thread_id", hash_attr, "created_key")
        entries, cursors, more = self._page(gsi.query, key, hash_attr, key_attrs, first, after)
        threads = self._listed_threads([m.thread_id for m in entries])
        kept = [
            (thread, cursor)
            for m, cursor in zip(entries, cursors, strict=True)
            if (thread := threads.get(m.thread_id)) is not None and listed(index, key, thread)
        ]
        return Page([t for t, _ in kept], [c for _, c in kept], more)

    def _listed_threads(self, thread_ids: list[str]) -> dict[str, Thread]:
        """A listing's threads by id (BatchGetItem, 100 keys a request), eventually consistent
        like the index that listed them (half the read units of `get_threads`)."""
        if not thread_ids:
            return {}
        with _mapped_errors():
            return {m.thread_id: _thread_from(m) for m in ThreadModel.batch_get(thread_ids, consistent_read=False)}

    def list_ledger(self, index: LedgerIndex, key: str, first: int, after: str | None) -> Page[LedgerEntry]:
        gsi: Any = LedgerModel.by_contract if index is LedgerIndex.CONTRACT else LedgerModel.by_recruiter
        hash_attr = "contract_id" if index is LedgerIndex.CONTRACT else "recruiter_id"
        items, cursors, more = self._page(gsi.query, key, hash_attr, ("entry_id", hash_attr, "at_key"), first, after)
        return Page([_entry_from(m) for m in items], cursors, more)

    def _page(
        self,
        query: Callable[..., Iterator[Any]],
        key: str,
        hash_attr: str,
        key_attrs: tuple[str, ...],
        first: int,
        after: str | None,
    ) -> tuple[list[Any], list[str], bool]:
        """Newest first; one item more than asked tells whether a next page exists."""
        start = _decode_cursor(after, key, hash_attr, key_attrs) if after else None
        with _mapped_errors():
            results = list(
                query(
                    key,
                    scan_index_forward=False,
                    limit=first + 1,
                    page_size=first + 1,
                    last_evaluated_key=start,
                )
            )
        more = len(results) > first
        items = results[:first]
        return items, [_encode_cursor(m, key_attrs) for m in items], more

    def due_thread_ids(self, shard: int, now: datetime, limit: int) -> list[str]:
        with _mapped_errors():
            return [
                m.thread_id
                for m in ThreadModel.due.query(
                    str(shard),
                    ThreadModel.due_at <= codec.sortable(now),
                    limit=limit,
                    page_size=min(limit, 1000),
                )
            ]

    # ---- the report (R80-R83) ----------------------------------------------------------

    def report_cohorts(
        self, contract_id: str, first_day: date, last_day: date, recruiter_id: str | None = None
    ) -> list[CohortFigures]:
        with _mapped_errors():
            if recruiter_id is None:
                # One Query of the contract's partition: sort keys "day#recruiter" from the
                # first day up to the last day's last recruiter ('$' sorts after '#').
                key = ReportModel.cohort_key.between(first_day.isoformat(), f"{last_day.isoformat()}$")
                items = ReportModel.query(contract_id, key, consistent_read=True)
            else:
                day = ReportModel.day.between(first_day.isoformat(), last_day.isoformat())
                items = ReportModel.by_recruiter.query(recruiter_id, day)
            return [_cohort_from(m) for m in items if m.contract_id == contract_id]

    def contract_recruiter_ids(self, contract_id: str) -> list[str]:
        with _mapped_errors():
            return [m.recruiter_id for m in SeatModel.by_contract.query(contract_id)]

    # The recount's (ports.ReportRepair): whole tables, strongly consistent.

    def all_threads(self) -> Iterator[Thread]:
        with _mapped_errors():
            for m in ThreadModel.scan(consistent_read=True):
                yield _thread_from(m)

    def all_ledger(self) -> Iterator[LedgerEntry]:
        with _mapped_errors():
            for m in LedgerModel.scan(consistent_read=True):
                yield _entry_from(m)

    def all_cohorts(self, contract_id: str | None = None) -> list[CohortFigures]:
        with _mapped_errors():
            items = (
                ReportModel.scan(consistent_read=True)
                if contract_id is None
                else ReportModel.query(contract_id, consistent_read=True)
            )
            return [_cohort_from(m) for m in items]

    def correct_cohort(self, cohort: Cohort, deltas: Mapping[ReportMetric, int], expected_version: int) -> bool:
        cond: Condition = (
            ReportModel.contract_id.does_not_exist()
            if expected_version == 0
            else ReportModel.version == expected_version
        )
        op = _cohort_op(CohortChange(cohort, deltas), cond)
        try:
            with _mapped_errors([op]):
                op.direct()
        except Conflict:
            return False
        return True

    # ---- writes -------------------------------------------------------------------

    def claim_due(
        self, thread_id: str, owner: str, now: datetime, until: datetime, handed_by: str | None = None
    ) -> Thread | None:
        """One conditional UpdateItem: the lease set, the version moved on, the thread as
        stored after it returned (no read before). The condition is the claim's rule (R30):
        the follow-up is SCHEDULED and due (its sparse `due_at` exists and is at or before
        `now`), and the lease is free, expired, or already `owner`'s (or `handed_by`'s)."""
        at = codec.sortable(now)
        free = ThreadModel.lease_until.does_not_exist() | (ThreadModel.lease_until <= at)
        owners = [owner] if handed_by is None else [owner, handed_by]
        condition = (ThreadModel.due_at <= at) & (free | ThreadModel.lease_owner.is_in(*owners))
        actions: list[Action] = [
            ThreadModel.lease_owner.set(owner),
            ThreadModel.lease_until.set(codec.sortable(until)),
            ThreadModel.version.add(1),
        ]
        item = ThreadModel(thread_id)
        with _mapped_errors():
            try:
                item.update(actions=actions, condition=condition, add_version_condition=False)
            except UpdateError as exc:
                if _cause_code(exc) in CONDITION_FAILED:
                    return None
                raise
        return _thread_from(item)

    def commit(self, changes: Changes) -> None:
        """One TransactWriteItems for everything; a single write goes alone (cheaper)."""
        ops: list[_Op] = []
        # Added in the order PynamoDB sends them (condition checks, puts, updates), which is
        # the order of DynamoDB's cancellation reasons: each reason maps to its own op.
        for expect in changes.expects:
            ops.append(_unchanged(expect))
        for thread, expected in changes.threads:
            ops.append(_put("thread", self._thread_model(thread), _version_condition(ThreadModel, expected)))
        for contract, expected in changes.contracts:
            ops.append(_put("contract", _contract_model(contract), _version_condition(ContractModel, expected)))
        for seat, expected in changes.seats:
            ops.append(_put("seat", _seat_model(seat), _version_condition(SeatModel, expected)))
        for candidate, expected in changes.candidates:
            ops.append(_put("candidate", _candidate_model(candidate), _version_condition(CandidateModel, expected)))
        for entry in changes.ledger:
            ops.append(_put("ledger", _entry_model(entry), LedgerModel.entry_id.does_not_exist()))
        for counter in changes.counters:
            ops.append(_counter_op(counter))
        for cohort in changes.cohorts:
            ops.append(_cohort_op(cohort))
        ops += _template_ops(changes)
        for batch, expected in changes.batches:
            ops.append(_put("batch", _batch_model(batch), _version_condition(BatchModel, expected)))
        # DynamoDB's cancellation reasons come in the order PynamoDB sends the items:
        # condition checks, deletes, puts, updates.
        ops.sort(key=lambda op: op.order)
        if len(ops) == 1:
            with _mapped_errors(ops):
                ops[0].direct()
            return
        with _mapped_errors(ops), TransactWrite(connection=self._connection) as tx:
            for op in ops:
                op.add(tx)

    def _thread_model(self, t: Thread) -> ThreadModel:
        fu = t.scheduled_follow_up
        return ThreadModel(
            t.thread_id,
            version=t.version,
            contract_id=t.contract_id,
            recruiter_id=t.recruiter_id,
            candidate_id=t.candidate_id,
            created_key=codec.created_key(t),
            follow_up_status=t.follow_up.status.value if t.follow_up else None,
            # The sparse indexes: the inbox once delivered, Awaiting Reply by Thread.status
            # (R29, R61), due while the follow-up is SCHEDULED.
            inbox_candidate_id=t.candidate_id if t.in_inbox else None,
            awaiting_recruiter_id=t.recruiter_id if t.in_awaiting_reply else None,
            due_shard=due_shard(t.thread_id, self.due_shards) if fu else None,
            due_at=codec.sortable(fu.scheduled_for) if fu and fu.scheduled_for else None,
            document=codec.thread_to_document(t),
            lease_owner=t.lease_owner,
            lease_until=codec.sortable(t.lease_expires_at) if t.lease_expires_at else None,
        )


class _Body:
    """A response body as botocore reads one (`AWSResponse.raw`)."""

    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class StoreDelivery:
    """Delivery into the candidate's inbox = committing the delivered state (see ports)."""

    def __init__(self, store: DynamoStore):
        self._store = store

    def deliver(self, changes: Changes) -> None:
        try:
            self._store.commit(changes)
        except TransientStoreError as exc:
            raise TransientDeliveryError(str(exc)) from exc


# ---- helpers ----------------------------------------------------------------------


def _version_condition(model: Any, expected: int | None) -> Condition:
    if expected is None:
        attr: Attribute[Any] = model._hash_key_attribute()
        return attr.does_not_exist()
    cond: Condition = model.version == expected
    return cond


# Where an op goes in the TransactItems PynamoDB sends.
_CHECK, _DELETE, _PUT, _UPDATE = range(4)


@dataclass(frozen=True)
class _Op:
    """One item of a commit: how it joins a transaction, how it goes alone, and what its
    condition failing means (a race lost, or a counter's limit)."""

    add: Callable[[TransactWrite], None]
    direct: Callable[[], None]
    refused: Callable[[], Exception]
    order: int = _PUT


def _put(what: str, model: Model, cond: Condition) -> _Op:
    def direct() -> None:
        model.save(condition=cond, add_version_condition=False)

    return _Op(lambda tx: tx.save(model, condition=cond), direct, lambda: Conflict(what))


def _unchanged(expect: Expect) -> _Op:
    """A condition check: the entity still has the version it was read at."""
    model_cls: Any
    entity = expect.entity
    if isinstance(entity, Contract):
        model_cls, what = ContractModel, "contract"
    elif isinstance(entity, Seat):
        model_cls, what = SeatModel, "seat"
    elif isinstance(entity, Candidate):
        model_cls, what = CandidateModel, "candidate"
    else:
        assert_never(entity)
    cond = model_cls.version == entity.version

    def nothing() -> None:
        """A condition check alone writes nothing."""

    return _Op(
        lambda tx: tx.condition_check(model_cls, entity.key, condition=cond), nothing, lambda: Conflict(what), _CHECK
    )


def _counter_op(change: CounterChange) -> _Op:
    cond: Condition | None = None
    if change.limit is not None and change.delta > 0:
        if change.limit < change.delta:
            raise LimitExceeded(change.kind)
        cond = CounterModel.used.does_not_exist() | (CounterModel.used <= change.limit - change.delta)
    actions: list[Any] = [CounterModel.used.add(change.delta)]
    if change.expires_at is not None:
        actions.append(CounterModel.expires_at.set(int(change.expires_at.timestamp())))
    item = CounterModel(change.key)

    def direct() -> None:
        item.update(actions=actions, condition=cond, add_version_condition=False)

    return _Op(
        lambda tx: tx.update(item, actions=actions, condition=cond),
        direct,
        lambda: LimitExceeded(change.kind),
        _UPDATE,
    )


# ---- templates (R92) --------------------------------------------------------------------

TEMPLATE_PREFIX = "template#"
NAME_PREFIX = "name#"


def template_item_key(template_id: str) -> str:
    return f"{TEMPLATE_PREFIX}{template_id}"


def name_item_key(name_key: str) -> str:
    return f"{NAME_PREFIX}{hashlib.sha256(name_key.encode()).hexdigest()}"


def _delete(what: str, model: Model, cond: Condition, refused: Callable[[], Exception] | None = None) -> _Op:
    def direct() -> None:
        model.delete(condition=cond, add_version_condition=False)

    return _Op(lambda tx: tx.delete(model, condition=cond), direct, refused or (lambda: Conflict(what)), _DELETE)


def _template_ops(changes: Changes) -> list[_Op]:
    """Templates put on their version, deleted on it; a name claimed only while no template
    holds it (NameTaken), released only by the template holding it."""
    ops = [
        _put("template", _template_model(t), _version_condition(TemplateModel, expected))
        for t, expected in changes.templates
    ]
    ops += [
        _delete(
            "template",
            TemplateModel(t.contract_id, template_item_key(t.template_id)),
            TemplateModel.version == t.version,
        )
        for t in changes.deleted_templates
    ]
    for claim in changes.name_claims:
        put = _put("name", _claim_model(claim), TemplateModel.item_key.does_not_exist())
        ops.append(_Op(put.add, put.direct, NameTaken))
    ops += [
        _delete("name", _claim_model(claim), TemplateModel.template_id == claim.template_id)
        for claim in changes.released_names
    ]
    return ops


def _claim_model(claim: NameClaim) -> TemplateModel:
    return TemplateModel(claim.contract_id, name_item_key(claim.name_key), template_id=claim.template_id)


def _template_model(t: Template) -> TemplateModel:
    return TemplateModel(
        t.contract_id,
        template_item_key(t.template_id),
        template_id=t.template_id,
        version=t.version,
        name=t.name,
        subject=t.subject,
        body=t.body,
        follow_up_body=t.follow_up_body,
        author_id=t.author_id,
        updated_at=codec.iso(t.updated_at),
    )


def _template_from(m: TemplateModel) -> Template:
    updated = codec.parse(m.updated_at)
    assert updated is not None and m.name is not None and m.subject is not None and m.body is not None
    assert m.author_id is not None and m.version is not None
    return Template(
        template_id=m.template_id,
        contract_id=m.contract_id,
        name=m.name,
        subject=m.subject,
        body=m.body,
        follow_up_body=m.follow_up_body,
        author_id=m.author_id,
        updated_at=updated,
        version=int(m.version),
    )


def _by_name(t: Template) -> tuple[str, str]:
    return rules.template_name_key(t.name), t.template_id


def _batch_model(b: Batch) -> BatchModel:
    return BatchModel(
        b.batch_id,
        version=b.version,
        recruiter_id=b.recruiter_id,
        contract_id=b.contract_id,
        document=codec.batch_to_document(b),
    )


def cohort_key(cohort: Cohort) -> str:
    """The report item's sort key: a contract's cohorts by day, then recruiter."""
    return f"{cohort.day.isoformat()}#{cohort.recruiter_id}"


def _cohort_op(change: CohortChange, cond: Condition | None = None) -> _Op:
    """ADD each delta to its counter (and one to the version), in the commit's transaction."""
    cohort = change.cohort
    actions: list[Any] = [
        ReportModel.recruiter_id.set(cohort.recruiter_id),
        ReportModel.day.set(cohort.day.isoformat()),
        ReportModel.version.add(1),
    ]
    actions += [_METRIC_ATTRIBUTES[metric].add(delta) for metric, delta in change.deltas.items() if delta]
    item = ReportModel(cohort.contract_id, cohort_key(cohort))

    def direct() -> None:
        item.update(actions=actions, condition=cond, add_version_condition=False)

    return _Op(lambda tx: tx.update(item, actions=actions, condition=cond), direct, lambda: Conflict("report"), _UPDATE)


def _cohort_from(m: ReportModel) -> CohortFigures:
    figures = {metric: int(n) for metric, attr in _METRIC_ATTRIBUTES.items() if (n := getattr(m, attr.attr_name))}
    cohort = Cohort(m.contract_id, m.recruiter_id, date.fromisoformat(m.day))
    return CohortFigures(cohort, figures, int(m.version or 0))


def _contract_model(c: Contract) -> ContractModel:
    return ContractModel(
        c.contract_id,
        version=c.version,
        name=c.name,
        monthly_credits=c.monthly_credits,
        max_daily_limit=c.max_daily_limit,
        follow_ups_enabled=c.follow_ups_enabled,
        follow_ups_changed_by=c.follow_ups_changed_by,
        follow_ups_changed_at=codec.iso(c.follow_ups_changed_at),
        send_window=codec.send_window_to(c.send_window),
        send_window_changed_by=c.send_window_changed_by,
        send_window_changed_at=codec.iso(c.send_window_changed_at),
        reschedule_on_daily_limit=c.reschedule_on_daily_limit,
        reschedule_changed_by=c.reschedule_changed_by,
        reschedule_changed_at=codec.iso(c.reschedule_changed_at),
    )


def _candidate_from(m: CandidateModel) -> Candidate:
    return Candidate(
        m.candidate_id,
        m.name,
        bool(m.deleted),
        int(m.version),
        first_name=m.first_name,
        last_name=m.last_name,
        time_zone=m.time_zone,
    )


def _candidate_model(c: Candidate) -> CandidateModel:
    return CandidateModel(
        c.candidate_id,
        version=c.version,
        name=c.name,
        deleted=c.deleted,
        first_name=c.first_name,
        last_name=c.last_name,
        time_zone=c.time_zone,
    )


def _seat_model(s: Seat) -> SeatModel:
    return SeatModel(
        s.recruiter_id,
        version=s.version,
        contract_id=s.contract_id,
        daily_limit=s.daily_limit,
        admin=s.admin,
        restricted=s.restricted,
        name=s.name,
    )


def _entity_model(entity: Contract | Seat | Candidate) -> Model:
    if isinstance(entity, Contract):
        return _contract_model(entity)
    if isinstance(entity, Seat):
        return _seat_model(entity)
    return _candidate_model(entity)


def _entry_model(e: LedgerEntry) -> LedgerModel:
    return LedgerModel(
        e.entry_id,
        kind=e.kind.value,
        amount=e.amount,
        contract_id=e.contract_id,
        recruiter_id=e.recruiter_id,
        thread_id=e.thread_id,
        message_id=e.message_id,
        reason=e.reason,
        at=codec.iso(e.at),
        at_key=f"{codec.sortable(e.at)}#{e.entry_id}",
    )


def _entry_from(m: LedgerModel) -> LedgerEntry:
    at = codec.parse(m.at)
    assert at is not None
    return LedgerEntry(
        entry_id=m.entry_id,
        kind=LedgerKind(m.kind),
        amount=int(m.amount),
        contract_id=m.contract_id,
        recruiter_id=m.recruiter_id,
        thread_id=m.thread_id,
        message_id=m.message_id,
        reason=m.reason,
        at=at,
    )


def _thread_from(m: ThreadModel) -> Thread:
    thread = codec.thread_from_document(
        m.thread_id, m.contract_id, m.recruiter_id, m.candidate_id, int(m.version), m.document
    )
    if m.lease_owner is not None:  # the lease's own attributes win over the document's copy
        return replace(thread, lease_owner=m.lease_owner, lease_expires_at=codec.from_sortable(m.lease_until))
    return thread


def listed(index: ThreadIndex, key: str, t: Thread) -> bool:
    """Whether `t` belongs in the listing `index` gives for `key` (what the index's sparse
    attributes say, from the thread itself)."""
    if index is ThreadIndex.RECRUITER:
        return t.recruiter_id == key
    if index is ThreadIndex.CONTRACT:
        return t.contract_id == key
    if index is ThreadIndex.INBOX:
        return t.candidate_id == key and t.in_inbox
    return t.recruiter_id == key and t.in_awaiting_reply


def _encode_cursor(model: Model, key_attrs: tuple[str, ...]) -> str:
    raw = {name: getattr(model, name) for name in key_attrs}
    return base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).decode()


def _decode_cursor(cursor: str, key: str, hash_attr: str, key_attrs: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """A cursor names a position inside the caller's own partition, nothing else."""
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
    return {name: {"S": raw[name]} for name in key_attrs}


def _cause_code(exc: PynamoDBException) -> str | None:
    """DynamoDB's error code, or None when no answer came. PynamoDB's own
    `cause_response_code` raises AttributeError on a read timeout or a closed connection
    (botocore sets their `response` to None): the request may have landed, unseen."""
    response = getattr(exc.cause, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    code = error.get("Code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def _transient(codes: set[str], cause: str | None) -> bool:
    """Throttling, 5xx and transaction conflicts may pass; no code means no answer at all."""
    return bool(codes & TRANSIENT_CODES) or not cause


@contextmanager
def _mapped_errors(ops: list[_Op] | None = None) -> Iterator[None]:
    """DynamoDB's answers, in the domain's words: a failed condition is what its op says
    (DynamoDB gives one cancellation reason per op, in order)."""
    ops = ops or []

    def refused(i: int) -> Exception:
        return ops[i].refused() if i < len(ops) else Conflict("")

    try:
        yield
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        for i, reason in enumerate(reasons):
            if reason is not None and reason.code in CONDITION_FAILED:
                raise refused(i) from exc
        cause = _cause_code(exc)
        codes = {r.code for r in reasons if r is not None} | {cause or ""}
        if _transient(codes, cause):
            raise TransientStoreError(str(codes)) from exc
        raise
    except (PutError, UpdateError, DeleteError) as exc:
        cause = _cause_code(exc)
        if cause in CONDITION_FAILED:
            raise refused(0) from exc
        if _transient({cause or ""}, cause):
            raise TransientStoreError(str(cause)) from exc
        raise
    except PynamoDBException as exc:
        cause = _cause_code(exc)
        if _transient({cause or ""}, cause):
            raise TransientStoreError(str(cause)) from exc
        raise
