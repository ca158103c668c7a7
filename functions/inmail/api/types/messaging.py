"""Inputs and payloads of the messaging mutations: send, the follow-up's schedule, cancel
and reschedule, and the candidate's reply."""

from __future__ import annotations

from datetime import datetime

import strawberry

from ...domain.rules import FollowUpTiming
from ...services.follow_ups import RescheduleRequest, ScheduleRequest
from ...services.send import FollowUpRequest, SendRequest
from .common import UserError, text
from .threads import Thread


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

    def request(self) -> SendRequest:
        fu = self.follow_up
        return SendRequest(
            candidate_id=str(self.candidate_id),
            subject=text(self.subject),
            body=text(self.body),
            follow_up=FollowUpRequest(text(fu.body), FollowUpTiming(fu.delay_days, fu.send_at)) if fu else None,
            idempotency_key=self.idempotency_key,
        )


@strawberry.type
class SendInMailPayload:
    thread: Thread | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


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
