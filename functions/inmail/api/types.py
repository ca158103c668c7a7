"""Strawberry types of the public contract (graphql/schema.graphql), each with a mapper
from the domain object."""

from __future__ import annotations

from datetime import datetime

import strawberry

from ..domain import model as dm
from ..domain import rules
from ..domain.errors import ErrorCode, Refusal
from ..services.queries import ContractView, SeatView

Role = strawberry.enum(dm.Role, name="Role")
MessageKind = strawberry.enum(dm.MessageKind, name="MessageKind")
MessageStatus = strawberry.enum(dm.MessageStatus, name="MessageStatus")
ThreadStatus = strawberry.enum(dm.ThreadStatus, name="ThreadStatus")
FailureCode = strawberry.enum(dm.FailureCode, name="FailureCode")
CreditEntryKind = strawberry.enum(dm.LedgerKind, name="CreditEntryKind")
UserErrorCode = strawberry.enum(ErrorCode, name="UserErrorCode")


@strawberry.type
class Seat:
    recruiter_id: strawberry.ID
    contract_id: strawberry.ID
    admin: bool
    daily_limit: int
    sent_today: int = strawberry.field(description="Messages sent today (UTC) against the daily maximum.")
    restricted: bool

    @staticmethod
    def from_domain(view: SeatView) -> Seat:
        s = view.seat
        return Seat(
            recruiter_id=strawberry.ID(s.recruiter_id),
            contract_id=strawberry.ID(s.contract_id),
            admin=s.admin,
            daily_limit=s.daily_limit,
            sent_today=view.sent_today,
            restricted=s.restricted,
        )


@strawberry.type
class Viewer:
    id: strawberry.ID
    contract_id: strawberry.ID | None
    roles: list[Role]  # type: ignore[valid-type]
    seat: Seat | None = strawberry.field(description="The caller's seat, for recruiters.")


@strawberry.type
class Contract:
    id: strawberry.ID
    name: str
    follow_ups_enabled: bool
    follow_ups_changed_by: strawberry.ID | None = strawberry.field(
        description="Who last changed followUpsEnabled, and when (R50)."
    )
    follow_ups_changed_at: datetime | None
    monthly_credits: int
    credits_remaining: int = strawberry.field(description="Credits left in the current calendar month (UTC).")
    max_daily_limit: int = strawberry.field(description="The highest daily maximum a seat may set.")

    @staticmethod
    def from_domain(view: ContractView) -> Contract:
        c = view.contract
        return Contract(
            id=strawberry.ID(c.contract_id),
            name=c.name,
            follow_ups_enabled=c.follow_ups_enabled,
            follow_ups_changed_by=strawberry.ID(c.follow_ups_changed_by) if c.follow_ups_changed_by else None,
            follow_ups_changed_at=c.follow_ups_changed_at,
            monthly_credits=c.monthly_credits,
            credits_remaining=view.credits_remaining,
            max_daily_limit=c.max_daily_limit,
        )


@strawberry.type
class DeliveryFailure:
    code: FailureCode  # type: ignore[valid-type]
    message: str = strawberry.field(description="The sentence shown to the recruiter (SPEC.md table).")
    remedy: str = strawberry.field(description="What the recruiter can do about it (R28).")
    at: datetime

    @staticmethod
    def from_domain(f: dm.Failure) -> DeliveryFailure:
        return DeliveryFailure(
            code=f.code,
            message=rules.failure_message(f.code),
            remedy=rules.failure_remedy(f.code),
            at=f.at,
        )


@strawberry.type(description="One check the sweeper made, in SPEC.md's order, and what it found.")
class DecisionCheck:
    rule: str
    name: str
    holds: bool
    detail: str


@strawberry.type(description="Why the sweeper delivered, failed, cancelled or deleted a follow-up.")
class FollowUpDecision:
    outcome: MessageStatus  # type: ignore[valid-type]
    rule: str
    code: FailureCode | None  # type: ignore[valid-type]
    checks: list[DecisionCheck]
    decided_at: datetime
    sweep_id: str

    @staticmethod
    def from_domain(d: dm.Decision) -> FollowUpDecision:
        return FollowUpDecision(
            outcome=d.outcome,
            rule=d.rule,
            code=d.code,
            checks=[DecisionCheck(rule=c.rule, name=c.name, holds=c.holds, detail=c.detail) for c in d.checks],
            decided_at=d.at,
            sweep_id=d.sweep_id,
        )


@strawberry.type
class Message:
    id: strawberry.ID
    kind: MessageKind  # type: ignore[valid-type]
    subject: str | None
    body: str
    status: MessageStatus  # type: ignore[valid-type]
    scheduled_for: datetime | None = strawberry.field(description="When a follow-up is due.")
    sent_at: datetime | None
    failure: DeliveryFailure | None = strawberry.field(
        description="Set when the system failed or cancelled the message (R21-R26)."
    )
    credit_charged: bool
    credit_refunded: bool
    decision: FollowUpDecision | None = strawberry.field(
        description="For a follow-up the sweeper decided: each check and what it found (R20-R27)."
    )

    @staticmethod
    def from_domain(m: dm.Message, subject: str | None, for_candidate: bool) -> Message:
        return Message(
            id=strawberry.ID(m.message_id),
            kind=m.kind,
            subject=subject,
            body=m.body,
            status=m.status,
            scheduled_for=None if for_candidate else m.scheduled_for,
            sent_at=m.sent_at,
            failure=None if for_candidate or m.failure is None else DeliveryFailure.from_domain(m.failure),
            credit_charged=False if for_candidate else m.credit_charged,
            credit_refunded=False if for_candidate else m.credit_refunded,
            decision=None if for_candidate or m.decision is None else FollowUpDecision.from_domain(m.decision),
        )


@strawberry.type
class Thread:
    id: strawberry.ID
    contract_id: strawberry.ID
    recruiter_id: strawberry.ID
    candidate_id: strawberry.ID
    status: ThreadStatus  # type: ignore[valid-type]
    initial: Message
    follow_up: Message | None
    replied_at: datetime | None
    reply: str | None = strawberry.field(description="The candidate's reply, once there is one.")
    credits_charged: int
    credits_refunded: int
    created_at: datetime

    @staticmethod
    def from_domain(t: dm.Thread, for_candidate: bool = False) -> Thread:
        """A candidate sees what was delivered to them: no scheduled follow-up, no credits."""
        fu = t.follow_up
        if for_candidate and fu is not None and fu.status is not dm.MessageStatus.SENT:
            fu = None
        return Thread(
            id=strawberry.ID(t.thread_id),
            contract_id=strawberry.ID(t.contract_id),
            recruiter_id=strawberry.ID(t.recruiter_id),
            candidate_id=strawberry.ID(t.candidate_id),
            status=t.status,
            initial=Message.from_domain(t.initial, t.subject, for_candidate),
            follow_up=Message.from_domain(fu, None, for_candidate) if fu else None,
            replied_at=t.replied_at,
            reply=t.reply_body,
            credits_charged=0 if for_candidate else t.credits_charged,
            credits_refunded=0 if for_candidate else t.credits_refunded,
            created_at=t.created_at,
        )


@strawberry.type
class CreditEntry:
    id: strawberry.ID
    kind: CreditEntryKind  # type: ignore[valid-type]
    amount: int
    message_id: strawberry.ID
    thread_id: strawberry.ID
    recruiter_id: strawberry.ID
    reason: str
    at: datetime

    @staticmethod
    def from_domain(e: dm.LedgerEntry) -> CreditEntry:
        return CreditEntry(
            id=strawberry.ID(e.entry_id),
            kind=e.kind,
            amount=e.amount,
            message_id=strawberry.ID(e.message_id),
            thread_id=strawberry.ID(e.thread_id),
            recruiter_id=strawberry.ID(e.recruiter_id),
            reason=e.reason,
            at=e.at,
        )


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class ThreadEdge:
    cursor: str
    node: Thread


@strawberry.type
class ThreadConnection:
    edges: list[ThreadEdge]
    page_info: PageInfo

    @staticmethod
    def from_page(page: dm.Page[dm.Thread], for_candidate: bool = False) -> ThreadConnection:
        edges = [
            ThreadEdge(cursor=cursor, node=Thread.from_domain(t, for_candidate))
            for t, cursor in zip(page.items, page.cursors, strict=True)
        ]
        return ThreadConnection(
            edges=edges, page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor)
        )


@strawberry.type
class CreditEntryEdge:
    cursor: str
    node: CreditEntry


@strawberry.type
class CreditEntryConnection:
    edges: list[CreditEntryEdge]
    page_info: PageInfo

    @staticmethod
    def from_page(page: dm.Page[dm.LedgerEntry]) -> CreditEntryConnection:
        edges = [
            CreditEntryEdge(cursor=cursor, node=CreditEntry.from_domain(e))
            for e, cursor in zip(page.items, page.cursors, strict=True)
        ]
        return CreditEntryConnection(
            edges=edges, page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor)
        )


@strawberry.type(
    description="A business-rule refusal. Authentication and permission failures are GraphQL "
    "errors with extensions.code UNAUTHENTICATED or FORBIDDEN instead."
)
class UserError:
    code: UserErrorCode  # type: ignore[valid-type]
    field: list[str] | None = strawberry.field(description="Path to the input field at fault, if any.")
    message: str

    @staticmethod
    def from_refusal(r: Refusal) -> UserError:
        return UserError(code=r.code, field=list(r.field) if r.field else None, message=r.message)


@strawberry.type
class Candidate:
    id: strawberry.ID
    name: str
    deleted: bool

    @staticmethod
    def from_domain(c: dm.Candidate) -> Candidate:
        return Candidate(id=strawberry.ID(c.candidate_id), name=c.name, deleted=c.deleted)


# ---- payloads -----------------------------------------------------------------------


@strawberry.type
class SendInMailPayload:
    thread: Thread | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class FollowUpPayload:
    thread: Thread | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SetFollowUpsEnabledPayload:
    contract: Contract | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SetDailyLimitPayload:
    seat: Seat | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ReplyToInMailPayload:
    thread: Thread | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateContractPayload:
    contract: Contract | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AddSeatPayload:
    seat: Seat | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UpsertCandidatePayload:
    candidate: Candidate | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SetRecruiterRestrictedPayload:
    seat: Seat | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


# ---- inputs -------------------------------------------------------------------------


@strawberry.input
class FollowUpInput:
    body: str
    delay_days: int | None = strawberry.field(
        default=None,
        description="Days after the first message, 3 to 28; default 7 (R11, R12). Give at most "
        "one of delayDays and sendAt.",
    )
    send_at: datetime | None = None


@strawberry.input
class SendInMailInput:
    candidate_id: strawberry.ID
    subject: str
    body: str
    follow_up: FollowUpInput | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="A retry with the same key returns the first result and charges nothing more.",
    )


@strawberry.input
class ScheduleFollowUpInput:
    thread_id: strawberry.ID
    body: str
    delay_days: int | None = None
    send_at: datetime | None = None
    idempotency_key: str | None = None


@strawberry.input
class RescheduleFollowUpInput:
    thread_id: strawberry.ID
    delay_days: int | None = None
    send_at: datetime | None = None


@strawberry.input
class CancelFollowUpInput:
    thread_id: strawberry.ID


@strawberry.input
class SetFollowUpsEnabledInput:
    enabled: bool


@strawberry.input
class SetDailyLimitInput:
    daily_limit: int


@strawberry.input
class ReplyToInMailInput:
    thread_id: strawberry.ID
    body: str


@strawberry.input
class CreateContractInput:
    id: strawberry.ID
    name: str
    monthly_credits: int
    max_daily_limit: int
    follow_ups_enabled: bool = True


@strawberry.input
class AddSeatInput:
    contract_id: strawberry.ID
    recruiter_id: strawberry.ID
    admin: bool = False
    daily_limit: int | None = None


@strawberry.input
class UpsertCandidateInput:
    candidate_id: strawberry.ID
    name: str
    deleted: bool = False


@strawberry.input
class SetRecruiterRestrictedInput:
    recruiter_id: strawberry.ID
    restricted: bool
