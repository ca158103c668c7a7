"""idempotencyKey on sendInMail and scheduleFollowUp: a retry returns the first result and
charges nothing more (R04); the same key for a different request is a CONFLICT."""

from __future__ import annotations

from datetime import timedelta

from steps import (
    inbox_ids,
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


def test_send_retry_with_same_key_returns_the_same_thread_charged_once(api, clock):
    w = world(api, credits=10)
    first = sent(w.r1, followUp={"body": "Ping"}, idempotencyKey="req-1")
    clock.advance(seconds=30)  # the client retries a little later
    again = send(w.r1, followUp={"body": "Ping"}, idempotencyKey="req-1")
    assert again["userErrors"] == []
    assert again["thread"] == first
    assert sent_ids(w.r1) == [first["id"]]
    assert remaining(w.r1) == 8
    assert len(ledger(w.r1)) == 2
    assert sent_today(w.r1) == 1
    assert inbox_ids(w.k1) == [first["id"]]


def test_send_retry_after_the_thread_moved_on_returns_its_current_state(api, clock):
    w = world(api, credits=10)
    first = sent(w.r1, idempotencyKey="req-1")
    w.k1.mutate("ReplyToInMail", threadId=first["id"], body="Hi")
    again = send(w.r1, idempotencyKey="req-1")
    assert again["thread"]["id"] == first["id"]
    assert again["thread"]["status"] == "REPLIED"
    assert remaining(w.r1) == 10
    assert sent_ids(w.r1) == [first["id"]]


def test_send_same_key_different_payload_is_a_conflict(api, clock):
    w = world(api, credits=10)
    first = sent(w.r1, idempotencyKey="req-1")
    before = state(w.r1)
    for changed in (
        {"subject": "Another subject"},
        {"body": "Another body"},
        {"followUp": {"body": "Ping"}},
    ):
        p = send(w.r1, idempotencyKey="req-1", **changed)
        err = only_error(p)
        assert err["code"] == "CONFLICT", changed
        assert err["field"] == ["input", "idempotencyKey"]
        assert p["thread"] is None
    api.candidate("k2")
    assert only_error(send(w.r1, candidate="k2", idempotencyKey="req-1"))["code"] == "CONFLICT"
    assert state(w.r1) == before
    assert thread(w.r1, first["id"]) == first


def test_send_keys_are_per_recruiter(api, clock):
    w = world(api, credits=10)
    r2 = api.seat("r2", "c1")
    a = sent(w.r1, idempotencyKey="shared")
    b = sent(r2, idempotencyKey="shared")
    assert a["id"] != b["id"]
    assert b["recruiterId"] == "r2"
    assert remaining(w.r1) == 8


def test_send_without_key_sends_twice(api, clock):
    w = world(api, credits=10)
    a = sent(w.r1)
    b = sent(w.r1)
    assert a["id"] != b["id"]
    assert remaining(w.r1) == 8


def test_send_retry_of_a_refused_request_is_decided_again(api, clock):
    """A refusal stores nothing, so a retry with the same key is a new attempt."""
    w = world(api, credits=10, enabled=False)
    admin = api.seat("a1", "c1", admin=True)
    refused = send(w.r1, followUp={"body": "Ping"}, idempotencyKey="req-1")
    assert only_error(refused)["code"] == "FOLLOW_UPS_DISABLED"
    assert remaining(w.r1) == 10
    admin.mutate("SetFollowUpsEnabled", enabled=True)
    t = sent(w.r1, followUp={"body": "Ping"}, idempotencyKey="req-1")
    assert remaining(w.r1) == 8
    assert sent(w.r1, followUp={"body": "Ping"}, idempotencyKey="req-1")["id"] == t["id"]
    assert remaining(w.r1) == 8


def test_send_invalid_idempotency_key_is_invalid_input(api, clock):
    w = world(api)
    before = state(w.r1)
    for key in ("", "k" * 129, "bad\x07key"):
        err = only_error(send(w.r1, idempotencyKey=key))
        assert (err["code"], err["field"]) == ("INVALID_INPUT", ["input", "idempotencyKey"])
    assert state(w.r1) == before


def test_schedule_retry_with_same_key_returns_the_same_thread_charged_once(api, clock):
    w = world(api, credits=10)
    t = sent(w.r1)
    clock.advance(days=1)
    first = w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping", delayDays=5, idempotencyKey="fu-1")
    assert first["userErrors"] == []
    clock.advance(seconds=30)
    again = w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping", delayDays=5, idempotencyKey="fu-1")
    assert again["userErrors"] == []
    assert again["thread"] == first["thread"]
    assert remaining(w.r1) == 8
    assert len(ledger(w.r1)) == 2


def test_schedule_retry_with_default_delay_returns_the_first_result(api, clock):
    w = world(api, credits=10)
    t = sent(w.r1)
    first = w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping", idempotencyKey="fu-1")
    clock.advance(hours=2)
    again = w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping", idempotencyKey="fu-1")
    assert again["userErrors"] == []
    assert again["thread"] == first["thread"]
    assert remaining(w.r1) == 8


def test_schedule_same_key_different_payload_is_a_conflict(api, clock):
    w = world(api, credits=10)
    t = sent(w.r1)
    first = w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping", delayDays=5, idempotencyKey="fu-1")
    assert first["userErrors"] == []
    before = state(w.r1)
    for changed in (
        {"body": "Another body", "delayDays": 5},
        {"body": "Ping", "delayDays": 6},
        {"body": "Ping", "sendAt": (clock.now() + timedelta(days=5)).isoformat()},
    ):
        p = w.r1.mutate("ScheduleFollowUp", threadId=t["id"], idempotencyKey="fu-1", **changed)
        err = only_error(p)
        assert err["code"] == "CONFLICT", changed
        assert err["field"] == ["input", "idempotencyKey"]
        assert p["thread"] is None
    assert state(w.r1) == before
    assert thread(w.r1, t["id"])["followUp"]["body"] == "Ping"


def test_schedule_different_key_on_a_thread_with_a_follow_up_is_follow_up_exists(api, clock):
    w = world(api, credits=10)
    t = sent(w.r1)
    w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping", idempotencyKey="fu-1")
    before = state(w.r1)
    p = w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping", idempotencyKey="fu-2")
    assert only_error(p)["code"] == "FOLLOW_UP_EXISTS"
    assert state(w.r1) == before


def test_schedule_retry_after_cancel_does_not_charge_again(api, clock):
    w = world(api, credits=10)
    t = sent(w.r1)
    w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping", idempotencyKey="fu-1")
    w.r1.mutate("CancelFollowUp", threadId=t["id"])
    assert remaining(w.r1) == 9
    again = w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping", idempotencyKey="fu-1")
    assert again["userErrors"] == []
    assert again["thread"]["followUp"]["status"] == "CANCELLED"
    assert remaining(w.r1) == 9
