"""The sweeper's money and decision rules under interleavings and clock edges (bugs an
audit found on 2026-11-27, fixed): a change committed between the decision and the
delivery, an event time with a UTC offset, a sweep that runs late.

Each test drives the public paths (GraphQL through `api`, the sweeper handler or
run_sweep) and names the SPEC rule it checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

import pytest

import steps
from gql import Caller, GraphQLClient
from inmail.domain.model import Changes
from inmail.domain.ports import Delivery
from support import T0, FakeClock
from sweeping import sweep_handler

DUE = T0 + timedelta(days=3)
NEW_YORK = timezone(timedelta(hours=-5))


@dataclass
class InterleavingDelivery:
    """Runs `before_first` (a concurrent API request) once, right before the sweeper's
    delivery commit: the sweeper has already read seat, candidate and contract and decided."""

    inner: Delivery
    before_first: Callable[[], None]
    calls: list[int] = field(default_factory=list)

    def deliver(self, changes: Changes) -> None:
        if not self.calls:
            self.before_first()
        self.calls.append(1)
        self.inner.deliver(changes)


@pytest.fixture
def w(api: GraphQLClient) -> dict[str, Caller]:
    world = steps.world(api, admin=True)
    return {"r1": world.r1, "k1": world.k1}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (steps.disable_follow_ups, "AUTOMATION_DISABLED"),  # R21 / R51
        (steps.restrict_recruiter, "RECRUITER_RESTRICTED"),  # R22
        (steps.delete_candidate, "CANDIDATE_NOT_FOUND"),  # R24
    ],
    ids=["r21_disabled", "r22_restricted", "r24_deleted"],
)
def test_r21_r22_r24_change_committed_before_the_delivery_commit_still_decides(
    api: GraphQLClient, w: dict[str, Caller], clock: FakeClock, change: Callable[[GraphQLClient], None], code: str
) -> None:
    """The sweeper reads contract, seat and candidate, decides SENT, and a restriction, a
    profile deletion or a disabling commits before its delivery does. The delivery is
    conditioned on the versions it read, so it loses and the sweep decides again: not
    delivered, refunded, with the reason of R21/R22/R24."""
    t = steps.sent(w["r1"], followUp={"body": "ping", "delayDays": 3})
    api.deps.delivery = InterleavingDelivery(api.deps.delivery, lambda: change(api))

    steps.sweep(api, DUE)
    assert api.deps.delivery.calls, "the change ran between the decision and the delivery commit"

    clock.at = DUE
    fu = steps.thread(w["r1"], t["id"])["followUp"]  # type: ignore[index]
    assert fu["status"] != "SENT", "delivered although the condition held when the delivery committed"
    assert fu["failure"]["code"] == code
    assert fu["creditRefunded"] is True


# ---- the sweep's "now" and UTC months/days ------------------------------------------


def test_r08_sweep_event_time_with_an_offset_refunds_into_the_utc_month(
    api: GraphQLClient, w: dict[str, Caller], clock: FakeClock
) -> None:
    """A sweep whose event time is 2026-11-30T20:30-05:00 (= 2026-12-01T01:30Z) refunds into
    December, the UTC month (it used the time as given: November)."""
    clock.at = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    t = steps.sent(w["r1"], followUp={"body": "ping", "delayDays": 5})  # due 2026-12-01T00:00Z
    steps.delete_candidate(api)  # R24 at delivery: the follow-up's credit comes back
    assert steps.remaining(w["r1"]) == 8  # November: 2 charged

    summary = sweep_handler(api.deps, datetime(2026, 11, 30, 20, 30, tzinfo=NEW_YORK))
    assert summary["failed"] == 1 and summary["refunded_credits"] == 1

    clock.at = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    fu = steps.thread(w["r1"], t["id"])["followUp"]  # type: ignore[index]
    assert fu["failure"]["code"] == "CANDIDATE_NOT_FOUND"
    # The refund happened on 2026-12-01 (UTC): December's balance is 10 + 1.
    assert steps.remaining(w["r1"]) == 11


def test_r40_sweep_event_time_with_an_offset_counts_the_utc_day(
    api: GraphQLClient, w: dict[str, Caller], clock: FakeClock
) -> None:
    """The daily count (R40) of a follow-up delivered on 2026-12-01 UTC by a sweep whose
    event time has an offset is on 2026-12-01's counter."""
    clock.at = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    steps.sent(w["r1"], followUp={"body": "ping", "delayDays": 5})

    summary = sweep_handler(api.deps, datetime(2026, 11, 30, 20, 30, tzinfo=NEW_YORK))
    assert summary["delivered"] == 1

    clock.at = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    assert steps.sent_today(w["r1"]) == 1


def test_r08_late_sweep_refund_lands_in_the_month_it_happens(
    api: GraphQLClient, w: dict[str, Caller], clock: FakeClock
) -> None:
    """An invocation may run minutes after its scheduled time (template.yaml: event age up
    to 300 s, Scheduler retries). A sweep scheduled at 2026-11-30T23:59Z that runs at
    2026-12-01T00:02Z refunds into December, when the refund happens (R08)."""
    clock.at = datetime(2026, 11, 26, 23, 58, tzinfo=UTC)
    steps.sent(w["r1"], followUp={"body": "ping", "delayDays": 4})  # due 2026-11-30T23:58Z
    steps.delete_candidate(api)

    clock.at = datetime(2026, 12, 1, 0, 2, tzinfo=UTC)  # the real time of the (retried) run
    summary = sweep_handler(api.deps, datetime(2026, 11, 30, 23, 59, tzinfo=UTC))
    assert summary["failed"] == 1 and summary["refunded_credits"] == 1

    assert steps.remaining(w["r1"]) == 11, "the December refund was credited to November"


def test_r40_late_sweep_delivery_counts_on_the_day_it_is_delivered(
    api: GraphQLClient, w: dict[str, Caller], clock: FakeClock
) -> None:
    """R40: a follow-up delivered at 00:02Z on Dec 1 by the late sweep counts on Dec 1, so a
    daily maximum of 1 is reached (counted on Nov 30, it allowed one more)."""
    p = w["r1"].mutate("SetDailyLimit", dailyLimit=1)
    assert not p["userErrors"], p
    clock.at = datetime(2026, 11, 26, 23, 58, tzinfo=UTC)
    steps.sent(w["r1"], followUp={"body": "ping", "delayDays": 4})  # due 2026-11-30T23:58Z

    clock.at = datetime(2026, 12, 1, 0, 2, tzinfo=UTC)
    summary = sweep_handler(api.deps, datetime(2026, 11, 30, 23, 59, tzinfo=UTC))
    assert summary["delivered"] == 1

    # One message went out today (Dec 1, UTC); a daily maximum of 1 is reached.
    p = steps.send(w["r1"], subject="second today")
    assert steps.codes(p) == ["DAILY_LIMIT_REACHED"], "two messages delivered on 2026-12-01 with a maximum of 1"
