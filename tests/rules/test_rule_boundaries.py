"""SPEC.md rules at their boundaries, through the public GraphQL path (in-memory store). The first
three were violations an audit found (2026-11-27), now fixed; the rest pin boundaries no
other test covered.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest

from gql import GraphQLClient
from steps import codes, only_error, send, sent, sent_today, state, sweep, thread, world
from support import FakeClock

# ---- violations found by the audit, fixed -----------------------------------------------


@pytest.mark.parametrize("delay_days", [3_000_000, 2_147_483_647, -2_147_483_648])
def test_r11_delay_days_far_outside_the_window_is_follow_up_window_not_a_crash(
    api: GraphQLClient, clock: FakeClock, delay_days: int
) -> None:
    """R11: "Outside that window: FOLLOW_UP_WINDOW, nothing charged." Any GraphQL Int is a
    legal delayDays; a delay whose due date falls past year 9999 (or beyond timedelta's
    range) raised OverflowError and the client got the masked "Unexpected error"."""
    w = world(api)
    t = sent(w.r1)
    cancelled = sent(w.r1, subject="Two", followUp={"body": "Ping"})
    assert codes(w.r1.mutate("CancelFollowUp", threadId=cancelled["id"])) == []
    before = state(w.r1)
    calls = {
        "sendInMail": (
            "SendInMail",
            {"candidateId": "k1", "subject": "s", "body": "b", "followUp": {"body": "Ping", "delayDays": delay_days}},
        ),
        "scheduleFollowUp": ("ScheduleFollowUp", {"threadId": t["id"], "body": "Ping", "delayDays": delay_days}),
        "rescheduleFollowUp": ("RescheduleFollowUp", {"threadId": cancelled["id"], "delayDays": delay_days}),
    }
    got = {}
    for root, (op, payload) in calls.items():
        r = w.r1.op(op, input=payload)
        got[root] = [e["message"] for e in r.errors] if r.errors else codes(r.data[root])
    assert state(w.r1) == before  # nothing charged either way
    assert got == {key: ["FOLLOW_UP_WINDOW"] for key in calls}


def test_r45_length_counts_characters_whatever_the_unicode_normalization(api: GraphQLClient, clock: FakeClock) -> None:
    """R45: "Subject: 1 to 200 characters. Body ...: 1 to 1,900 characters." 200 "é" typed
    in decomposed form (NFD: e + U+0301, as macOS/some IMEs send) are 200 characters; they
    were refused as 400 code points. Text is now taken in its composed form (NFC)."""
    w = world(api)
    subject = unicodedata.normalize("NFD", "é" * 200)
    body = unicodedata.normalize("NFD", "Å" * 1900)
    assert len(subject) == 400 and len(unicodedata.normalize("NFC", subject)) == 200
    p = send(w.r1, subject=subject, body=body, followUp={"body": body})
    assert p["userErrors"] == [], p["userErrors"]


def test_r45_timing_input_errors_are_refused_before_any_other_rule(api: GraphQLClient, clock: FakeClock) -> None:
    """README "Refusal order: input validation (R45) first, then ... the recruiter
    (restricted), then the contract (follow-ups disabled), then the window". A sendAt with
    no UTC offset, or delayDays and sendAt together, is INVALID_INPUT (README, R45); it was
    checked only after the candidate (R44), the restriction (R43) and the contract switch
    (R14), so the recruiter was told to "send the InMail without" a follow-up, or that the
    profile is gone, for a malformed date."""
    w = world(api)
    admin = api.seat("a1", "c1", admin=True)
    t = sent(w.r1)
    naive = (clock.now() + timedelta(days=5)).replace(tzinfo=None).isoformat()
    aware = (clock.now() + timedelta(days=5)).isoformat()

    got = {}
    # R44 checked first: unknown candidate.
    got["send, unknown candidate, naive sendAt"] = codes(
        send(w.r1, candidate="nobody", followUp={"body": "Ping", "sendAt": naive})
    )

    # R14 checked first: follow-ups disabled.
    admin.mutate("SetFollowUpsEnabled", enabled=False)
    got["send, disabled, naive sendAt"] = codes(send(w.r1, followUp={"body": "Ping", "sendAt": naive}))
    got["schedule, disabled, naive sendAt"] = codes(
        w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping", sendAt=naive)
    )
    got["schedule, disabled, delayDays and sendAt"] = codes(
        w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping", delayDays=5, sendAt=aware)
    )
    admin.mutate("SetFollowUpsEnabled", enabled=True)

    # R43 checked first: restricted recruiter.
    w.operator.mutate("SetRecruiterRestricted", recruiterId="r1", restricted=True)
    got["send, restricted, naive sendAt"] = codes(send(w.r1, followUp={"body": "Ping", "sendAt": naive}))
    got["schedule, restricted, naive sendAt"] = codes(
        w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping", sendAt=naive)
    )
    assert got == {key: ["INVALID_INPUT"] for key in got}


# ---- boundaries that hold (no other test covered them) ----------------------------------


def test_r11_due_exactly_now_inside_the_window_is_accepted_a_microsecond_earlier_is_not(
    api: GraphQLClient, clock: FakeClock
) -> None:
    """Boundary (R11 + README "a due time in the past is refused"): scheduled later,
    sendAt == now and delayDays landing exactly on now are accepted (due = now); 1 µs before
    now is refused. Existing tests only used a due time days in the past."""
    w = world(api, credits=20)
    first = sent(w.r1)
    first_at = datetime.fromisoformat(first["initial"]["sentAt"])
    clock.at = first_at + timedelta(days=5)
    before = state(w.r1)
    p = w.r1.mutate(
        "ScheduleFollowUp",
        threadId=first["id"],
        body="Ping",
        sendAt=(clock.now() - timedelta(microseconds=1)).isoformat(),
    )
    assert codes(p) == ["FOLLOW_UP_WINDOW"]
    assert state(w.r1) == before
    p = w.r1.mutate("ScheduleFollowUp", threadId=first["id"], body="Ping", sendAt=clock.now().isoformat())
    assert p["userErrors"] == []
    assert datetime.fromisoformat(p["thread"]["followUp"]["scheduledFor"]) == clock.now()

    # delayDays=3 asked at exactly the 72nd hour: due now, accepted.
    clock.at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    other = sent(w.r1, subject="Two")
    clock.advance(hours=72)
    p = w.r1.mutate("ScheduleFollowUp", threadId=other["id"], body="Ping", delayDays=3)
    assert p["userErrors"] == []
    assert datetime.fromisoformat(p["thread"]["followUp"]["scheduledFor"]) == clock.now()
    sweep(api, clock.now())
    assert thread(w.r1, other["id"])["followUp"]["status"] == "SENT"


def test_r12_default_asked_at_the_last_instant_of_the_window_is_due_then(api: GraphQLClient, clock: FakeClock) -> None:
    """Boundary (R11/R12 + README "due now if 7 days have passed"): no delay given
    at exactly first + 28 days is accepted and due at that instant (the +1 s case is covered
    elsewhere); rescheduling with no delay at the same instant too."""
    w = world(api, credits=20)
    t = sent(w.r1)
    c = sent(w.r1, subject="Two", followUp={"body": "Ping"})
    w.r1.mutate("CancelFollowUp", threadId=c["id"])
    first_at = datetime.fromisoformat(t["initial"]["sentAt"])
    clock.at = first_at + timedelta(days=28)
    p = w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping")
    assert p["userErrors"] == []
    assert datetime.fromisoformat(p["thread"]["followUp"]["scheduledFor"]) == clock.now()
    p = w.r1.mutate("RescheduleFollowUp", threadId=c["id"])
    assert p["userErrors"] == []
    assert datetime.fromisoformat(p["thread"]["followUp"]["scheduledFor"]) == clock.now()


def test_r11_send_at_window_edges_given_in_non_utc_offsets(api: GraphQLClient, clock: FakeClock) -> None:
    """Boundary (R11): the inclusive edges hold when sendAt carries another offset
    (+05:30 at exactly 72 h, -08:00 at exactly 28 days), and 1 µs outside is refused. The
    existing offset test only used a mid-window time."""
    w = world(api)
    now = clock.now()
    ist, pst = timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))
    before = state(w.r1)
    for at in (
        (now + timedelta(hours=72) - timedelta(microseconds=1)).astimezone(ist),
        (now + timedelta(days=28, microseconds=1)).astimezone(pst),
    ):
        p = send(w.r1, followUp={"body": "Ping", "sendAt": at.isoformat()})
        assert codes(p) == ["FOLLOW_UP_WINDOW"], at
    assert state(w.r1) == before
    for at in ((now + timedelta(hours=72)).astimezone(ist), (now + timedelta(days=28)).astimezone(pst)):
        t = sent(w.r1, followUp={"body": "Ping", "sendAt": at.isoformat()})
        assert datetime.fromisoformat(t["followUp"]["scheduledFor"]) == at


def test_r25_r40_daily_maximum_at_the_limit_either_side_of_utc_midnight(api: GraphQLClient, clock: FakeClock) -> None:
    """Boundary (R25, R40): with a maximum of 1 already used on day D, a follow-up
    due and swept at 23:59:59.999999 on D is CANCELLED (DAILY_LIMIT_REACHED); one due and
    swept at 00:00:00 on D+1 is SENT and uses D+1's only message."""
    w = world(api, credits=20, daily=1)
    api.candidate("k2")
    clock.at = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
    late = sent(w.r1, followUp={"body": "Ping", "sendAt": "2026-11-05T23:59:59.999999+00:00"})
    clock.at = datetime(2026, 11, 3, 0, 0, tzinfo=UTC)
    midnight = sent(w.r1, "k2", followUp={"body": "Ping", "sendAt": "2026-11-06T00:00:00+00:00"})
    clock.at = datetime(2026, 11, 5, 8, 0, tzinfo=UTC)
    sent(w.r1, subject="Day D's only message")

    clock.at = datetime(2026, 11, 5, 23, 59, 59, 999999, tzinfo=UTC)
    sweep(api, clock.now(), "s-late")
    fu = thread(w.r1, late["id"])["followUp"]
    assert (fu["status"], fu["failure"]["code"]) == ("CANCELLED", "DAILY_LIMIT_REACHED")
    assert thread(w.r1, midnight["id"])["followUp"]["status"] == "SCHEDULED"

    clock.at = datetime(2026, 11, 6, 0, 0, tzinfo=UTC)
    sweep(api, clock.now(), "s-midnight")
    assert thread(w.r1, midnight["id"])["followUp"]["status"] == "SENT"
    assert sent_today(w.r1) == 1
    assert codes(send(w.r1, subject="Second on D+1")) == ["DAILY_LIMIT_REACHED"]


def test_r24_r44_candidate_deleted_then_recreated_before_due_gets_the_follow_up(
    api: GraphQLClient, clock: FakeClock
) -> None:
    """Boundary (R24 decided at delivery time, R44): a profile deleted after the
    follow-up was scheduled and restored before it is due does not fail it; deleted at
    due time, it fails (covered elsewhere)."""
    w = world(api, credits=10)
    t = sent(w.r1, followUp={"body": "Ping", "delayDays": 3})
    api.candidate("k1", deleted=True)
    assert codes(send(w.r1, subject="Meanwhile")) == ["CANDIDATE_NOT_FOUND"]
    clock.advance(days=1)
    api.candidate("k1", deleted=False)
    clock.advance(days=2)
    sweep(api, clock.now())
    fu = thread(w.r1, t["id"])["followUp"]
    assert (fu["status"], fu["failure"], fu["creditRefunded"]) == ("SENT", None, False)


# Whitespace of every kind, zero-width characters, and a lone surrogate (not text at all).
BLANK = ["\n", "\t\n\t", " \n ", "\u00a0", "\u3000", "\u2028", "\u2003\u2009", "\u200b", "\ufeff \u200d", "\ud800"]


@pytest.mark.parametrize("text", BLANK, ids=[repr(b) for b in BLANK])
def test_r45_text_of_only_unicode_whitespace_is_refused_everywhere(
    api: GraphQLClient, clock: FakeClock, text: str
) -> None:
    """Boundary (R45 + README "a subject or body of only spaces is refused"): only
    newlines/tabs or non-ASCII spaces (NBSP, ideographic, line separator, em/thin space) are
    blank too, in every text field; so is text of only zero-width characters (it was
    accepted), and a lone surrogate is refused (it was stored)."""
    w = world(api)
    t = sent(w.r1)
    before = state(w.r1)
    for overrides, field in (
        ({"subject": text}, ["input", "subject"]),
        ({"body": text}, ["input", "body"]),
        ({"followUp": {"body": text}}, ["input", "followUp", "body"]),
    ):
        err = only_error(send(w.r1, **overrides))
        assert (err["code"], err["field"]) == ("INVALID_INPUT", field)
    for mutation, caller in (("ScheduleFollowUp", w.r1), ("ReplyToInMail", w.k1)):
        err = only_error(caller.mutate(mutation, threadId=t["id"], body=text))
        assert (err["code"], err["field"]) == ("INVALID_INPUT", ["input", "body"]), mutation
    assert state(w.r1) == before
