"""Inputs and payloads of the messaging mutations: send, the follow-up's schedule, cancel
and reschedule, and the candidate's reply."""

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry

from ...domain.rules import FollowUpTiming
from ...services.follow_ups import RescheduleRequest, ScheduleRequest
from ...services.send import FollowUpRequest, SendRequest
from .common import UserError, text
from .threads import Thread

if TYPE_CHECKING:  # sendInMails' modules load on its first use, off the cold start's path
    from ...services import bulk_send


@strawberry.input
class FollowUpInput:
    body: str | None = strawberry.field(
        default=None, description="Required unless templateId gives it (the template's followUpBody)."
    )
    delay_days: int | None = strawberry.field(
        default=None,
        description="Days after the first message, 3 to 28; default 7 (R11, R12). Give at most "
        "one of delayDays and sendAt.",
    )
    send_at: datetime | None = None

    def request(self) -> FollowUpRequest:
        return FollowUpRequest(_text(self.body), FollowUpTiming(self.delay_days, self.send_at))


def _text(value: str | None) -> str | None:
    return None if value is None else text(value)


@strawberry.input
class SendInMailInput:
    candidate_id: strawberry.ID
    subject: str | None = strawberry.field(default=None, description="Required unless templateId gives it.")
    body: str | None = strawberry.field(default=None, description="Required unless templateId gives it.")
    follow_up: FollowUpInput | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="A retry with the same key returns the first result and charges nothing more.",
    )
    template_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Use a saved template's subject, body and follow-up body; fields given here win (R92).",
    )

    def request(self) -> SendRequest:
        return SendRequest(
            candidate_id=str(self.candidate_id),
            subject=_text(self.subject),
            body=_text(self.body),
            follow_up=self.follow_up.request() if self.follow_up else None,
            idempotency_key=self.idempotency_key,
            template_id=None if self.template_id is None else str(self.template_id),
        )


@strawberry.type
class SendInMailPayload:
    thread: Thread | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SendInMailsInput:
    candidate_ids: list[strawberry.ID] = strawberry.field(description="1 to 25 distinct candidates (R90).")
    subject: str | None = strawberry.field(default=None, description="Required unless templateId gives it.")
    body: str | None = strawberry.field(default=None, description="Required unless templateId gives it.")
    follow_up: FollowUpInput | None = None
    template_id: strawberry.ID | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="A retry with the same key returns the same results, sends to the candidates an "
        "interrupted attempt did not reach, and charges nothing more.",
    )

    def request(self) -> "bulk_send.BulkSendRequest":
        from ...services import bulk_send

        return bulk_send.BulkSendRequest(
            candidate_ids=tuple(str(cid) for cid in self.candidate_ids),
            subject=_text(self.subject),
            body=_text(self.body),
            follow_up=self.follow_up.request() if self.follow_up else None,
            template_id=None if self.template_id is None else str(self.template_id),
            idempotency_key=self.idempotency_key,
        )


@strawberry.type(description="One candidate's outcome: its thread, or why it was not sent.")
class SendResult:
    candidate_id: strawberry.ID
    thread: Thread | None = strawberry.field(
        description="The thread sent (with a TECHNICAL_ISSUE userError when its first message failed)."
    )
    user_errors: list[UserError]

    @staticmethod
    def from_domain(r: "bulk_send.CandidateResult") -> "SendResult":
        return SendResult(
            candidate_id=strawberry.ID(r.candidate_id),
            thread=Thread.from_domain(r.thread) if r.thread else None,
            user_errors=[UserError.from_refusal(r.error)] if r.error else [],
        )


@strawberry.type
class SendInMailsPayload:
    results: list[SendResult] = strawberry.field(default_factory=list, description="One per candidate, in input order.")
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Errors about the request as a whole (no candidate was sent to)."
    )


@strawberry.input
class ScheduleFollowUpInput:
    thread_id: strawberry.ID
    body: str
    delay_days: int | None = None
    send_at: datetime | None = None
    idempotency_key: str | None = None

    def request(self) -> ScheduleRequest:
        return ScheduleRequest(
            thread_id=str(self.thread_id),
            body=text(self.body),
            timing=FollowUpTiming(self.delay_days, self.send_at),
            idempotency_key=self.idempotency_key,
        )


@strawberry.input
class RescheduleFollowUpInput:
    thread_id: strawberry.ID
    delay_days: int | None = None
    send_at: datetime | None = None

    def request(self) -> RescheduleRequest:
        return RescheduleRequest(str(self.thread_id), FollowUpTiming(self.delay_days, self.send_at))


@strawberry.input
class CancelFollowUpInput:
    thread_id: strawberry.ID


@strawberry.type
class FollowUpPayload:
    thread: Thread | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ReplyToInMailInput:
    thread_id: strawberry.ID
    body: str


@strawberry.type
class ReplyToInMailPayload:
    thread: Thread | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
