"""Credits (SPEC.md R01-R08), through the GraphQL API on the in-memory store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from steps import (
    awaiting_ids,
    codes,
    ledger,
    ledger_kinds,
    remaining,
    send,
    sent,
    sent_ids,
    sent_today,
    state,
    sweep,
    thread,
    world,
)

NOV_30_LATE = datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)
DEC_1 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def test_r01_sending_charges_one_credit_when_sent(api, clock):
    w = world(api, credits=10)
    t = sent(w.r1)
    assert t["creditsCharged"] == 1
    assert t["initial"]["creditCharged"] is True
    assert t["initial"]["status"] == "SENT"
    assert remaining(w.r1) == 9
    [entry] = ledger(w.r1)
    assert entry["kind"] == "CHARGE"
    assert entry["amount"] == 1
    assert entry["messageId"] == t["initial"]["id"]
    assert entry["threadId"] == t["id"]
    assert entry["recruiterId"] == "r1"
    assert datetime.fromisoformat(entry["at"]) == clock.now()


def test_r01_balance_is_per_utc_calendar_month(api, clock):
    w = world(api, credits=2)
    clock.at = NOV_30_LATE
    sent(w.r1)
    sent(w.r1, subject="Second")
    assert remaining(w.r1) == 0
    assert codes(send(w.r1, subject="Third")) == ["INSUFFICIENT_CREDITS"]

    clock.at = DEC_1  # a new UTC month: the full allotment again
    assert remaining(w.r1) == 2
    t = sent(w.r1, subject="Third")
    assert remaining(w.r1) == 1
    assert datetime.fromisoformat(ledger(w.r1)[0]["at"]) == DEC_1
    assert ledger(w.r1)[0]["messageId"] == t["initial"]["id"]

    clock.at = NOV_30_LATE  # November's balance is untouched by December's charge
    assert remaining(w.r1) == 0


def test_r01_month_boundary_uses_utc_not_local_offsets(api, clock):
    w = world(api, credits=1)
    # 2026-12-01T00:30+00:00 is still November 30th in New York, but December in UTC.
    clock.at = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    sent(w.r1)
    clock.advance(hours=1)
    assert remaining(w.r1) == 1
    sent(w.r1, subject="December")
    assert remaining(w.r1) == 0


def test_r02_follow_up_is_its_own_credit_charged_when_scheduled(api, clock):
    w = world(api, credits=10)
    t = sent(w.r1, followUp={"body": "Just checking in", "delayDays": 5})
    assert t["creditsCharged"] == 2
    assert t["followUp"]["status"] == "SCHEDULED"
    assert t["followUp"]["creditCharged"] is True
    assert remaining(w.r1) == 8
    assert ledger_kinds(w.r1) == [("CHARGE", t["followUp"]["id"]), ("CHARGE", t["initial"]["id"])]
    # Scheduling is not sending: the daily count only has the first message.
    assert sent_today(w.r1) == 1


def test_r02_follow_up_scheduled_later_is_charged_then_not_at_delivery(api, clock):
    w = world(api, credits=10)
    t = sent(w.r1)
    clock.advance(days=1)
    scheduled_at = clock.now()
    p = w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Any thoughts?", delayDays=4)
    assert p["userErrors"] == []
    assert p["thread"]["creditsCharged"] == 2
    assert remaining(w.r1) == 8
    charge = ledger(w.r1)[0]
    assert (charge["kind"], charge["messageId"]) == ("CHARGE", p["thread"]["followUp"]["id"])
    assert datetime.fromisoformat(charge["at"]) == scheduled_at

    clock.advance(days=3)
    sweep(api, clock.now())
    delivered = thread(w.r1, t["id"])
    assert delivered is not None
    assert delivered["followUp"]["status"] == "SENT"
    assert delivered["creditsCharged"] == 2
    assert remaining(w.r1) == 8  # nothing more charged at delivery
    assert len(ledger(w.r1)) == 2


def test_r02_follow_up_due_next_month_is_charged_to_the_month_it_was_scheduled(api, clock):
    w = world(api, credits=3)
    clock.at = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    sent(w.r1, followUp={"body": "Ping", "delayDays": 7})  # due December 5th
    assert remaining(w.r1) == 1
    clock.at = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    sweep(api, clock.now())
    assert remaining(w.r1) == 3  # December paid nothing for it


def test_r03_no_credits_left_refuses_send_and_charges_nothing(api, clock):
    w = world(api, credits=1)
    sent(w.r1)
    before = state(w.r1)
    p = send(w.r1, subject="One too many")
    assert codes(p) == ["INSUFFICIENT_CREDITS"]
    assert p["thread"] is None
    assert state(w.r1) == before
    assert remaining(w.r1) == 0


def test_r03_zero_credit_contract_refuses_everything(api, clock):
    w = world(api, credits=0)
    p = send(w.r1)
    assert codes(p) == ["INSUFFICIENT_CREDITS"]
    assert remaining(w.r1) == 0
    assert ledger(w.r1) == []
    assert sent_ids(w.r1) == []
    assert sent_today(w.r1) == 0
    assert w.k1.data("Inbox")["inbox"]["edges"] == []


def test_r03_send_with_follow_up_needing_two_credits_with_one_left_is_refused_whole(api, clock):
    w = world(api, credits=1)
    before = state(w.r1)
    p = send(w.r1, followUp={"body": "Ping"})
    assert codes(p) == ["INSUFFICIENT_CREDITS"]
    assert p["thread"] is None
    assert state(w.r1) == before
    assert remaining(w.r1) == 1
    assert w.k1.data("Inbox")["inbox"]["edges"] == []


def test_r03_schedule_follow_up_with_no_credits_is_refused(api, clock):
    w = world(api, credits=1)
    t = sent(w.r1)
    before = state(w.r1)
    p = w.r1.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping")
    assert codes(p) == ["INSUFFICIENT_CREDITS"]
    assert p["thread"] is None
    assert state(w.r1) == before
    assert thread(w.r1, t["id"])["followUp"] is None


def test_r03_reschedule_with_no_credits_is_refused(api, clock):
    w = world(api, credits=2)
    t = sent(w.r1, followUp={"body": "Ping"})
    w.r1.mutate("CancelFollowUp", threadId=t["id"])  # refund: 1 left
    sent(w.r1, subject="Uses the last credit")
    before = state(w.r1)
    p = w.r1.mutate("RescheduleFollowUp", threadId=t["id"])
    assert codes(p) == ["INSUFFICIENT_CREDITS"]
    assert state(w.r1) == before
    assert thread(w.r1, t["id"])["followUp"]["status"] == "CANCELLED"


def test_r03_follow_ups_scheduled_earlier_are_still_delivered_with_no_credits_left(api, clock):
    w = world(api, credits=2)
    t = sent(w.r1, followUp={"body": "Ping", "delayDays": 3})
    assert remaining(w.r1) == 0
    clock.advance(days=3)
    sweep(api, clock.now())
    after = thread(w.r1, t["id"])
    assert after["followUp"]["status"] == "SENT"
    assert after["followUp"]["failure"] is None
    assert remaining(w.r1) == 0
    assert [k for k, _ in ledger_kinds(w.r1)] == ["CHARGE", "CHARGE"]


def _totals(entries):
    charges = sum(e["amount"] for e in entries if e["kind"] == "CHARGE")
    refunds = sum(e["amount"] for e in entries if e["kind"] == "REFUND")
    return charges, refunds


def test_r04_every_refund_matches_one_charge_once(api, clock):
    """Cancel, reschedule, cancel again, then a reply: each charge refunded at most once,
    every entry has its own id, and the balance is what the ledger says."""
    w = world(api, credits=10)
    t = sent(w.r1, followUp={"body": "Ping"})
    tid = t["id"]
    clock.advance(hours=1)
    assert codes(w.r1.mutate("CancelFollowUp", threadId=tid)) == []
    assert codes(w.r1.mutate("CancelFollowUp", threadId=tid)) == ["NOT_SCHEDULED"]  # no second refund
    clock.advance(hours=1)
    assert codes(w.r1.mutate("RescheduleFollowUp", threadId=tid)) == []
    assert codes(w.r1.mutate("RescheduleFollowUp", threadId=tid)) == ["NOT_CANCELLED"]  # no second charge
    clock.advance(hours=1)
    assert codes(w.r1.mutate("CancelFollowUp", threadId=tid)) == []
    clock.advance(days=1)
    reply = w.k1.mutate("ReplyToInMail", threadId=tid, body="Thanks!")
    assert reply["userErrors"] == []
    again = w.k1.mutate("ReplyToInMail", threadId=tid, body="Thanks again!")
    assert codes(again) == ["ALREADY_REPLIED"]

    entries = ledger(w.r1)
    assert len({e["id"] for e in entries}) == len(entries)
    fu = thread(w.r1, tid)["followUp"]["id"]
    initial = thread(w.r1, tid)["initial"]["id"]
    assert ledger_kinds(w.r1, tid) == [
        ("CHARGE", fu),
        ("CHARGE", initial),
        ("REFUND", fu),
        ("CHARGE", fu),
        ("REFUND", fu),
        ("REFUND", initial),
    ]
    charges, refunds = _totals(entries)
    assert (charges, refunds) == (3, 3)
    final = thread(w.r1, tid)
    assert (final["creditsCharged"], final["creditsRefunded"]) == (3, 3)
    assert remaining(w.r1) == 10


def test_r04_reply_after_cancel_refunds_only_the_initial(api, clock):
    w = world(api, credits=10)
    t = sent(w.r1, followUp={"body": "Ping"})
    w.r1.mutate("CancelFollowUp", threadId=t["id"])
    assert remaining(w.r1) == 9
    p = w.k1.mutate("ReplyToInMail", threadId=t["id"], body="Hi")
    assert p["userErrors"] == []
    assert remaining(w.r1) == 10  # not 11: the follow-up's credit came back once
    charges, refunds = _totals(ledger(w.r1))
    assert (charges, refunds) == (2, 2)


def test_r04_ledger_is_append_only_and_newest_first(api, clock):
    w = world(api, credits=10)
    t = sent(w.r1, followUp={"body": "Ping"})
    first_entries = ledger(w.r1)
    clock.advance(hours=1)
    w.r1.mutate("CancelFollowUp", threadId=t["id"])
    after = ledger(w.r1)
    assert after[1:] == first_entries  # earlier entries unchanged
    assert after[0]["kind"] == "REFUND"
    stamps = [datetime.fromisoformat(e["at"]) for e in after]
    assert stamps == sorted(stamps, reverse=True)


def test_r05_reply_before_follow_up_refunds_both(api, clock):
    w = world(api, credits=10)
    t = sent(w.r1, followUp={"body": "Ping", "delayDays": 7})
    assert remaining(w.r1) == 8
    clock.advance(days=2)
    p = w.k1.mutate("ReplyToInMail", threadId=t["id"], body="Interested!")
    assert p["userErrors"] == []
    after = thread(w.r1, t["id"])
    assert after["status"] == "REPLIED"
    assert after["reply"] == "Interested!"
    assert datetime.fromisoformat(after["repliedAt"]) == clock.now()
    assert after["followUp"]["status"] == "DELETED"
    assert after["followUp"]["sentAt"] is None
    assert after["followUp"]["creditRefunded"] is True
    assert after["initial"]["creditRefunded"] is True
    assert (after["creditsCharged"], after["creditsRefunded"]) == (2, 2)
    assert remaining(w.r1) == 10
    refunds = [e for e in ledger(w.r1) if e["kind"] == "REFUND"]
    assert sorted(e["messageId"] for e in refunds) == sorted([t["initial"]["id"], t["followUp"]["id"]])
    assert awaiting_ids(w.r1) == []

    # The follow-up is never delivered afterwards.
    clock.advance(days=10)
    sweep(api, clock.now())
    assert thread(w.r1, t["id"])["followUp"]["status"] == "DELETED"
    assert remaining(w.r1) == 10
    assert len(ledger(w.r1)) == 4


def test_r06_reply_after_follow_up_delivered_refunds_one_credit(api, clock):
    w = world(api, credits=10)
    t = sent(w.r1, followUp={"body": "Ping", "delayDays": 3})
    clock.advance(days=3)
    sweep(api, clock.now())
    assert thread(w.r1, t["id"])["followUp"]["status"] == "SENT"
    assert remaining(w.r1) == 8
    clock.advance(days=1)
    p = w.k1.mutate("ReplyToInMail", threadId=t["id"], body="Sure, let's talk")
    assert p["userErrors"] == []
    after = thread(w.r1, t["id"])
    assert after["status"] == "REPLIED"
    assert after["followUp"]["status"] == "SENT"
    assert (after["creditsCharged"], after["creditsRefunded"]) == (2, 1)
    assert remaining(w.r1) == 9
    assert [k for k, _ in ledger_kinds(w.r1)] == ["CHARGE", "CHARGE", "REFUND"]


def test_r07_reply_to_inmail_without_follow_up_refunds_its_credit(api, clock):
    w = world(api, credits=10)
    t = sent(w.r1)
    assert remaining(w.r1) == 9
    clock.advance(days=5)
    p = w.k1.mutate("ReplyToInMail", threadId=t["id"], body="Hello")
    assert p["userErrors"] == []
    assert p["thread"]["status"] == "REPLIED"
    after = thread(w.r1, t["id"])
    assert after["initial"]["creditRefunded"] is True
    assert (after["creditsCharged"], after["creditsRefunded"]) == (1, 1)
    assert remaining(w.r1) == 10
    assert ledger_kinds(w.r1) == [("CHARGE", t["initial"]["id"]), ("REFUND", t["initial"]["id"])]


def test_r08_reply_after_90_days_refunds_nothing(api, clock):
    w = world(api, credits=10)
    t = sent(w.r1)
    clock.advance(days=90, seconds=1)
    month_balance = remaining(w.r1)
    p = w.k1.mutate("ReplyToInMail", threadId=t["id"], body="Sorry for the late answer")
    assert p["userErrors"] == []
    after = thread(w.r1, t["id"])
    assert after["status"] == "REPLIED"
    assert after["initial"]["creditRefunded"] is False
    assert after["creditsRefunded"] == 0
    assert remaining(w.r1) == month_balance
    assert [k for k, _ in ledger_kinds(w.r1)] == ["CHARGE"]


def test_r08_reply_on_day_90_still_refunds(api, clock):
    w = world(api, credits=10)
    t = sent(w.r1)
    clock.advance(days=90)
    p = w.k1.mutate("ReplyToInMail", threadId=t["id"], body="Just in time")
    assert p["userErrors"] == []
    assert thread(w.r1, t["id"])["creditsRefunded"] == 1
    assert [k for k, _ in ledger_kinds(w.r1)] == ["CHARGE", "REFUND"]


def test_r08_refund_lands_in_the_month_it_happens(api, clock):
    w = world(api, credits=10)
    clock.at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    t = sent(w.r1, followUp={"body": "Ping", "delayDays": 20})
    assert remaining(w.r1) == 8
    reply_at = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    clock.at = reply_at
    assert remaining(w.r1) == 10  # December starts full
    p = w.k1.mutate("ReplyToInMail", threadId=t["id"], body="Yes")
    assert p["userErrors"] == []
    # Both credits return to December's balance ...
    assert remaining(w.r1) == 12
    refunds = [e for e in ledger(w.r1) if e["kind"] == "REFUND"]
    assert len(refunds) == 2
    assert all(datetime.fromisoformat(e["at"]) == reply_at for e in refunds)
    # ... and November's stays as it was when the month ended.
    clock.at = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert remaining(w.r1) == 8


def test_r08_window_counts_from_the_first_message_not_the_follow_up(api, clock):
    w = world(api, credits=10)
    t = sent(w.r1, followUp={"body": "Ping", "delayDays": 28})
    clock.advance(days=28)
    sweep(api, clock.now())
    assert thread(w.r1, t["id"])["followUp"]["status"] == "SENT"
    clock.at = clock.at + timedelta(days=62, seconds=1)  # 90 days and a second after the first
    w.k1.mutate("ReplyToInMail", threadId=t["id"], body="Late")
    after = thread(w.r1, t["id"])
    assert after["status"] == "REPLIED"
    assert after["creditsRefunded"] == 0
