"""Who is who: the caller, contracts, seats, candidates."""

from __future__ import annotations

from datetime import datetime

import strawberry

from ...domain import model as dm
from ...services.queries import ContractView, SeatView
from .common import Role


@strawberry.type
class Seat:
    recruiter_id: strawberry.ID
    contract_id: strawberry.ID
    admin: bool
    daily_limit: int
    sent_today: int = strawberry.field(description="Messages sent today (UTC) against the daily maximum.")
    restricted: bool
    name: str | None = strawberry.field(description="The recruiter's display name, for {recruiterName}.")

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
            name=s.name,
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
class Candidate:
    id: strawberry.ID
    name: str
    deleted: bool
    first_name: str | None
    last_name: str | None

    @staticmethod
    def from_domain(c: dm.Candidate) -> Candidate:
        return Candidate(
            id=strawberry.ID(c.candidate_id),
            name=c.name,
            deleted=c.deleted,
            first_name=c.first_name,
            last_name=c.last_name,
        )
