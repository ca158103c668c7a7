"""Sending limits and input validation (SPEC.md R40-R45), through the GraphQL API on the in-memory store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from steps import (
    codes,
    inbox_ids,
    only_error,
    remaining,
    send,
    sent,
    sent_today,
    state,
    sweep,
    thread,
    world,
)

# ---- R40 / R41 --------------------------------------------------------------------------


def test_r40_daily_maximum_counts_messages_sent_today(api, clock):
    w = world(api, daily=2)
    assert sent_today(w.r1) == 0
    sent(w.r1)
    assert sent_today(w.r1) == 1
    sent(w.r1, subject="Two")
    assert sent_today(w.r1) == 2
    before = state(w.r1)
    p = send(w.r1, subject="Three")
    assert only_error(p)["code"] == "DAILY_LIMIT_REACHED"
    assert state(w.r1) == before


def test_r40_first_messages_and_follow_ups_count_together(api, clock):
    w = world(api, daily=2)
    t = sent(w.r1, followUp={"body": "Ping", "delayDays": 3})
    # Scheduling a follow-up is not sending it.
    assert sent_today(w.r1) == 1
    clock.advance(days=3)
    sent(w.r1, subject="Day 3, first message")
    sweep(api, clock.now())  # the follow-up goes out today: the second message of the day
    assert thread(w.r1, t["id"])["followUp"]["status"] == "SENT"
    assert sent_today(w.r1) == 2
    assert codes(send(w.r1, subject="Third today")) == ["DAILY_LIMIT_REACHED"]


def test_r40_count_resets_at_midnight_utc(api, clock):
    w = world(api, daily=1)
    clock.at = datetime(2026, 11, 3, 23, 59, 59, tzinfo=UTC)
    sent(w.r1)
    assert codes(send(w.r1, subject="Still the 3rd")) == ["DAILY_LIMIT_REACHED"]
    clock.at = datetime(2026, 11, 4, 0, 0, tzinfo=UTC)
    assert sent_today(w.r1) == 0
    sent(w.r1, subject="The 4th")
    assert sent_today(w.r1) == 1


def test_r40_daily_count_is_per_recruiter(api, clock):
    w = world(api, daily=1)
    r2 = api.seat("r2", "c1", daily=1)
    sent(w.r1)
    assert codes(send(w.r1, subject="Again")) == ["DAILY_LIMIT_REACHED"]
    assert sent_today(r2) == 0
    sent(r2)
    assert sent_today(r2) == 1


def test_r40_refused_and_failed_sends_do_not_count(api, clock):
    w = world(api, credits=1, daily=5)
    sent(w.r1)
    assert codes(send(w.r1, subject="No credits")) == ["INSUFFICIENT_CREDITS"]
    assert codes(send(w.r1, candidate="nobody")) == ["CANDIDATE_NOT_FOUND"]
    assert sent_today(w.r1) == 1


def test_r41_first_message_over_maximum_is_refused_and_nothing_charged(api, clock):
    w = world(api, credits=10, daily=1)
    sent(w.r1)
    before = state(w.r1)
    p = send(w.r1, subject="Over", followUp={"body": "Ping"})
    assert only_error(p)["code"] == "DAILY_LIMIT_REACHED"
    assert p["thread"] is None
    assert state(w.r1) == before
    assert remaining(w.r1) == 9
    assert len(inbox_ids(w.k1)) == 1


def test_r41_scheduling_a_follow_up_is_not_refused_by_the_daily_maximum(api, clock):
    """A follow-up over the maximum is decided when due (R25), not when scheduled."""
    w = world(api, daily=1)
    t = sent(w.r1)
    p = w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping")
    assert p["userErrors"] == []
    assert sent_today(w.r1) == 1


# ---- R42 --------------------------------------------------------------------------------


def test_r42_recruiter_raises_own_daily_maximum_up_to_the_cap(api, clock):
    w = world(api, max_daily=5, daily=1)
    sent(w.r1)
    assert codes(send(w.r1, subject="Two")) == ["DAILY_LIMIT_REACHED"]
    p = w.r1.mutate("SetDailyLimit", dailyLimit=5)
    assert p["userErrors"] == []
    assert p["seat"]["dailyLimit"] == 5
    assert p["seat"]["recruiterId"] == "r1"
    assert p["seat"]["sentToday"] == 1
    assert w.r1.data("Viewer")["viewer"]["seat"]["dailyLimit"] == 5
    sent(w.r1, subject="Two")


def test_r42_lowering_the_maximum_applies_to_todays_count(api, clock):
    w = world(api, max_daily=5, daily=5)
    sent(w.r1)
    sent(w.r1, subject="Two")
    assert w.r1.mutate("SetDailyLimit", dailyLimit=2)["userErrors"] == []
    assert codes(send(w.r1, subject="Three")) == ["DAILY_LIMIT_REACHED"]


def test_r42_daily_maximum_outside_one_to_the_cap_is_invalid(api, clock):
    w = world(api, max_daily=5, daily=3)
    for value in (0, -1, 6, 10_000):
        p = w.r1.mutate("SetDailyLimit", dailyLimit=value)
        err = only_error(p)
        assert (err["code"], err["field"]) == ("INVALID_INPUT", ["input", "dailyLimit"]), value
        assert p["seat"] is None
    assert w.r1.data("Viewer")["viewer"]["seat"]["dailyLimit"] == 3
    assert w.r1.mutate("SetDailyLimit", dailyLimit=5)["seat"]["dailyLimit"] == 5  # the cap itself is allowed


def test_r42_setting_the_maximum_changes_only_the_callers_seat(api, clock):
    w = world(api, max_daily=5, daily=3)
    r2 = api.seat("r2", "c1", daily=3)
    w.r1.mutate("SetDailyLimit", dailyLimit=1)
    assert r2.data("Viewer")["viewer"]["seat"]["dailyLimit"] == 3


def test_r42_only_a_seat_holder_sets_a_daily_maximum(api, clock):
    world(api)
    for roles in (("CANDIDATE",), ("OPERATOR",), ("RECRUITER",)):  # the last: a token with no seat
        r = api.as_("k1", *roles).op("SetDailyLimit", input={"dailyLimit": 3})
        assert r.error_codes == ["FORBIDDEN"], roles


# ---- R43 --------------------------------------------------------------------------------


def test_r43_restricted_recruiter_cannot_send(api, clock):
    w = world(api)
    flagged = w.operator.mutate("SetRecruiterRestricted", recruiterId="r1", restricted=True)
    assert flagged["seat"]["restricted"] is True
    assert w.r1.data("Viewer")["viewer"]["seat"]["restricted"] is True
    before = state(w.r1)
    for extra in ({}, {"followUp": {"body": "Ping"}}):
        p = send(w.r1, **extra)
        assert only_error(p)["code"] == "RECRUITER_RESTRICTED"
        assert p["thread"] is None
    assert state(w.r1) == before
    assert inbox_ids(w.k1) == []


def test_r43_restricted_recruiter_cannot_schedule_or_reschedule(api, clock):
    w = world(api)
    t = sent(w.r1)
    cancelled = sent(w.r1, subject="Two", followUp={"body": "Ping"})
    w.r1.mutate("CancelFollowUp", threadId=cancelled["id"])
    w.operator.mutate("SetRecruiterRestricted", recruiterId="r1", restricted=True)
    before = state(w.r1)
    assert codes(w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping")) == ["RECRUITER_RESTRICTED"]
    assert codes(w.r1.mutate("RescheduleFollowUp", threadId=cancelled["id"])) == ["RECRUITER_RESTRICTED"]
    assert state(w.r1) == before


def test_r43_restricted_recruiter_can_still_cancel_and_is_refunded(api, clock):
    w = world(api, credits=10)
    t = sent(w.r1, followUp={"body": "Ping"})
    w.operator.mutate("SetRecruiterRestricted", recruiterId="r1", restricted=True)
    p = w.r1.mutate("CancelFollowUp", threadId=t["id"])
    assert p["userErrors"] == []
    assert p["thread"]["followUp"]["status"] == "CANCELLED"
    assert remaining(w.r1) == 9


def test_r43_unflagged_recruiter_can_send_again(api, clock):
    w = world(api)
    w.operator.mutate("SetRecruiterRestricted", recruiterId="r1", restricted=True)
    assert codes(send(w.r1)) == ["RECRUITER_RESTRICTED"]
    w.operator.mutate("SetRecruiterRestricted", recruiterId="r1", restricted=False)
    sent(w.r1)
    assert remaining(w.r1) == 9


def test_r43_restriction_is_per_recruiter(api, clock):
    w = world(api)
    r2 = api.seat("r2", "c1")
    w.operator.mutate("SetRecruiterRestricted", recruiterId="r1", restricted=True)
    sent(r2)


def test_r43_flagging_an_unknown_recruiter_is_not_found(api, clock):
    world(api)
    p = api.operator.mutate("SetRecruiterRestricted", recruiterId="ghost", restricted=True)
    assert only_error(p)["code"] == "NOT_FOUND"


# ---- R44 --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["deleted", "unknown"])
def test_r44_first_message_to_deleted_or_unknown_profile_is_refused(api, clock, case):
    w = world(api)
    if case == "deleted":
        api.candidate("gone", deleted=True)
    before = state(w.r1)
    p = send(w.r1, candidate="gone")
    err = only_error(p)
    assert err["code"] == "CANDIDATE_NOT_FOUND"
    assert err["field"] == ["input", "candidateId"]
    assert p["thread"] is None
    assert state(w.r1) == before


def test_r44_profile_deleted_after_registration(api, clock):
    w = world(api)
    sent(w.r1)
    api.candidate("k1", deleted=True)
    before = state(w.r1)
    assert codes(send(w.r1, subject="Again")) == ["CANDIDATE_NOT_FOUND"]
    assert state(w.r1) == before
    api.candidate("k1", deleted=False)  # restored profile
    sent(w.r1, subject="Again")


# ---- R45 --------------------------------------------------------------------------------

BAD_TEXT = [
    ("empty", ""),
    ("bell", "Hello \x07 there"),
    ("nul", "Hello\x00"),
    ("escape", "\x1b[31mred"),
    ("carriage return", "Line one\rLine two"),
    ("delete", "Hello\x7f"),
    ("c1 control", "Hello\x85"),
    ("only spaces", "   "),
]


def _bad_send_inputs():
    """(case, sendInMail input overrides, expected field)."""
    cases = [
        ("subject 201", {"subject": "s" * 201}, ["input", "subject"]),
        ("body 1901", {"body": "b" * 1901}, ["input", "body"]),
        ("follow-up body 1901", {"followUp": {"body": "f" * 1901}}, ["input", "followUp", "body"]),
    ]
    for name, text in BAD_TEXT:
        cases.append((f"subject {name}", {"subject": text}, ["input", "subject"]))
        cases.append((f"body {name}", {"body": text}, ["input", "body"]))
        cases.append((f"follow-up body {name}", {"followUp": {"body": text}}, ["input", "followUp", "body"]))
    return cases


def test_r45_invalid_send_input_names_the_field_and_charges_nothing(api, clock):
    w = world(api)
    before = state(w.r1)
    for case, overrides, field in _bad_send_inputs():
        p = send(w.r1, **overrides)
        err = only_error(p)
        assert err["code"] == "INVALID_INPUT", case
        assert err["field"] == field, case
        assert err["message"], case
        assert p["thread"] is None, case
    assert state(w.r1) == before
    assert inbox_ids(w.k1) == []


def test_r45_limits_are_inclusive_and_newline_and_tab_are_accepted(api, clock):
    w = world(api)
    edge = sent(w.r1, subject="s" * 200, body="b" * 1900, followUp={"body": "f" * 1900})
    assert len(edge["initial"]["subject"]) == 200
    assert len(edge["initial"]["body"]) == 1900
    assert len(edge["followUp"]["body"]) == 1900
    shortest = sent(w.r1, subject="S", body="B", followUp={"body": "F"})
    assert shortest["initial"]["subject"] == "S"
    layout = sent(
        w.r1, subject="Role:\tSenior engineer", body="Hi,\n\n\tA role for you.\n", followUp={"body": "Hi\n\tagain"}
    )
    stored = thread(w.r1, layout["id"])
    assert stored["initial"]["subject"] == "Role:\tSenior engineer"
    assert stored["initial"]["body"] == "Hi,\n\n\tA role for you.\n"
    assert stored["followUp"]["body"] == "Hi\n\tagain"
    assert remaining(w.r1) == 4


def test_r45_length_counts_characters_not_bytes(api, clock):
    w = world(api)
    t = sent(w.r1, subject="é" * 200, body="🙂" * 1900)
    assert len(t["initial"]["subject"]) == 200
    assert codes(send(w.r1, subject="é" * 201)) == ["INVALID_INPUT"]


def test_r45_follow_up_and_reply_bodies_are_validated(api, clock):
    w = world(api)
    t = sent(w.r1)
    before = state(w.r1)
    for mutation, caller in (("ScheduleFollowUp", w.r1), ("ReplyToInMail", w.k1)):
        for body in ("", "x" * 1901, "ring\x07", "\x1b[0m"):
            p = caller.mutate(mutation, threadId=t["id"], body=body)
            err = only_error(p)
            assert (err["code"], err["field"]) == ("INVALID_INPUT", ["input", "body"]), (mutation, body)
    assert state(w.r1) == before
    assert thread(w.r1, t["id"])["status"] == "AWAITING_REPLY"
    assert thread(w.r1, t["id"])["followUp"] is None


def test_r45_valid_follow_up_body_edges_are_accepted_when_scheduled(api, clock):
    w = world(api)
    t = sent(w.r1)
    p = w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="x" * 1899 + "\n", delayDays=3)
    assert p["userErrors"] == []
    assert len(p["thread"]["followUp"]["body"]) == 1900


def test_r45_validation_comes_before_any_other_refusal(api, clock):
    """Nothing is charged and the field is named even when other rules would refuse too."""
    w = world(api, credits=0)
    p = send(w.r1, subject="", candidate="nobody")
    err = only_error(p)
    assert (err["code"], err["field"]) == ("INVALID_INPUT", ["input", "subject"])


def test_r45_send_at_without_offset_is_invalid(api, clock):
    w = world(api)
    before = state(w.r1)
    naive = (clock.now() + timedelta(days=5)).replace(tzinfo=None).isoformat()
    p = send(w.r1, followUp={"body": "x", "sendAt": naive})
    err = only_error(p)
    assert (err["code"], err["field"]) == ("INVALID_INPUT", ["input", "followUp", "sendAt"])
    assert state(w.r1) == before
