"""Entities of the InMail follow-ups domain: plain, immutable, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Generic, NamedTuple, TypeVar, assert_never

T = TypeVar("T")


class Role(StrEnum):
    RECRUITER = "RECRUITER"
    CONTRACT_ADMIN = "CONTRACT_ADMIN"
    CANDIDATE = "CANDIDATE"
    OPERATOR = "OPERATOR"


class MessageKind(StrEnum):
    INITIAL = "INITIAL"
    FOLLOW_UP = "FOLLOW_UP"


class MessageStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    SENT = "SENT"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    DELETED = "DELETED"


class ThreadStatus(StrEnum):
    AWAITING_REPLY = "AWAITING_REPLY"
    REPLIED = "REPLIED"
    FAILED = "FAILED"


class FailureCode(StrEnum):
    AUTOMATION_DISABLED = "AUTOMATION_DISABLED"
    RECRUITER_RESTRICTED = "RECRUITER_RESTRICTED"
    INITIAL_MESSAGE_FAILED = "INITIAL_MESSAGE_FAILED"
    CANDIDATE_NOT_FOUND = "CANDIDATE_NOT_FOUND"
    DAILY_LIMIT_REACHED = "DAILY_LIMIT_REACHED"
    TECHNICAL_ISSUE = "TECHNICAL_ISSUE"


class LedgerKind(StrEnum):
    CHARGE = "CHARGE"
    REFUND = "REFUND"


class RuleId(StrEnum):
    """The rows of SPEC.md's delivery table, in its order (domain/delivery.py)."""

    R20 = "R20"
    R21 = "R21"
    R22 = "R22"
    R23 = "R23"
    R24 = "R24"
    R25 = "R25"
    R26 = "R26"
    R27 = "R27"


class Weekday(StrEnum):
    """Days of a send window (R71), in `date.weekday()` order: Monday is 0."""

    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"

    @property
    def number(self) -> int:
        """As `date.weekday()` counts it."""
        return _WEEKDAY_NUMBERS[self]


_WEEKDAY_NUMBERS = {day: n for n, day in enumerate(Weekday)}


@dataclass(frozen=True)
class SendWindow:
    """Local hours [start_hour, end_hour) on `days`, in the candidate's time zone (R71).
    Days are kept in week order, each once (domain/send_windows.py checks the input)."""

    start_hour: int
    end_hour: int
    days: tuple[Weekday, ...]


class CounterKind(StrEnum):
    """What a counter counts, and so which limit refuses it (the value prefixes its key)."""

    CREDITS = "credits"  # a contract's credits used in a UTC month (R01, R03)
    SENDS = "sends"  # a recruiter's messages on a UTC day (R40, R41)
    TEMPLATES = "templates"  # a contract's saved templates (R92), at most TEMPLATES_MAX


class ReportMetric(StrEnum):
    """What the InMail report counts per cohort (R81), each a counter of its own. Replies
    are stored split, before and after the follow-up was delivered; their sum is `replies`."""

    INMAILS_SENT = "inmails_sent"
    FOLLOW_UPS_SCHEDULED = "follow_ups_scheduled"
    FOLLOW_UPS_SENT = "follow_ups_sent"
    FOLLOW_UPS_CANCELLED = "follow_ups_cancelled"
    FOLLOW_UPS_DELETED = "follow_ups_deleted"
    FAILED_AUTOMATION_DISABLED = "failed_automation_disabled"
    FAILED_RECRUITER_RESTRICTED = "failed_recruiter_restricted"
    FAILED_INITIAL_MESSAGE_FAILED = "failed_initial_message_failed"
    FAILED_CANDIDATE_NOT_FOUND = "failed_candidate_not_found"
    FAILED_DAILY_LIMIT_REACHED = "failed_daily_limit_reached"
    FAILED_TECHNICAL_ISSUE = "failed_technical_issue"
    REPLIES_BEFORE_FOLLOW_UP = "replies_before_follow_up"
    REPLIES_AFTER_FOLLOW_UP = "replies_after_follow_up"
    CREDITS_CHARGED = "credits_charged"
    CREDITS_REFUNDED = "credits_refunded"


@dataclass(frozen=True)
class Principal:
    """The caller, as the verified token says."""

    subject: str
    roles: frozenset[Role]
    contract_id: str | None = None

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Contract:
    contract_id: str
    name: str
    monthly_credits: int
    max_daily_limit: int
    follow_ups_enabled: bool = True
    follow_ups_changed_by: str | None = None
    follow_ups_changed_at: datetime | None = None
    version: int = 0
    # R71: follow-ups fall due inside this window in the candidate's zone; None: when asked.
    send_window: SendWindow | None = None
    send_window_changed_by: str | None = None
    send_window_changed_at: datetime | None = None
    # R74: a follow-up meeting the daily maximum moves to the next day instead of R25.
    reschedule_on_daily_limit: bool = False
    reschedule_changed_by: str | None = None
    reschedule_changed_at: datetime | None = None

    @property
    def key(self) -> str:
        return self.contract_id


@dataclass(frozen=True)
class Seat:
    recruiter_id: str
    contract_id: str
    daily_limit: int
    admin: bool = False
    restricted: bool = False
    version: int = 0
    # The recruiter's display name ({recruiterName} in a message); None when the operator gave none.
    name: str | None = None

    @property
    def key(self) -> str:
        return self.recruiter_id


@dataclass(frozen=True)
class Candidate:
    candidate_id: str
    name: str
    deleted: bool = False
    version: int = 0
    # Parts of the name for personalization ({firstName}, {lastName}); None if unknown.
    first_name: str | None = None
    last_name: str | None = None
    # R70: an IANA time zone name (domain/send_windows.py checks it); None: UTC.
    time_zone: str | None = None

    @property
    def key(self) -> str:
        return self.candidate_id


@dataclass(frozen=True)
class Failure:
    """Why the system failed or cancelled a message (R21-R26)."""

    code: FailureCode
    at: datetime


@dataclass(frozen=True)
class Check:
    """One check of the sweeper's decision (R20-R27) and what it found."""

    rule: RuleId
    name: str
    holds: bool
    detail: str


@dataclass(frozen=True)
class Decision:
    """The sweeper's decision on a due follow-up, kept on the message."""

    outcome: MessageStatus
    rule: RuleId
    code: FailureCode | None
    checks: tuple[Check, ...]
    at: datetime
    sweep_id: str
    # R74: the follow-up met the daily maximum and was moved here instead of cancelled
    # (outcome SCHEDULED, rule R25, code DAILY_LIMIT_REACHED).
    moved_to: datetime | None = None


@dataclass(frozen=True)
class Message:
    message_id: str
    kind: MessageKind
    body: str
    status: MessageStatus
    # Charge number of this message: 1 when first charged, +1 per reschedule (R13).
    attempt: int = 1
    credit_charged: bool = True
    credit_refunded: bool = False
    charges: int = 1
    refunds: int = 0
    scheduled_for: datetime | None = None
    sent_at: datetime | None = None
    failure: Failure | None = None
    decision: Decision | None = None
    idempotency_key: str | None = None
    # What the keyed request asked for: a retry with the same key must ask the same.
    request_hash: str | None = None
    # R73: the candidate's time zone when scheduled_for was decided (None: UTC), kept so
    # later changes to the zone or the window move nothing already scheduled.
    time_zone: str | None = None
    # R74: how many times the sweeper moved this follow-up for the daily maximum.
    times_rescheduled: int = 0


@dataclass(frozen=True)
class Thread:
    thread_id: str
    contract_id: str
    recruiter_id: str
    candidate_id: str
    subject: str
    created_at: datetime
    initial: Message
    follow_up: Message | None = None
    replied_at: datetime | None = None
    reply_body: str | None = None
    request_hash: str | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    version: int = 0

    @property
    def status(self) -> ThreadStatus:
        """Decided by the reply and the first message only. R29: the follow-up's status
        plays no part, so a thread whose follow-up was cancelled for the daily maximum (R25)
        still awaits a reply until rescheduled (R13)."""
        if self.replied_at is not None:
            return ThreadStatus.REPLIED
        if self.initial.status is MessageStatus.FAILED:
            return ThreadStatus.FAILED
        return ThreadStatus.AWAITING_REPLY

    @property
    def in_awaiting_reply(self) -> bool:
        """In the recruiter's Awaiting Reply folder (R61), whatever its follow-up's status (R29)."""
        return self.status is ThreadStatus.AWAITING_REPLY

    @property
    def in_inbox(self) -> bool:
        """In the candidate's inbox: its first message was delivered."""
        return self.initial.status is MessageStatus.SENT

    @property
    def credits_charged(self) -> int:
        return self.initial.charges + (self.follow_up.charges if self.follow_up else 0)

    @property
    def credits_refunded(self) -> int:
        return self.initial.refunds + (self.follow_up.refunds if self.follow_up else 0)

    @property
    def scheduled_follow_up(self) -> Message | None:
        """The follow-up while it waits for the sweeper, else None."""
        fu = self.follow_up
        return fu if fu is not None and fu.status is MessageStatus.SCHEDULED else None

    def with_follow_up(self, follow_up: Message | None) -> Thread:
        return replace(self, follow_up=follow_up)


@dataclass(frozen=True)
class LedgerEntry:
    """One charge or refund. The id is deterministic (message, attempt, kind): R04."""

    entry_id: str
    kind: LedgerKind
    amount: int
    contract_id: str
    recruiter_id: str
    thread_id: str
    message_id: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a newest-first listing; `cursors[i]` resumes after `items[i]`."""

    items: list[T]
    cursors: list[str]
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


@dataclass(frozen=True)
class CounterChange:
    """Add `delta` to a counter; refused when the result would exceed `limit`."""

    kind: CounterKind
    key: str
    delta: int
    limit: int | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, order=True)
class Cohort:
    """The InMails of one recruiter of a contract whose first message was sent on one UTC
    day (R81): what a report row adds up, whenever their follow-ups and replies came."""

    contract_id: str
    recruiter_id: str
    day: date


@dataclass(frozen=True)
class CohortChange:
    """Add each delta to its metric of the cohort's counters (domain/report.py derives them
    from a thread's state before and after a write)."""

    cohort: Cohort
    deltas: Mapping[ReportMetric, int]


@dataclass(frozen=True)
class CohortFigures:
    """A cohort's counters as stored, and how many updates made them (the recount corrects
    them only if that number has not moved)."""

    cohort: Cohort
    figures: Mapping[ReportMetric, int]
    version: int = 0


@dataclass(frozen=True)
class Template:
    """R92: a contract's saved subject, body and follow-up body, under a name unique within
    the contract. The texts are as written (placeholders unfilled, R91)."""

    template_id: str
    contract_id: str
    name: str
    subject: str
    body: str
    follow_up_body: str | None
    author_id: str
    updated_at: datetime
    version: int = 0

    @property
    def key(self) -> str:
        return self.template_id


class NameClaim(NamedTuple):
    """A template name held by one template of a contract at a time (R92): written only if
    no template holds it, released only by the template that holds it."""

    contract_id: str
    name_key: str
    template_id: str


class RecordedRefusal(NamedTuple):
    """A business refusal a batch decided for one candidate, kept so a retry returns it."""

    candidate_id: str
    code: str
    field: tuple[str, ...] | None
    message: str


@dataclass(frozen=True)
class Batch:
    """A sendInMails with an idempotency key (R90): what it asked (its fingerprint), what it
    sends (the texts as written, after the template was applied, and the follow-up's timing)
    and the refusals it decided. A retry continues it with the same texts and returns the
    same results."""

    batch_id: str
    recruiter_id: str
    contract_id: str
    request_hash: str
    candidate_ids: tuple[str, ...]
    subject: str
    body: str
    follow_up_body: str | None
    follow_up_delay_days: int | None
    follow_up_send_at: datetime | None
    created_at: datetime
    refusals: tuple[RecordedRefusal, ...] = ()
    version: int = 0

    @property
    def key(self) -> str:
        return self.batch_id


Versioned = TypeVar("Versioned", Thread, Contract, Seat, Candidate, Template, Batch)


@dataclass(frozen=True)
class Expect:
    """Commit only if this entity still has the version it was read at (nothing changed it
    meanwhile), though the commit does not write it."""

    entity: Contract | Seat | Candidate


@dataclass
class Changes:
    """Everything one use case writes, committed atomically or not at all."""

    threads: list[tuple[Thread, int | None]] = field(default_factory=list)
    contracts: list[tuple[Contract, int | None]] = field(default_factory=list)
    seats: list[tuple[Seat, int | None]] = field(default_factory=list)
    candidates: list[tuple[Candidate, int | None]] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)
    counters: list[CounterChange] = field(default_factory=list)
    expects: list[Expect] = field(default_factory=list)
    # The report's counters (R81, R82), one change per cohort: kept by `put` itself.
    cohorts: list[CohortChange] = field(default_factory=list)
    templates: list[tuple[Template, int | None]] = field(default_factory=list)
    deleted_templates: list[Template] = field(default_factory=list)
    name_claims: list[NameClaim] = field(default_factory=list)
    released_names: list[NameClaim] = field(default_factory=list)
    batches: list[tuple[Batch, int | None]] = field(default_factory=list)

    def put(self, entity: Versioned, previous: Versioned | None) -> Versioned:
        """Write `entity` over `previous` (None: it must not exist yet), conditioned on the
        version `previous` was read at; returns the stored state, one version on."""
        expected = previous.version if previous is not None else None
        stored = replace(entity, version=(expected or 0) + 1)
        if isinstance(stored, Thread):
            self.threads.append((stored, expected))
            # Every thread write counts in the report from its own before and after, in
            # this same commit: no transition has to know about the report (R82).
            from .report import count_thread_write

            assert previous is None or isinstance(previous, Thread)
            count_thread_write(self, previous, stored)
        elif isinstance(stored, Contract):
            self.contracts.append((stored, expected))
        elif isinstance(stored, Seat):
            self.seats.append((stored, expected))
        elif isinstance(stored, Candidate):
            self.candidates.append((stored, expected))
        elif isinstance(stored, Template):
            self.templates.append((stored, expected))
        elif isinstance(stored, Batch):
            self.batches.append((stored, expected))
        else:
            assert_never(stored)
        return stored

    def delete_template(self, template: Template) -> None:
        """Delete `template`, conditioned on the version it was read at."""
        self.deleted_templates.append(template)

    def claim_name(self, claim: NameClaim) -> None:
        """Hold a template name; the commit fails with NameTaken if another template holds it."""
        self.name_claims.append(claim)

    def release_name(self, claim: NameClaim) -> None:
        """Give up a name the template holds (conditioned on it holding it)."""
        self.released_names.append(claim)

    def expect(self, entity: Contract | Seat | Candidate) -> None:
        """The commit stands only if `entity` is unchanged (see Expect)."""
        self.expects.append(Expect(entity))
