"""PynamoDB models: the tables template.yaml deploys (a contract test keeps them equal)."""

from __future__ import annotations

from typing import Any

import botocore.session
from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.connection import base as pynamodb_base
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ..config import Settings
from .service_data import store_loader

# Index names are part of the IAM policy and of template.yaml.
RECRUITER_INDEX = "by-recruiter-keys"
CONTRACT_INDEX = "by-contract-keys"
INBOX_INDEX = "inbox-keys"
AWAITING_INDEX = "awaiting-reply-keys"
DUE_INDEX = "due"
# The ledger's indexes (full projection: an entry is written once, so a copy costs no more).
LEDGER_CONTRACT_INDEX = "by-contract"
LEDGER_RECRUITER_INDEX = "by-recruiter"
# A contract's seats, and the report's cohorts by recruiter (keys only / as the report reads).
SEAT_CONTRACT_INDEX = "by-contract"
REPORT_RECRUITER_INDEX = "by-recruiter"
# The threads' listing indexes of releases before (full projection), replaced by the ones
# above; kept by name for the rollout only (docs/deploy.md).
LEGACY_LISTING_INDEXES = ("by-recruiter", "by-contract", "inbox", "awaiting-reply")


class _Base(Model):
    class Meta:
        abstract = True
        billing_mode = "PAY_PER_REQUEST"


class ContractModel(_Base):
    class Meta(_Base.Meta):
        table_name = "inmail-contracts"

    contract_id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute()
    name = UnicodeAttribute()
    monthly_credits = NumberAttribute()
    max_daily_limit = NumberAttribute()
    follow_ups_enabled = BooleanAttribute()
    follow_ups_changed_by = UnicodeAttribute(null=True)
    follow_ups_changed_at = UnicodeAttribute(null=True)
    # R71, R74 (absent on contracts made before send windows: no window, off).
    send_window = UnicodeAttribute(null=True)  # JSON (codec.send_window_to)
    send_window_changed_by = UnicodeAttribute(null=True)
    send_window_changed_at = UnicodeAttribute(null=True)
    reschedule_on_daily_limit = BooleanAttribute(null=True)
    reschedule_changed_by = UnicodeAttribute(null=True)
    reschedule_changed_at = UnicodeAttribute(null=True)


class _SeatsByContract(GlobalSecondaryIndex["SeatModel"]):
    """A contract's recruiters, for its admin's report (R80): keys only."""

    class Meta:
        index_name = SEAT_CONTRACT_INDEX
        projection = KeysOnlyProjection()

    contract_id = UnicodeAttribute(hash_key=True)
    recruiter_id = UnicodeAttribute(range_key=True)


class SeatModel(_Base):
    class Meta(_Base.Meta):
        table_name = "inmail-seats"

    recruiter_id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute()
    contract_id = UnicodeAttribute()
    daily_limit = NumberAttribute()
    admin = BooleanAttribute()
    restricted = BooleanAttribute()
    name = UnicodeAttribute(null=True)

    by_contract = _SeatsByContract()


class CandidateModel(_Base):
    class Meta(_Base.Meta):
        table_name = "inmail-candidates"

    candidate_id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute()
    name = UnicodeAttribute()
    deleted = BooleanAttribute()
    first_name = UnicodeAttribute(null=True)
    last_name = UnicodeAttribute(null=True)
    time_zone = UnicodeAttribute(null=True)  # R70: an IANA name; absent: UTC


# The listings' indexes hold keys only: a thread's every write (the sweeper's claim and
# settlement among them) rewrote each full-projection copy, ~2 WCU a copy, where a keys-only
# entry is written once, when the thread enters the index. A listing fetches its page's
# threads by key (BatchGetItem): docs/performance.md weighs the reads against the writes.
# Names are new because DynamoDB cannot change an index's projection (docs/deploy.md: the
# rollout from the full-projection indexes, LEGACY_LISTING_INDEXES).


class _ByRecruiter(GlobalSecondaryIndex["ThreadModel"]):
    class Meta:
        index_name = RECRUITER_INDEX
        projection = KeysOnlyProjection()

    recruiter_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class _ByContract(GlobalSecondaryIndex["ThreadModel"]):
    class Meta:
        index_name = CONTRACT_INDEX
        projection = KeysOnlyProjection()

    contract_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class _Inbox(GlobalSecondaryIndex["ThreadModel"]):
    """Sparse: present once the first message was delivered."""

    class Meta:
        index_name = INBOX_INDEX
        projection = KeysOnlyProjection()

    inbox_candidate_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class _Awaiting(GlobalSecondaryIndex["ThreadModel"]):
    """Sparse: present while the thread awaits a reply (R61)."""

    class Meta:
        index_name = AWAITING_INDEX
        projection = KeysOnlyProjection()

    awaiting_recruiter_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class _Due(GlobalSecondaryIndex["ThreadModel"]):
    """Sparse: present only while the follow-up is SCHEDULED; keys only, since the sweeper
    re-reads each thread with a consistent read before deciding."""

    class Meta:
        index_name = DUE_INDEX
        projection = KeysOnlyProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    due_at = UnicodeAttribute(range_key=True)


class ThreadModel(_Base):
    """One item per thread: first message, follow-up and reply together, so every state
    change is one conditional write on one item (R30)."""

    class Meta(_Base.Meta):
        table_name = "inmail-threads"

    thread_id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute()
    contract_id = UnicodeAttribute()
    recruiter_id = UnicodeAttribute()
    candidate_id = UnicodeAttribute()
    created_key = UnicodeAttribute()
    follow_up_status = UnicodeAttribute(null=True)
    inbox_candidate_id = UnicodeAttribute(null=True)
    awaiting_recruiter_id = UnicodeAttribute(null=True)
    due_shard = UnicodeAttribute(null=True)
    due_at = UnicodeAttribute(null=True)
    # The rest of the thread (messages, reply) as JSON: never queried on. It also holds the
    # lease as it was at the last full write, for code of releases before (a rollback).
    document = UnicodeAttribute()
    # The sweeper's lease, out of the document so a claim is one conditional update of a
    # few attributes (DynamoStore.claim_due): sortable UTC time; absent when not leased.
    lease_owner = UnicodeAttribute(null=True)
    lease_until = UnicodeAttribute(null=True)

    by_recruiter = _ByRecruiter()
    by_contract = _ByContract()
    inbox = _Inbox()
    awaiting = _Awaiting()
    due = _Due()


class _LedgerByContract(GlobalSecondaryIndex["LedgerModel"]):
    class Meta:
        index_name = LEDGER_CONTRACT_INDEX
        projection = AllProjection()

    contract_id = UnicodeAttribute(hash_key=True)
    at_key = UnicodeAttribute(range_key=True)


class _LedgerByRecruiter(GlobalSecondaryIndex["LedgerModel"]):
    class Meta:
        index_name = LEDGER_RECRUITER_INDEX
        projection = AllProjection()

    recruiter_id = UnicodeAttribute(hash_key=True)
    at_key = UnicodeAttribute(range_key=True)


class LedgerModel(_Base):
    """Append-only: entries are only ever put, with attribute_not_exists (R04)."""

    class Meta(_Base.Meta):
        table_name = "inmail-ledger"

    entry_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    amount = NumberAttribute()
    contract_id = UnicodeAttribute()
    recruiter_id = UnicodeAttribute()
    thread_id = UnicodeAttribute()
    message_id = UnicodeAttribute()
    reason = UnicodeAttribute()
    at = UnicodeAttribute()
    at_key = UnicodeAttribute()

    by_contract = _LedgerByContract()
    by_recruiter = _LedgerByRecruiter()


class CounterModel(_Base):
    """Monthly credit use per contract and daily sends per recruiter."""

    class Meta(_Base.Meta):
        table_name = "inmail-counters"

    counter_key = UnicodeAttribute(hash_key=True)
    used = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)  # TTL for daily counters


class _ReportByRecruiter(GlobalSecondaryIndex["ReportModel"]):
    """A recruiter's own cohorts, day by day (R80: a recruiter's row)."""

    class Meta:
        index_name = REPORT_RECRUITER_INDEX
        projection = AllProjection()

    recruiter_id = UnicodeAttribute(hash_key=True)
    day = UnicodeAttribute(range_key=True)


class ReportModel(_Base):
    """The InMail report's counters (R81): one item per cohort (contract, UTC day of the
    first message, recruiter), a number per ReportMetric, added to in the transaction of
    every thread write that moves one (R82). A contract's items are one partition sorted
    by day then recruiter, so a report for a range is one Query (R83)."""

    class Meta(_Base.Meta):
        table_name = "inmail-report"

    contract_id = UnicodeAttribute(hash_key=True)
    cohort_key = UnicodeAttribute(range_key=True)  # "YYYY-MM-DD#recruiter id"
    recruiter_id = UnicodeAttribute()
    day = UnicodeAttribute()
    # One more on every update: the recount corrects an item only if no write came
    # between its reading and the correction.
    version = NumberAttribute(default=0)
    inmails_sent = NumberAttribute(null=True)
    follow_ups_scheduled = NumberAttribute(null=True)
    follow_ups_sent = NumberAttribute(null=True)
    follow_ups_cancelled = NumberAttribute(null=True)
    follow_ups_deleted = NumberAttribute(null=True)
    failed_automation_disabled = NumberAttribute(null=True)
    failed_recruiter_restricted = NumberAttribute(null=True)
    failed_initial_message_failed = NumberAttribute(null=True)
    failed_candidate_not_found = NumberAttribute(null=True)
    failed_daily_limit_reached = NumberAttribute(null=True)
    failed_technical_issue = NumberAttribute(null=True)
    replies_before_follow_up = NumberAttribute(null=True)
    replies_after_follow_up = NumberAttribute(null=True)
    credits_charged = NumberAttribute(null=True)
    credits_refunded = NumberAttribute(null=True)

    by_recruiter = _ReportByRecruiter()


class TemplateModel(_Base):
    """R92: a contract's templates and the claims on their names, in the contract's
    partition: every read names the caller's contract, so another contract's template is
    never found. Items: `template#<id>` (the template) and `name#<digest of the name's
    key>` (held by one template at a time; a digest, as a casefolded name can outgrow the
    sort key's 1 KB)."""

    class Meta(_Base.Meta):
        table_name = "inmail-templates"

    contract_id = UnicodeAttribute(hash_key=True)
    item_key = UnicodeAttribute(range_key=True)
    template_id = UnicodeAttribute()
    version = NumberAttribute(null=True)
    name = UnicodeAttribute(null=True)
    subject = UnicodeAttribute(null=True)
    body = UnicodeAttribute(null=True)
    follow_up_body = UnicodeAttribute(null=True)
    author_id = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)


class BatchModel(_Base):
    """R90: a keyed sendInMails, so a retry continues it and returns the same results."""

    class Meta(_Base.Meta):
        table_name = "inmail-batches"

    batch_id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute()
    recruiter_id = UnicodeAttribute()
    contract_id = UnicodeAttribute()
    # The request's fingerprint, texts, timing and recorded refusals, as JSON.
    document = UnicodeAttribute()


ALL_MODELS: tuple[type[Model], ...] = (
    ContractModel,
    SeatModel,
    CandidateModel,
    ThreadModel,
    LedgerModel,
    CounterModel,
    ReportModel,
    TemplateModel,
    BatchModel,
)

TABLE_SETTINGS = {
    ContractModel: "contracts_table",
    SeatModel: "seats_table",
    CandidateModel: "candidates_table",
    ThreadModel: "threads_table",
    LedgerModel: "ledger_table",
    CounterModel: "counters_table",
    ReportModel: "report_table",
    TemplateModel: "templates_table",
    BatchModel: "batches_table",
}


# Per attempt: a stuck call is retried long before the API's 25 s timeout.
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5
# PynamoDB's default pool; the sweeper's workers each hold at most one connection at a time.
MIN_POOL_CONNECTIONS = 10


class SharedConnection(Connection):
    """A PynamoDB connection on a botocore session of our choosing. PynamoDB makes a session
    per connection and per thread; each one loads DynamoDB's service model again (~60 ms),
    which a cold start would pay once per model on its first request."""

    def __init__(self, session: botocore.session.Session, **options: Any):
        super().__init__(**options)
        self._session = session

    @property
    def session(self) -> botocore.session.Session:
        return self._session


def configure(settings: Settings, models_from: botocore.session.Session | None = None) -> SharedConnection:
    """Bind the models to the configured tables and endpoint on one connection: one botocore
    session and one client, built here (in the init phase, not on the first request) and
    shared by every model and the store's transactions. `models_from` is a session whose
    loaded service models the new one reuses (after a SnapStart restore)."""
    # Looked up on PynamoDB at call time: the tests and the bench give it their own.
    session: botocore.session.Session = pynamodb_base.get_session()  # type: ignore[attr-defined]
    if models_from is not None and models_from is not session:
        session.register_component("data_loader", models_from.get_component("data_loader"))
    elif models_from is None:
        # DynamoDB's files only, into plain dicts (service_data.py): the same models, read
        # for less.
        session.register_component("data_loader", store_loader(session.get_config_variable("data_path")))
    pool = max(MIN_POOL_CONNECTIONS, settings.sweep_workers)
    connection = SharedConnection(
        session,
        region=settings.region,
        host=settings.dynamodb_endpoint,
        max_retry_attempts=settings.dynamodb_max_retries,
        connect_timeout_seconds=CONNECT_TIMEOUT_SECONDS,
        read_timeout_seconds=READ_TIMEOUT_SECONDS,
        max_pool_connections=pool,
    )
    for model, attr in TABLE_SETTINGS.items():
        meta: Any = model.Meta
        meta.table_name = getattr(settings, attr)
        meta.region = settings.region
        meta.host = settings.dynamodb_endpoint
        meta.max_retry_attempts = settings.dynamodb_max_retries
        meta.connect_timeout_seconds = CONNECT_TIMEOUT_SECONDS
        meta.read_timeout_seconds = READ_TIMEOUT_SECONDS
        meta.max_pool_connections = pool
        model._connection = None  # drop a connection bound to the previous settings
        table = model._get_connection()  # PynamoDB's own table description; makes no client
        connection.add_meta_table(table.get_meta_table())
        table.connection = connection
    connection.client  # noqa: B018 - built now, so the first request finds it ready
    return connection
