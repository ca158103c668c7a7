"""The sweeper Lambda handler on the in-memory store: each rule of the delivery table
(R20-R30), as a recruiter sees it through the API afterwards."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import steps
from gql import Caller, GraphQLClient
from inmail.domain.delivery import failure_message, failure_remedy
from inmail.domain.model import FailureCode
from support import T0, FakeClock
from sweeping import sweep_handler

DUE = T0 + timedelta(days=3)


@pytest.fixture
def world(api: GraphQLClient) -> dict[str, Caller]:
    api.contract("c1", credits=10, max_daily=25)
    admin = api.seat("r1", admin=True)
    other = api.seat("r2")
    kim = api.candidate("k1")
    return {"admin": admin, "r2": other, "kim": kim}


def send(recruiter: Caller, delay: int = 3, candidate: str = "k1") -> dict[str, Any]:
    return steps.sent(recruiter, candidate, followUp={"body": "ping", "delayDays": delay})


def thread_of(caller: Caller, tid: str) -> dict[str, Any]:
    found = steps.thread(caller, tid)
    assert found is not None
    return found


credits_left = steps.remaining


def assert_failed(thread: dict[str, Any], status: str, code: FailureCode) -> None:
    fu = thread["followUp"]
    assert fu["status"] == status
    assert fu["failure"]["code"] == code.value
    assert fu["failure"]["message"] == failure_message(code)
    assert fu["failure"]["remedy"] == failure_remedy(code)  # R28
    assert fu["creditRefunded"] is True
    assert fu["sentAt"] is None
    assert fu["decision"]["code"] == code.value


def test_r27_due_follow_up_is_delivered(api: GraphQLClient, world: dict[str, Caller], clock: FakeClock) -> None:
    t = send(world["admin"])
    summary = sweep_handler(api.deps, DUE)
    assert summary["delivered"] == 1 and summary["failed"] == 0
    clock.at = DUE
    after = thread_of(world["admin"], t["id"])
    fu = after["followUp"]
    assert fu["status"] == "SENT" and fu["sentAt"].startswith("2026-11-05T09:00:00")
    assert fu["failure"] is None and fu["creditRefunded"] is False
    assert fu["decision"]["rule"] == "R27"
    assert [c["rule"] for c in fu["decision"]["checks"]] == ["R20", "R21", "R22", "R23", "R24", "R25", "R27"]
    assert world["admin"].data("Viewer")["viewer"]["seat"]["sentToday"] == 1  # R40: counted on delivery day
    inbox = world["kim"].data("Inbox")["inbox"]["edges"]
    assert inbox[0]["node"]["followUp"]["body"] == "ping"  # in the candidate's inbox
    assert credits_left(world["admin"]) == 8  # R03: paid when scheduled, nothing more


def test_r20_reply_deletes_the_follow_up_and_the_sweep_never_sends_it(
    api: GraphQLClient, world: dict[str, Caller]
) -> None:
    t = send(world["admin"])
    world["kim"].mutate("ReplyToInMail", threadId=t["id"], body="Interested")
    summary = sweep_handler(api.deps, DUE + timedelta(hours=1))
    assert summary["delivered"] == 0 and summary["due"] == 0
    after = thread_of(world["admin"], t["id"])
    assert after["followUp"]["status"] == "DELETED" and after["followUp"]["sentAt"] is None
    assert after["creditsRefunded"] == 2  # R05
    assert credits_left(world["admin"]) == 10


def test_r21_disabled_automation_fails_and_refunds(api: GraphQLClient, world: dict[str, Caller]) -> None:
    t = send(world["admin"])
    assert not world["admin"].mutate("SetFollowUpsEnabled", enabled=False)["userErrors"]
    assert credits_left(world["admin"]) == 8  # R51: nothing refunded until due
    summary = sweep_handler(api.deps, DUE)
    assert summary["failed"] == 1 and summary["failed_by_code"] == {"AUTOMATION_DISABLED": 1}
    assert_failed(thread_of(world["admin"], t["id"]), "FAILED", FailureCode.AUTOMATION_DISABLED)
    assert credits_left(world["admin"]) == 9


def test_r51_enabling_again_before_due_lets_it_through(api: GraphQLClient, world: dict[str, Caller]) -> None:
    t = send(world["admin"])
    world["admin"].mutate("SetFollowUpsEnabled", enabled=False)
    world["admin"].mutate("SetFollowUpsEnabled", enabled=True)
    assert sweep_handler(api.deps, DUE)["delivered"] == 1
    assert thread_of(world["admin"], t["id"])["followUp"]["status"] == "SENT"


def test_r22_restricted_recruiter_fails_and_refunds(api: GraphQLClient, world: dict[str, Caller]) -> None:
    t = send(world["r2"])
    api.operator.mutate("SetRecruiterRestricted", recruiterId="r2", restricted=True)
    assert sweep_handler(api.deps, DUE)["failed_by_code"] == {"RECRUITER_RESTRICTED": 1}
    assert_failed(thread_of(world["r2"], t["id"]), "FAILED", FailureCode.RECRUITER_RESTRICTED)


def test_r24_deleted_profile_fails_and_refunds(api: GraphQLClient, world: dict[str, Caller]) -> None:
    t = send(world["admin"])
    api.candidate("k1", deleted=True)
    assert sweep_handler(api.deps, DUE)["failed_by_code"] == {"CANDIDATE_NOT_FOUND": 1}
    assert_failed(thread_of(world["admin"], t["id"]), "FAILED", FailureCode.CANDIDATE_NOT_FOUND)
    assert credits_left(world["admin"]) == 9


def test_r21_before_r22_the_first_that_holds_decides(api: GraphQLClient, world: dict[str, Caller]) -> None:
    t = send(world["admin"])
    world["admin"].mutate("SetFollowUpsEnabled", enabled=False)
    api.operator.mutate("SetRecruiterRestricted", recruiterId="r1", restricted=True)
    api.candidate("k1", deleted=True)
    sweep_handler(api.deps, DUE)
    decision = thread_of(world["admin"], t["id"])["followUp"]["decision"]
    assert decision["rule"] == "R21"
    assert [(c["rule"], c["holds"]) for c in decision["checks"]] == [("R20", False), ("R21", True)]


def test_r25_daily_maximum_cancels_keeps_it_awaiting_and_reschedule_delivers(
    api: GraphQLClient, world: dict[str, Caller], clock: FakeClock
) -> None:
    """R25, R29, R13, R40: the day's maximum is reached by first messages; the due
    follow-up is cancelled and refunded, stays in Awaiting Reply, and can be rescheduled."""
    api.operator.mutate("AddSeat", contractId="c1", recruiterId="r3", dailyLimit=1)
    r3 = api.as_("r3", "RECRUITER", contract="c1")
    t = send(r3)
    clock.at = DUE - timedelta(hours=1)
    api.candidate("k2")
    first = r3.mutate("SendInMail", candidateId="k2", subject="Another", body="Hello")
    assert not first["userErrors"]  # the day's one message
    summary = sweep_handler(api.deps, DUE)
    assert summary["cancelled"] == 1
    clock.at = DUE
    after = thread_of(r3, t["id"])
    assert_failed(after, "CANCELLED", FailureCode.DAILY_LIMIT_REACHED)
    awaiting = [e["node"] for e in r3.data("AwaitingReply")["awaitingReply"]["edges"]]
    assert t["id"] in [n["id"] for n in awaiting]  # R29
    assert next(n for n in awaiting if n["id"] == t["id"])["followUp"]["status"] == "CANCELLED"

    clock.at = DUE + timedelta(hours=16)  # next UTC day
    again = r3.mutate("RescheduleFollowUp", threadId=t["id"], delayDays=5)
    assert not again["userErrors"], again
    assert again["thread"]["followUp"]["status"] == "SCHEDULED"
    assert again["thread"]["creditsCharged"] == 3  # R13: charged again
    assert sweep_handler(api.deps, T0 + timedelta(days=5))["delivered"] == 1
    final = thread_of(r3, t["id"])
    assert final["followUp"]["status"] == "SENT" and final["followUp"]["failure"] is None
    assert final["creditsCharged"] == 3 and final["creditsRefunded"] == 1


def test_r26_delivery_keeps_failing_technical_issue(api: GraphQLClient, world: dict[str, Caller]) -> None:
    from fakes import FlakyDelivery

    t = send(world["admin"])
    api.deps.delivery = FlakyDelivery(api.deps.delivery, failures=100)
    assert sweep_handler(api.deps, DUE)["failed_by_code"] == {"TECHNICAL_ISSUE": 1}
    assert api.deps.delivery.attempts == api.deps.delivery_attempts  # type: ignore[attr-defined]
    assert_failed(thread_of(world["admin"], t["id"]), "FAILED", FailureCode.TECHNICAL_ISSUE)


def test_r23_follow_up_of_a_failed_first_message_never_goes_out(api: GraphQLClient, world: dict[str, Caller]) -> None:
    from fakes import FlakyDelivery

    good = api.deps.delivery
    api.deps.delivery = FlakyDelivery(good, failures=100)
    payload = world["admin"].mutate(
        "SendInMail", candidateId="k1", subject="A role", body="Hello", followUp={"body": "ping"}
    )
    api.deps.delivery = good
    assert [e["code"] for e in payload["userErrors"]] == ["TECHNICAL_ISSUE"]
    t = payload["thread"]
    assert t["initial"]["status"] == "FAILED"
    assert t["followUp"]["status"] == "FAILED"
    assert t["followUp"]["failure"]["code"] == "INITIAL_MESSAGE_FAILED"
    assert sweep_handler(api.deps, T0 + timedelta(days=8))["due"] == 0
    assert credits_left(world["admin"]) == 10


def test_r30_never_before_due_and_at_most_once(api: GraphQLClient, world: dict[str, Caller]) -> None:
    t = send(world["admin"])
    early = sweep_handler(api.deps, DUE - timedelta(seconds=1))
    assert early["due"] == 0 and early["delivered"] == 0
    assert sweep_handler(api.deps, DUE)["delivered"] == 1
    repeat = sweep_handler(api.deps, DUE + timedelta(minutes=1), request_id="sweep-2")
    assert repeat["delivered"] == 0 and repeat["due"] == 0
    assert thread_of(world["admin"], t["id"])["followUp"]["status"] == "SENT"


def test_r30_out_of_time_leaves_work_for_the_next_sweep(api: GraphQLClient, world: dict[str, Caller]) -> None:
    t = send(world["admin"])
    starved = sweep_handler(api.deps, DUE, remaining_ms=5_000)  # under the 10 s safety margin
    assert starved["out_of_time"] == 1 and starved["delivered"] == 0
    assert sweep_handler(api.deps, DUE + timedelta(minutes=1))["delivered"] == 1
    assert thread_of(world["admin"], t["id"])["followUp"]["status"] == "SENT"


def test_sweep_summary_reports_lag_and_refunds(api: GraphQLClient, world: dict[str, Caller]) -> None:
    send(world["admin"])
    world["admin"].mutate("SetFollowUpsEnabled", enabled=False)
    summary = sweep_handler(api.deps, DUE + timedelta(minutes=2))
    assert summary["lag_seconds"] == 120 and summary["refunded_credits"] == 1


def test_r29_cancelled_for_the_daily_maximum_stays_in_awaiting_reply_until_rescheduled(
    api: GraphQLClient, world: dict[str, Caller], clock: FakeClock
) -> None:
    api.operator.mutate("AddSeat", contractId="c1", recruiterId="r4", dailyLimit=1)
    r4 = api.as_("r4", "RECRUITER", contract="c1")
    t = send(r4)
    clock.at = DUE - timedelta(minutes=5)
    steps.sent(r4)  # today's one message
    assert sweep_handler(api.deps, DUE)["cancelled"] == 1
    listed = {n["id"]: n for n in steps.awaiting(r4)}
    assert listed[t["id"]]["status"] == "AWAITING_REPLY"
    fu = listed[t["id"]]["followUp"]
    assert fu["status"] == "CANCELLED"
    assert (fu["failure"]["code"], fu["failure"]["message"], fu["failure"]["remedy"]) == (
        "DAILY_LIMIT_REACHED",
        failure_message(FailureCode.DAILY_LIMIT_REACHED),
        failure_remedy(FailureCode.DAILY_LIMIT_REACHED),
    )
    clock.at = DUE + timedelta(days=1)
    again = r4.mutate("RescheduleFollowUp", threadId=t["id"], delayDays=6)
    assert again["userErrors"] == []
    assert {n["id"]: n for n in steps.awaiting(r4)}[t["id"]]["followUp"]["status"] == "SCHEDULED"
