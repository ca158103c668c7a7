"""Inputs and payloads of the operator's mutations: provisioning, profiles, restrictions."""

from __future__ import annotations

import strawberry

from ...services.operator import NewContract, NewSeat
from .accounts import Candidate, Contract, Seat
from .common import UserError, text


@strawberry.input
class CreateContractInput:
    id: strawberry.ID
    name: str
    monthly_credits: int
    max_daily_limit: int
    follow_ups_enabled: bool = True

    def request(self) -> NewContract:
        return NewContract(
            str(self.id), text(self.name), self.monthly_credits, self.max_daily_limit, self.follow_ups_enabled
        )


@strawberry.type
class CreateContractPayload:
    contract: Contract | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class AddSeatInput:
    contract_id: strawberry.ID
    recruiter_id: strawberry.ID
    admin: bool = False
    daily_limit: int | None = None

    def request(self) -> NewSeat:
        return NewSeat(str(self.contract_id), str(self.recruiter_id), self.admin, self.daily_limit)


@strawberry.type
class AddSeatPayload:
    seat: Seat | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class UpsertCandidateInput:
    candidate_id: strawberry.ID
    name: str
    deleted: bool = False


@strawberry.type
class UpsertCandidatePayload:
    candidate: Candidate | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SetRecruiterRestrictedInput:
    recruiter_id: strawberry.ID
    restricted: bool


@strawberry.type
class SetRecruiterRestrictedPayload:
    seat: Seat | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
