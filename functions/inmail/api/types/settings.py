"""Inputs and payloads of the sending settings: follow-ups on or off for a contract, a
recruiter's daily maximum."""

from __future__ import annotations

import strawberry

from .accounts import Contract, Seat
from .common import UserError


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
