"""Who is who: the caller, contracts, seats, candidates."""

from datetime import datetime

import strawberry

from ...domain import model as dm
from ...services.queries import ContractView, SeatView
from .common import Role, Weekday


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
    def from_domain(view: SeatView) -> "Seat":
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


@strawberry.type(description="Local hours [startHour, endHour) on the given days, in the candidate's time zone (R71).")
class SendWindow:
    start_hour: int
    end_hour: int
    days: list[Weekday]  # type: ignore[valid-type]

    @staticmethod
    def from_domain(w: dm.SendWindow | None) -> "SendWindow | None":
        if w is None:
            return None
        return SendWindow(start_hour=w.start_hour, end_hour=w.end_hour, days=list(w.days))


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
    send_window: SendWindow | None = strawberry.field(
        description="Follow-ups fall due inside it, in the candidate's time zone (R71, R72); null: when asked."
    )
    send_window_changed_by: strawberry.ID | None = strawberry.field(description="Who last set sendWindow, and when.")
    send_window_changed_at: datetime | None
    reschedule_on_daily_limit: bool = strawberry.field(
        description="A follow-up meeting the daily maximum moves to the next day instead of being cancelled (R74)."
    )
    reschedule_on_daily_limit_changed_by: strawberry.ID | None = strawberry.field(
        description="Who last set rescheduleOnDailyLimit, and when."
    )
    reschedule_on_daily_limit_changed_at: datetime | None

    @staticmethod
    def from_domain(view: ContractView) -> "Contract":
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
            send_window=SendWindow.from_domain(c.send_window),
            send_window_changed_by=_id(c.send_window_changed_by),
            send_window_changed_at=c.send_window_changed_at,
            reschedule_on_daily_limit=c.reschedule_on_daily_limit,
            reschedule_on_daily_limit_changed_by=_id(c.reschedule_changed_by),
            reschedule_on_daily_limit_changed_at=c.reschedule_changed_at,
        )


def _id(value: str | None) -> strawberry.ID | None:
    return strawberry.ID(value) if value else None


@strawberry.type
class Candidate:
    id: strawberry.ID
    name: str
    deleted: bool
    first_name: str | None
    last_name: str | None
    time_zone: str | None = strawberry.field(description="IANA time zone name, or null for UTC (R70).")

    @staticmethod
    def from_domain(c: dm.Candidate) -> "Candidate":
        return Candidate(
            id=strawberry.ID(c.candidate_id),
            name=c.name,
            deleted=c.deleted,
            first_name=c.first_name,
            last_name=c.last_name,
            time_zone=c.time_zone,
        )
