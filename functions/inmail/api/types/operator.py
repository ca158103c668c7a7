"""Inputs and payloads of the operator's mutations: provisioning, profiles, restrictions."""

import strawberry

from ...services.operator import KEEP, NewContract, NewSeat, ProfileField
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
    name: str | None = strawberry.field(default=None, description="The recruiter's display name, for {recruiterName}.")

    def request(self) -> NewSeat:
        name = text(self.name) if self.name is not None else None
        return NewSeat(str(self.contract_id), str(self.recruiter_id), self.admin, self.daily_limit, name)


@strawberry.type
class AddSeatPayload:
    seat: Seat | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class UpsertCandidateInput:
    candidate_id: strawberry.ID
    name: str
    deleted: bool = False
    first_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="For {firstName}. Left out: kept as stored; null: cleared."
    )
    last_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="For {lastName}. Left out: kept as stored; null: cleared."
    )
    time_zone: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="IANA time zone name such as Europe/Berlin (R70). Left out: kept as stored; null: cleared (UTC).",
    )

    def profile(self) -> dict[str, ProfileField]:
        """The optional profile fields as the use case takes them (left out: KEEP)."""
        return {
            "first_name": KEEP if self.first_name is strawberry.UNSET else _text_or_none(self.first_name),
            "last_name": KEEP if self.last_name is strawberry.UNSET else _text_or_none(self.last_name),
            "time_zone": KEEP if self.time_zone is strawberry.UNSET else self.time_zone,
        }


def _text_or_none(value: str | None) -> str | None:
    return text(value) if value is not None else None


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
