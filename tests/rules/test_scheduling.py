"""Follow-up scheduling (SPEC.md R10-R14), through the GraphQL API on the in-memory store."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from steps import (
    codes,
    contract,
    ledger,
    only_error,
    remaining,
    send,
    sent,
    sent_ids,
    sent_today,
    state,
    thread,
    world,
)


def _due(t: dict) -> datetime:
    return datetime.fromisoformat(t["followUp"]["scheduledFor"])


def _sent_at(t: dict) -> datetime:
    return datetime.fromisoformat(t["initial"]["sentAt"])


# ---- R10 ------------------------------------------------------------------------------


def test_r10_follow_up_can_be_set_with_the_inmail(api, clock):
    w = world(api)
    t = sent(w.r1, followUp={"body": "Checking in"})
    assert t["followUp"]["kind"] == "FOLLOW_UP"
    assert t["followUp"]["body"] == "Checking in"
    assert t["followUp"]["status"] == "SCHEDULED"
    assert t["followUp"]["sentAt"] is None


def test_r10_follow_up_can_be_set_later_while_no_reply(api, clock):
    w = world(api)
    t = sent(w.r1)
    assert t["followUp"] is None
    clock.advance(days=2)
    p = w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Later ping")
    assert p["userErrors"] == []
    assert p["thread"]["followUp"]["status"] == "SCHEDULED"
    assert thread(w.r1, t["id"])["followUp"]["body"] == "Later ping"


def test_r10_at_most_one_follow_up(api, clock):
    w = world(api)
    with_one = sent(w.r1, followUp={"body": "First"})
    before = state(w.r1)
    p = w.r1.mutate("ScheduleFollowUp", threadId=with_one["id"], body="Second")
    assert only_error(p)["code"] == "FOLLOW_UP_EXISTS"
    assert p["thread"] is None
    assert state(w.r1) == before
    assert thread(w.r1, with_one["id"])["followUp"]["body"] == "First"

    later = sent(w.r1, subject="Other")
    assert codes(w.r1.mutate("ScheduleFollowUp", threadId=later["id"], body="One")) == []
    before = state(w.r1)
    assert codes(w.r1.mutate("ScheduleFollowUp", threadId=later["id"], body="Two")) == ["FOLLOW_UP_EXISTS"]
    assert state(w.r1) == before


@pytest.mark.parametrize("follow_up_status", ["CANCELLED", "DELETED"])
def test_r10_no_new_follow_up_once_one_existed(api, clock, follow_up_status):
    """A cancelled follow-up is rescheduled (R13), not replaced; a replied thread is closed."""
    w = world(api)
    t = sent(w.r1, followUp={"body": "Ping"})
    if follow_up_status == "CANCELLED":
        w.r1.mutate("CancelFollowUp", threadId=t["id"])
        expected = "FOLLOW_UP_EXISTS"
    else:
        w.k1.mutate("ReplyToInMail", threadId=t["id"], body="Hi")
        expected = "ALREADY_REPLIED"
    assert thread(w.r1, t["id"])["followUp"]["status"] == follow_up_status
    before = state(w.r1)
    assert codes(w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Another")) == [expected]
    assert state(w.r1) == before


def test_r10_no_follow_up_after_a_reply(api, clock):
    w = world(api)
    t = sent(w.r1)
    w.k1.mutate("ReplyToInMail", threadId=t["id"], body="Hi")
    before = state(w.r1)
    p = w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Too late")
    assert only_error(p)["code"] == "ALREADY_REPLIED"
    assert state(w.r1) == before
    assert thread(w.r1, t["id"])["followUp"] is None


# ---- R11 ------------------------------------------------------------------------------


def test_r11_delay_inside_the_window_is_accepted(api, clock):
    w = world(api)
    for days in (3, 10, 28):
        t = sent(w.r1, followUp={"body": "Ping", "delayDays": days})
        assert _due(t) - _sent_at(t) == timedelta(days=days), days
    assert remaining(w.r1) == 4


def test_r11_delay_outside_the_window_is_refused_and_nothing_charged(api, clock):
    w = world(api)
    before = state(w.r1)
    for days in (-1, 0, 2, 29, 365):
        p = send(w.r1, followUp={"body": "Ping", "delayDays": days})
        err = only_error(p)
        assert (err["code"], err["field"]) == ("FOLLOW_UP_WINDOW", ["input", "followUp", "delayDays"]), days
        assert p["thread"] is None, days
    assert state(w.r1) == before
    assert w.k1.data("Inbox")["inbox"]["edges"] == []


def test_r11_send_at_bounds_are_inclusive(api, clock):
    w = world(api)
    before = state(w.r1)
    for offset in (timedelta(hours=72) - timedelta(seconds=1), timedelta(days=28, seconds=1)):
        p = send(w.r1, followUp={"body": "Ping", "sendAt": (clock.now() + offset).isoformat()})
        err = only_error(p)
        assert (err["code"], err["field"]) == ("FOLLOW_UP_WINDOW", ["input", "followUp", "sendAt"]), offset
    assert state(w.r1) == before
    for offset in (timedelta(hours=72), timedelta(days=28)):
        p = send(w.r1, followUp={"body": "Ping", "sendAt": (clock.now() + offset).isoformat()})
        assert p["userErrors"] == [], offset
        assert _due(p["thread"]) == clock.now() + offset
    assert remaining(w.r1) == 6


def test_r11_send_at_with_another_offset_is_the_same_instant(api, clock):
    w = world(api)
    due = (clock.now() + timedelta(days=5)).astimezone(datetime.fromisoformat("2026-01-01T00:00:00-05:00").tzinfo)
    t = sent(w.r1, followUp={"body": "Ping", "sendAt": due.isoformat()})
    assert _due(t) == clock.now() + timedelta(days=5)


def test_r11_window_is_counted_from_the_first_message_when_scheduled_later(api, clock):
    w = world(api)
    t = sent(w.r1)
    first = _sent_at(t)
    clock.advance(days=10)
    # 25 days after now would be 35 days after the first message: outside.
    before = state(w.r1)
    p = w.r1.mutate(
        "ScheduleFollowUp", threadId=t["id"], body="Ping", sendAt=(clock.now() + timedelta(days=25)).isoformat()
    )
    assert codes(p) == ["FOLLOW_UP_WINDOW"]
    assert state(w.r1) == before
    # delayDays is also from the first message: 28 days is still inside.
    p = w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping", delayDays=28)
    assert p["userErrors"] == []
    assert _due(p["thread"]) == first + timedelta(days=28)
    assert remaining(w.r1) == 8


def test_r11_no_follow_up_once_the_window_has_closed(api, clock):
    w = world(api)
    t = sent(w.r1)
    clock.advance(days=28, seconds=1)
    before = state(w.r1)
    for extra in ({}, {"delayDays": 28}):
        p = w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping", **extra)
        assert codes(p) == ["FOLLOW_UP_WINDOW"], extra
    assert state(w.r1) == before


def test_r11_due_time_in_the_past_is_refused(api, clock):
    """Decided where the SPEC is silent: delayDays=3 asked on day 5 would be overdue."""
    w = world(api)
    t = sent(w.r1)
    clock.advance(days=5)
    before = state(w.r1)
    p = w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping", delayDays=3)
    assert codes(p) == ["FOLLOW_UP_WINDOW"]
    assert state(w.r1) == before


def test_r11_delay_days_and_send_at_together_are_invalid(api, clock):
    w = world(api)
    before = state(w.r1)
    p = send(w.r1, followUp={"body": "Ping", "delayDays": 5, "sendAt": (clock.now() + timedelta(days=5)).isoformat()})
    assert codes(p) == ["INVALID_INPUT"]
    assert state(w.r1) == before


# ---- R12 ------------------------------------------------------------------------------


def test_r12_default_is_seven_days_after_the_first_message(api, clock):
    w = world(api)
    t = sent(w.r1, followUp={"body": "Ping"})
    assert _due(t) - _sent_at(t) == timedelta(days=7)

    later = sent(w.r1, subject="Two")
    clock.advance(days=2, hours=5)
    p = w.r1.mutate("ScheduleFollowUp", threadId=later["id"], body="Ping")
    assert p["userErrors"] == []
    assert _due(p["thread"]) == _sent_at(later) + timedelta(days=7)


# ---- R13 ------------------------------------------------------------------------------


def test_r13_cancel_refunds_the_follow_up_credit(api, clock):
    w = world(api, credits=10)
    t = sent(w.r1, followUp={"body": "Ping"})
    assert remaining(w.r1) == 8
    clock.advance(hours=3)
    p = w.r1.mutate("CancelFollowUp", threadId=t["id"])
    assert p["userErrors"] == []
    fu = p["thread"]["followUp"]
    assert fu["status"] == "CANCELLED"
    assert fu["creditRefunded"] is True
    assert p["thread"]["creditsRefunded"] == 1
    assert remaining(w.r1) == 9
    refund = ledger(w.r1)[0]
    assert (refund["kind"], refund["messageId"]) == ("REFUND", fu["id"])
    assert datetime.fromisoformat(refund["at"]) == clock.now()
    assert thread(w.r1, t["id"])["status"] == "AWAITING_REPLY"


def test_r13_cancel_without_a_scheduled_follow_up_is_refused(api, clock):
    w = world(api)
    t = sent(w.r1)
    before = state(w.r1)
    p = w.r1.mutate("CancelFollowUp", threadId=t["id"])
    assert only_error(p)["code"] == "NOT_SCHEDULED"
    assert state(w.r1) == before


def test_r13_reschedule_a_cancelled_follow_up_charges_again(api, clock):
    w = world(api, credits=10)
    t = sent(w.r1, followUp={"body": "Ping"})
    w.r1.mutate("CancelFollowUp", threadId=t["id"])
    clock.advance(days=1)
    p = w.r1.mutate("RescheduleFollowUp", threadId=t["id"], delayDays=5)
    assert p["userErrors"] == []
    fu = p["thread"]["followUp"]
    assert fu["status"] == "SCHEDULED"
    assert fu["id"] == t["followUp"]["id"]  # the same message, not a second follow-up
    assert fu["body"] == "Ping"
    assert fu["creditCharged"] is True
    assert fu["creditRefunded"] is False
    assert _due(p["thread"]) == _sent_at(t) + timedelta(days=5)
    assert (p["thread"]["creditsCharged"], p["thread"]["creditsRefunded"]) == (3, 1)
    assert remaining(w.r1) == 8
    charge = ledger(w.r1)[0]
    assert (charge["kind"], charge["messageId"]) == ("CHARGE", fu["id"])
    assert datetime.fromisoformat(charge["at"]) == clock.now()


def test_r13_reschedule_follows_the_same_window_rule(api, clock):
    w = world(api)
    t = sent(w.r1, followUp={"body": "Ping"})
    w.r1.mutate("CancelFollowUp", threadId=t["id"])
    before = state(w.r1)
    for timing in ({"delayDays": 2}, {"delayDays": 29}, {"sendAt": (clock.now() + timedelta(hours=71)).isoformat()}):
        p = w.r1.mutate("RescheduleFollowUp", threadId=t["id"], **timing)
        assert codes(p) == ["FOLLOW_UP_WINDOW"], timing
    clock.advance(days=29)
    assert codes(w.r1.mutate("RescheduleFollowUp", threadId=t["id"])) == ["FOLLOW_UP_WINDOW"]
    clock.at = clock.at - timedelta(days=29)
    assert state(w.r1) == before
    assert thread(w.r1, t["id"])["followUp"]["status"] == "CANCELLED"


def test_r13_only_a_cancelled_follow_up_can_be_rescheduled(api, clock):
    w = world(api)
    scheduled = sent(w.r1, followUp={"body": "Ping"})
    without = sent(w.r1, subject="No follow-up")
    before = state(w.r1)
    assert codes(w.r1.mutate("RescheduleFollowUp", threadId=scheduled["id"])) == ["NOT_CANCELLED"]
    assert codes(w.r1.mutate("RescheduleFollowUp", threadId=without["id"])) == ["NOT_CANCELLED"]
    assert state(w.r1) == before


def test_r13_no_reschedule_after_a_reply(api, clock):
    w = world(api)
    t = sent(w.r1, followUp={"body": "Ping"})
    w.r1.mutate("CancelFollowUp", threadId=t["id"])
    w.k1.mutate("ReplyToInMail", threadId=t["id"], body="Hi")
    before = state(w.r1)
    assert codes(w.r1.mutate("RescheduleFollowUp", threadId=t["id"])) == ["ALREADY_REPLIED"]
    assert state(w.r1) == before


# ---- R14 ------------------------------------------------------------------------------


def test_r14_scheduling_refused_when_follow_ups_disabled(api, clock):
    w = world(api, enabled=False)
    assert contract(w.r1)["followUpsEnabled"] is False
    t = sent(w.r1)
    before = state(w.r1)
    p = w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping")
    assert only_error(p)["code"] == "FOLLOW_UPS_DISABLED"
    assert p["thread"] is None
    assert state(w.r1) == before
    assert thread(w.r1, t["id"])["followUp"] is None


def test_r14_first_message_with_follow_up_refused_whole_then_resent_without(api, clock):
    w = world(api, enabled=False)
    before = state(w.r1)
    p = send(w.r1, followUp={"body": "Ping"})
    err = only_error(p)
    assert err["code"] == "FOLLOW_UPS_DISABLED"
    assert err["field"] == ["input", "followUp"]
    assert p["thread"] is None
    # Nothing sent, nothing charged, nothing counted.
    assert state(w.r1) == before
    assert sent_ids(w.r1) == []
    assert sent_today(w.r1) == 0
    assert w.k1.data("Inbox")["inbox"]["edges"] == []
    # The recruiter resends it without the follow-up.
    t = sent(w.r1)
    assert t["followUp"] is None
    assert remaining(w.r1) == 9
    assert sent_ids(w.r1) == [t["id"]]


def test_r14_reschedule_refused_when_follow_ups_disabled(api, clock):
    w = world(api)
    admin = api.seat("a1", "c1", admin=True)
    t = sent(w.r1, followUp={"body": "Ping"})
    w.r1.mutate("CancelFollowUp", threadId=t["id"])
    admin.mutate("SetFollowUpsEnabled", enabled=False)
    before = state(w.r1)
    assert codes(w.r1.mutate("RescheduleFollowUp", threadId=t["id"])) == ["FOLLOW_UPS_DISABLED"]
    assert state(w.r1) == before
    admin.mutate("SetFollowUpsEnabled", enabled=True)
    assert codes(w.r1.mutate("RescheduleFollowUp", threadId=t["id"])) == []


def test_r14_cancel_still_allowed_when_follow_ups_disabled(api, clock):
    """Disabling does not trap credits: a recruiter may still cancel (and get the refund)."""
    w = world(api)
    admin = api.seat("a1", "c1", admin=True)
    t = sent(w.r1, followUp={"body": "Ping"})
    admin.mutate("SetFollowUpsEnabled", enabled=False)
    p = w.r1.mutate("CancelFollowUp", threadId=t["id"])
    assert p["userErrors"] == []
    assert remaining(w.r1) == 9
