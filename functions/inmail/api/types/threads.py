"""Threads and their messages, with what the sweeper decided and why."""

from datetime import datetime

import strawberry

from ...domain import model as dm
from ...domain.delivery import failure_message, failure_remedy
from ...domain.send_windows import local_iso
from .common import FailureCode, MessageKind, MessageStatus, PageInfo, ThreadStatus


@strawberry.type
class DeliveryFailure:
    code: FailureCode  # type: ignore[valid-type]
    message: str = strawberry.field(description="The sentence shown to the recruiter (SPEC.md table).")
    remedy: str = strawberry.field(description="What the recruiter can do about it (R28).")
    at: datetime

    @staticmethod
    def from_domain(f: dm.Failure) -> "DeliveryFailure":
        return DeliveryFailure(code=f.code, message=failure_message(f.code), remedy=failure_remedy(f.code), at=f.at)


@strawberry.type(description="One check the sweeper made, in SPEC.md's order, and what it found.")
class DecisionCheck:
    rule: str
    name: str
    holds: bool
    detail: str


@strawberry.type(description="Why the sweeper delivered, failed, cancelled, deleted or moved (R74) a follow-up.")
class FollowUpDecision:
    outcome: MessageStatus  # type: ignore[valid-type]
    rule: str
    code: FailureCode | None  # type: ignore[valid-type]
    checks: list[DecisionCheck]
    decided_at: datetime
    sweep_id: str
    moved_to: datetime | None = strawberry.field(
        description="Where R74 moved the follow-up when it met the daily maximum (outcome SCHEDULED)."
    )

    @staticmethod
    def from_domain(d: dm.Decision) -> "FollowUpDecision":
        return FollowUpDecision(
            outcome=d.outcome,
            rule=d.rule.value,
            code=d.code,
            checks=[DecisionCheck(rule=c.rule.value, name=c.name, holds=c.holds, detail=c.detail) for c in d.checks],
            decided_at=d.at,
            sweep_id=d.sweep_id,
            moved_to=d.moved_to,
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
    time_zone: str | None = strawberry.field(description="The candidate's time zone used for scheduledFor (R73).")
    scheduled_for_local: str | None = strawberry.field(
        description="scheduledFor in that time zone, with its offset (R73)."
    )
    times_rescheduled: int = strawberry.field(
        description="How many times R74 moved this follow-up for the daily maximum."
    )

    @staticmethod
    def from_domain(m: dm.Message, subject: str | None, for_candidate: bool) -> "Message":
        scheduled = None if for_candidate else m.scheduled_for
        return Message(
            id=strawberry.ID(m.message_id),
            kind=m.kind,
            subject=subject,
            body=m.body,
            status=m.status,
            scheduled_for=scheduled,
            sent_at=m.sent_at,
            failure=None if for_candidate or m.failure is None else DeliveryFailure.from_domain(m.failure),
            credit_charged=False if for_candidate else m.credit_charged,
            credit_refunded=False if for_candidate else m.credit_refunded,
            decision=None if for_candidate or m.decision is None else FollowUpDecision.from_domain(m.decision),
            time_zone=None if for_candidate else m.time_zone,
            scheduled_for_local=None if scheduled is None else local_iso(scheduled, m.time_zone),
            times_rescheduled=0 if for_candidate else m.times_rescheduled,
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
    def from_domain(t: dm.Thread, for_candidate: bool = False) -> "Thread":
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
class ThreadEdge:
    cursor: str
    node: Thread


@strawberry.type
class ThreadConnection:
    edges: list[ThreadEdge]
    page_info: PageInfo

    @staticmethod
    def from_page(page: dm.Page[dm.Thread], for_candidate: bool = False) -> "ThreadConnection":
        edges = [
            ThreadEdge(cursor=cursor, node=Thread.from_domain(t, for_candidate))
            for t, cursor in zip(page.items, page.cursors, strict=True)
        ]
        return ThreadConnection(edges=edges, page_info=PageInfo.from_page(page))
