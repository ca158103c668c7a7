"""A first message whose delivery keeps failing: FAILED with TECHNICAL_ISSUE and refunded;
its follow-up FAILED with INITIAL_MESSAGE_FAILED (R23) and refunded; the payload carries the
thread and a TECHNICAL_ISSUE user error. Driven by delivery doubles on moto."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from inmail.domain.errors import TransientDeliveryError
from inmail.domain.model import Changes
from inmail.domain.ports import Delivery
from inmail.services.deps import Deps
from steps import (
    awaiting_ids,
    inbox_ids,
    ledger,
    ledger_kinds,
    only_error,
    remaining,
    send,
    sent,
    sent_ids,
    sent_today,
    sweep,
    thread,
    world,
)

TECHNICAL_ISSUE_TEXT = (
    "The message cannot be delivered to the candidate due to a technical issue. The credit has been refunded to you."
)
INITIAL_FAILED_TEXT = (
    "The message cannot be delivered because your first message was failed. The credit has been refunded to you."
)


@dataclass
class FlakyDelivery:
    """Raises TransientDeliveryError for the first `failures` calls, then delivers."""

    inner: Delivery
    failures: int
    calls: int = 0

    def deliver(self, changes: Changes) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise TransientDeliveryError(f"inbox unavailable (call {self.calls})")
        self.inner.deliver(changes)


@pytest.fixture
def failing_delivery(dynamo_deps: Deps) -> FlakyDelivery:
    """Every delivery attempt fails (retries spent)."""
    double = FlakyDelivery(dynamo_deps.delivery, failures=10**9)
    dynamo_deps.delivery = double
    return double


@pytest.fixture
def flaky_delivery(dynamo_deps: Deps) -> FlakyDelivery:
    """Fails twice, then delivers: within the retries."""
    double = FlakyDelivery(dynamo_deps.delivery, failures=2)
    dynamo_deps.delivery = double
    return double


def test_r26_failed_first_message_is_failed_refunded_and_reported(api, clock, failing_delivery):
    w = world(api, credits=10)
    p = send(w.r1, followUp={"body": "Ping"})
    assert failing_delivery.calls == api.deps.delivery_attempts  # retried, then given up

    err = only_error(p)
    assert err["code"] == "TECHNICAL_ISSUE"
    assert err["message"] == TECHNICAL_ISSUE_TEXT  # the same sentence as on the message
    t = p["thread"]
    assert t is not None
    assert t["status"] == "FAILED"
    initial, follow_up = t["initial"], t["followUp"]
    assert initial["status"] == "FAILED"
    assert initial["sentAt"] is None
    assert initial["failure"]["code"] == "TECHNICAL_ISSUE"
    assert initial["failure"]["message"] == TECHNICAL_ISSUE_TEXT
    assert initial["failure"]["remedy"]
    assert (initial["creditCharged"], initial["creditRefunded"]) == (True, True)
    # R23: the follow-up of a failed first message fails too, refunded.
    assert follow_up["status"] == "FAILED"
    assert follow_up["failure"]["code"] == "INITIAL_MESSAGE_FAILED"
    assert follow_up["failure"]["message"] == INITIAL_FAILED_TEXT
    assert follow_up["failure"]["remedy"]
    assert (follow_up["creditCharged"], follow_up["creditRefunded"]) == (True, True)
    assert (t["creditsCharged"], t["creditsRefunded"]) == (2, 2)

    # What the recruiter sees afterwards.
    assert thread(w.r1, t["id"]) == t
    assert sent_ids(w.r1) == [t["id"]]
    assert remaining(w.r1) == 10
    assert sent_today(w.r1) == 0
    assert ledger_kinds(w.r1) == [
        ("CHARGE", follow_up["id"]),
        ("CHARGE", initial["id"]),
        ("REFUND", follow_up["id"]),
        ("REFUND", initial["id"]),
    ]
    reasons = {(e["kind"], e["messageId"]): e["reason"] for e in ledger(w.r1)}
    assert "TECHNICAL_ISSUE" in reasons[("REFUND", initial["id"])]
    assert "INITIAL_MESSAGE_FAILED" in reasons[("REFUND", follow_up["id"])]
    # Never delivered: the candidate has nothing.
    assert inbox_ids(w.k1) == []
    assert thread(w.k1, t["id"]) is None


def test_r26_failed_first_message_without_follow_up(api, clock, failing_delivery):
    w = world(api, credits=10)
    p = send(w.r1)
    assert only_error(p)["code"] == "TECHNICAL_ISSUE"
    t = p["thread"]
    assert t["followUp"] is None
    assert t["initial"]["failure"]["code"] == "TECHNICAL_ISSUE"
    assert remaining(w.r1) == 10
    assert ledger_kinds(w.r1) == [("CHARGE", t["initial"]["id"]), ("REFUND", t["initial"]["id"])]


def test_r23_follow_up_of_a_failed_first_message_is_never_delivered(api, clock, failing_delivery):
    w = world(api, credits=10)
    t = send(w.r1, followUp={"body": "Ping", "delayDays": 3})["thread"]
    api.deps.delivery = failing_delivery.inner  # delivery works again
    clock.advance(days=3)
    sweep(api, clock.now())
    after = thread(w.r1, t["id"])
    assert after["followUp"]["status"] == "FAILED"
    assert after["followUp"]["failure"]["code"] == "INITIAL_MESSAGE_FAILED"
    assert (after["creditsCharged"], after["creditsRefunded"]) == (2, 2)
    assert remaining(w.r1) == 10
    assert len(ledger(w.r1)) == 4
    assert inbox_ids(w.k1) == []


def test_failed_first_message_thread_accepts_no_follow_up_or_reply(api, clock, failing_delivery):
    w = world(api, credits=10)
    t = send(w.r1)["thread"]
    api.deps.delivery = failing_delivery.inner
    p = w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping")
    assert only_error(p)["code"] == "INVALID_INPUT"  # README: a failed thread takes no follow-up
    assert p["thread"] is None
    reply = w.k1.mutate("ReplyToInMail", threadId=t["id"], body="Hi")
    assert only_error(reply)["code"] == "NOT_FOUND"
    assert remaining(w.r1) == 10
    assert len(ledger(w.r1)) == 2


def test_failed_first_message_is_not_awaiting_a_reply(api, clock, failing_delivery):
    w = world(api, credits=10)
    send(w.r1, followUp={"body": "Ping"})
    assert awaiting_ids(w.r1) == []


def test_retry_with_same_key_after_a_failed_delivery_returns_the_failed_thread(api, clock, failing_delivery):
    w = world(api, credits=10)
    first = send(w.r1, followUp={"body": "Ping"}, idempotencyKey="req-1")
    api.deps.delivery = failing_delivery.inner
    again = send(w.r1, followUp={"body": "Ping"}, idempotencyKey="req-1")
    assert only_error(again)["code"] == "TECHNICAL_ISSUE"
    assert again["thread"] == first["thread"]
    assert remaining(w.r1) == 10
    assert len(ledger(w.r1)) == 4
    # A new request (new key) is a new InMail, delivered now.
    t = sent(w.r1, followUp={"body": "Ping"}, idempotencyKey="req-2")
    assert t["initial"]["status"] == "SENT"
    assert remaining(w.r1) == 8


def test_delivery_that_fails_twice_then_succeeds_is_delivered(api, clock, flaky_delivery):
    w = world(api, credits=10)
    t = sent(w.r1, followUp={"body": "Ping"})
    assert flaky_delivery.calls == 3
    assert t["status"] == "AWAITING_REPLY"
    assert t["initial"]["status"] == "SENT"
    assert t["initial"]["failure"] is None
    assert t["followUp"]["status"] == "SCHEDULED"
    assert remaining(w.r1) == 8
    assert sent_today(w.r1) == 1
    assert [k for k, _ in ledger_kinds(w.r1)] == ["CHARGE", "CHARGE"]
    assert inbox_ids(w.k1) == [t["id"]]


@dataclass
class LostAnswerDelivery:
    """The first delivery lands but its answer is lost (a timeout); later calls fail
    transiently `then_failures` times, then reach the store again."""

    inner: Delivery
    then_failures: int = 0
    calls: int = 0

    def deliver(self, changes: Changes) -> None:
        self.calls += 1
        if self.calls == 1:
            self.inner.deliver(changes)
            raise TransientDeliveryError("timed out after the write")
        if self.calls <= 1 + self.then_failures:
            raise TransientDeliveryError("inbox unavailable")
        self.inner.deliver(changes)


@pytest.mark.parametrize("then_failures", [0, 5])
def test_r04_delivery_that_landed_but_timed_out_is_charged_once(api, clock, then_failures):
    w = world(api, credits=10)
    api.deps.delivery = LostAnswerDelivery(api.deps.delivery, then_failures)
    p = send(w.r1, followUp={"body": "Ping"})
    assert p["userErrors"] == []
    t = p["thread"]
    assert t["initial"]["status"] == "SENT"
    assert t["followUp"]["status"] == "SCHEDULED"
    assert sent_ids(w.r1) == [t["id"]]
    assert remaining(w.r1) == 8
    assert [k for k, _ in ledger_kinds(w.r1)] == ["CHARGE", "CHARGE"]
    assert sent_today(w.r1) == 1
    assert inbox_ids(w.k1) == [t["id"]]
