"""Inputs and payloads of the sending settings: follow-ups on or off for a contract, its
send window and rescheduling on the daily maximum, a recruiter's daily maximum."""

import strawberry

from ...services.sending_settings import LeftOut, SendWindowRequest
from .accounts import Contract, Seat
from .common import UserError, Weekday


@strawberry.input
class SetFollowUpsEnabledInput:
    enabled: bool


@strawberry.type
class SetFollowUpsEnabledPayload:
    contract: Contract | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SetDailyLimitInput:
    daily_limit: int


@strawberry.type
class SetDailyLimitPayload:
    seat: Seat | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SendWindowInput:
    start_hour: int = strawberry.field(description="0-23")
    end_hour: int = strawberry.field(description="1-24, greater than startHour")
    days: list[Weekday] = strawberry.field(description="At least one day.")  # type: ignore[valid-type]


@strawberry.input
class SetSendWindowInput:
    window: SendWindowInput | None = strawberry.field(default=strawberry.UNSET, description="null removes the window.")

    def request(self) -> SendWindowRequest | LeftOut | None:
        w = self.window
        if w is strawberry.UNSET:
            return LeftOut.LEFT_OUT
        return None if w is None else SendWindowRequest(w.start_hour, w.end_hour, tuple(w.days))


@strawberry.type
class SetSendWindowPayload:
    contract: Contract | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SetRescheduleOnDailyLimitInput:
    enabled: bool


@strawberry.type
class SetRescheduleOnDailyLimitPayload:
    contract: Contract | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
