"""The sweeper's decision as a pure function (R20-R28)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from inmail.domain import delivery, rules
from inmail.domain.model import (
    Candidate,
    Contract,
    Decision,
    FailureCode,
    Message,
    MessageKind,
    MessageStatus,
    RuleId,
    Seat,
    Thread,
)
from support import T0

CONTRACT = Contract("c1", "Acme", 10, 25)
SEAT = Seat("r1", "c1", daily_limit=5)
CANDIDATE = Candidate("k1", "Kim")


def thread(**kw: object) -> Thread:
    initial = Message("t-i", MessageKind.INITIAL, "hi", MessageStatus.SENT, sent_at=T0)
    fu = Message("t-f", MessageKind.FOLLOW_UP, "ping", MessageStatus.SCHEDULED, scheduled_for=T0 + timedelta(days=3))
    return replace(Thread("t", "c1", "r1", "k1", "Hello", T0, initial, fu), **kw)  # type: ignore[arg-type]


def decide(
    t: Thread | None = None,
    contract: Contract | None = CONTRACT,
    seat: Seat | None = SEAT,
    candidate: Candidate | None = CANDIDATE,
    sent_today: int = 0,
) -> Decision:
    return delivery.decide_follow_up(t or thread(), contract, seat, candidate, sent_today, T0 + timedelta(days=3), "s")


def test_r27_nothing_holds_delivers() -> None:
    d = decide()
    assert (d.outcome, d.rule, d.code) == (MessageStatus.SENT, "R27", None)
    assert [c.rule for c in d.checks] == ["R20", "R21", "R22", "R23", "R24", "R25", "R27"]
    assert not any(c.holds for c in d.checks[:-1])


def test_r20_replied_deletes() -> None:
    d = decide(thread(replied_at=T0 + timedelta(days=1)))
    assert (d.outcome, d.code) == (MessageStatus.DELETED, None)


def test_r21_disabled_fails() -> None:
    d = decide(contract=replace(CONTRACT, follow_ups_enabled=False))
    assert (d.outcome, d.code) == (MessageStatus.FAILED, FailureCode.AUTOMATION_DISABLED)


def test_r22_restricted_fails() -> None:
    d = decide(seat=replace(SEAT, restricted=True))
    assert (d.outcome, d.code) == (MessageStatus.FAILED, FailureCode.RECRUITER_RESTRICTED)


def test_r23_first_message_failed() -> None:
    t = thread()
    d = decide(replace(t, initial=replace(t.initial, status=MessageStatus.FAILED)))
    assert (d.outcome, d.code) == (MessageStatus.FAILED, FailureCode.INITIAL_MESSAGE_FAILED)


@pytest.mark.parametrize("candidate", [None, replace(CANDIDATE, deleted=True)])
def test_r24_candidate_missing_or_deleted(candidate: Candidate | None) -> None:
    d = decide(candidate=candidate)
    assert (d.outcome, d.code) == (MessageStatus.FAILED, FailureCode.CANDIDATE_NOT_FOUND)


def test_r25_daily_maximum_cancels() -> None:
    assert decide(sent_today=4).outcome is MessageStatus.SENT
    d = decide(sent_today=5)
    assert (d.outcome, d.code) == (MessageStatus.CANCELLED, FailureCode.DAILY_LIMIT_REACHED)
    assert d.checks[-1].detail == "5 sent today of a maximum of 5"


def test_r20_to_r25_first_that_holds_decides() -> None:
    """Every condition holds at once: the table's order decides, R20 first, then R21..."""
    t = thread(replied_at=T0)
    everything = dict(
        contract=replace(CONTRACT, follow_ups_enabled=False),
        seat=replace(SEAT, restricted=True),
        candidate=None,
        sent_today=99,
    )
    assert decide(t, **everything).rule == "R20"  # type: ignore[arg-type]
    assert decide(thread(), **everything).rule == "R21"  # type: ignore[arg-type]
    everything["contract"] = CONTRACT
    assert decide(thread(), **everything).rule == "R22"  # type: ignore[arg-type]
    everything["seat"] = replace(SEAT, daily_limit=5)
    assert decide(thread(), **everything).rule == "R24"  # type: ignore[arg-type]


def test_r26_overturned_send_keeps_checks() -> None:
    d = delivery.overturned_at_delivery(decide(), RuleId.R26, "3 delivery attempts failed")
    assert (d.outcome, d.code) == (MessageStatus.FAILED, FailureCode.TECHNICAL_ISSUE)
    assert [c.rule for c in d.checks] == ["R20", "R21", "R22", "R23", "R24", "R25", "R26"]


@pytest.mark.parametrize("code", list(FailureCode))
def test_r28_every_failure_has_its_sentence_and_a_remedy(code: FailureCode) -> None:
    message = delivery.failure_message(code)
    assert message.endswith("The credit has been refunded to you.")
    remedy = delivery.failure_remedy(code)
    assert len(remedy) > 20 and remedy != message


def test_r28_remedies_say_what_to_do() -> None:
    assert "profile" in delivery.failure_remedy(FailureCode.CANDIDATE_NOT_FOUND)
    assert "daily maximum" in delivery.failure_remedy(FailureCode.DAILY_LIMIT_REACHED)
    assert "reschedule" in delivery.failure_remedy(FailureCode.DAILY_LIMIT_REACHED)
    assert "first message" in delivery.failure_remedy(FailureCode.INITIAL_MESSAGE_FAILED)
    assert "contract admin" in delivery.failure_remedy(FailureCode.AUTOMATION_DISABLED)
    assert "support" in delivery.failure_remedy(FailureCode.TECHNICAL_ISSUE)


def test_r11_window_edges() -> None:
    field = ("input",)
    ok_min = rules.follow_up_due(T0, rules.FollowUpTiming(None, T0 + timedelta(hours=72)), T0, field)
    assert ok_min == T0 + timedelta(hours=72)
    assert rules.follow_up_due(T0, rules.FollowUpTiming(28, None), T0, field) == T0 + timedelta(days=28)
    for timing in (
        rules.FollowUpTiming(2, None),
        rules.FollowUpTiming(29, None),
        rules.FollowUpTiming(None, T0 + timedelta(hours=72) - timedelta(seconds=1)),
    ):
        with pytest.raises(rules.Refusal) as err:
            rules.follow_up_due(T0, timing, T0, field)
        assert err.value.code.value == "FOLLOW_UP_WINDOW"


def test_r12_default_is_seven_days() -> None:
    assert rules.follow_up_due(T0, rules.FollowUpTiming(None, None), T0, ("input",)) == T0 + timedelta(days=7)
