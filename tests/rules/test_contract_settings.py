"""Contract settings (SPEC.md R50, R51), through the GraphQL API on the in-memory store."""

from __future__ import annotations

from datetime import datetime

import pytest

from steps import (
    awaiting,
    codes,
    contract,
    ledger,
    only_error,
    remaining,
    sent,
    sweep,
    thread,
    world,
)

AUTOMATION_DISABLED_TEXT = (
    "The message cannot be delivered to the candidate because the messaging automation function has been "
    "disabled. Contact your contract admin for more information. The credit has been refunded to you."
)


def test_r50_contract_admin_disables_follow_ups_recorded_with_who_and_when(api, clock):
    w = world(api)
    admin = api.seat("a1", "c1", admin=True)
    clock.advance(hours=5)
    p = admin.mutate("SetFollowUpsEnabled", enabled=False)
    assert p["userErrors"] == []
    c = p["contract"]
    assert c["id"] == "c1"
    assert c["followUpsEnabled"] is False
    assert c["followUpsChangedBy"] == "a1"
    assert datetime.fromisoformat(c["followUpsChangedAt"]) == clock.now()
    # Every recruiter on the contract sees the same setting.
    seen = contract(w.r1)
    assert (seen["followUpsEnabled"], seen["followUpsChangedBy"]) == (False, "a1")


def test_r50_setting_applies_to_every_user_on_the_contract(api, clock):
    w = world(api)
    admin = api.seat("a1", "c1", admin=True)
    r2 = api.seat("r2", "c1")
    admin.mutate("SetFollowUpsEnabled", enabled=False)
    for recruiter in (w.r1, r2, admin):
        t = sent(recruiter)
        p = recruiter.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping")
        assert only_error(p)["code"] == "FOLLOW_UPS_DISABLED"
    clock.advance(minutes=1)
    p = admin.mutate("SetFollowUpsEnabled", enabled=True)
    assert p["contract"]["followUpsEnabled"] is True
    assert datetime.fromisoformat(p["contract"]["followUpsChangedAt"]) == clock.now()
    t = sent(r2, subject="After")
    assert r2.mutate("ScheduleFollowUp", threadId=t["id"], body="Ping")["userErrors"] == []


def test_r50_change_is_recorded_with_the_latest_admin(api, clock):
    world(api)
    a1 = api.seat("a1", "c1", admin=True)
    a2 = api.seat("a2", "c1", admin=True)
    a1.mutate("SetFollowUpsEnabled", enabled=False)
    clock.advance(days=1)
    p = a2.mutate("SetFollowUpsEnabled", enabled=True)
    assert p["contract"]["followUpsChangedBy"] == "a2"
    assert datetime.fromisoformat(p["contract"]["followUpsChangedAt"]) == clock.now()


def _non_admins(api):
    """Callers who are not this contract's admin, each with why."""
    return {
        "recruiter": api.seat("r2", "c1"),
        "admin seat, token without the role": api.as_("a9", "RECRUITER", contract="c1"),
        "admin role in the token, seat is not admin": api.as_("r3", "RECRUITER", "CONTRACT_ADMIN", contract="c1"),
        "candidate": api.as_("k1", "CANDIDATE"),
        "operator": api.operator,
        "token for c1, seat on c2": api.as_("x1", "RECRUITER", "CONTRACT_ADMIN", contract="c1"),
    }


def test_r50_only_a_contract_admin_can_toggle(api, clock):
    world(api)
    api.contract("c2")
    api.seat("a9", "c1", admin=True)
    api.seat("r3", "c1")
    api.seat("x1", "c2", admin=True)
    admin = api.seat("a1", "c1", admin=True)
    before = contract(admin)
    for why, caller in _non_admins(api).items():
        for enabled in (False, True):
            r = caller.op("SetFollowUpsEnabled", input={"enabled": enabled})
            assert r.error_codes == ["FORBIDDEN"], why
            assert r.data is None, why
    assert contract(admin) == before


def test_r50_admin_of_another_contract_changes_only_their_own(api, clock):
    w = world(api)
    api.contract("c2")
    other_admin = api.seat("x1", "c2", admin=True)
    p = other_admin.mutate("SetFollowUpsEnabled", enabled=False)
    assert p["contract"]["id"] == "c2"
    assert contract(w.r1)["followUpsEnabled"] is True
    assert contract(other_admin)["followUpsEnabled"] is False


def test_r51_disabling_keeps_scheduled_follow_ups_until_due_then_fails_and_refunds(api, clock):
    w = world(api, credits=10)
    admin = api.seat("a1", "c1", admin=True)
    t = sent(w.r1, followUp={"body": "Ping", "delayDays": 3})
    clock.advance(days=1)
    admin.mutate("SetFollowUpsEnabled", enabled=False)
    # Nothing deleted, nothing refunded yet.
    kept = thread(w.r1, t["id"])
    assert kept["followUp"]["status"] == "SCHEDULED"
    assert kept["followUp"]["creditRefunded"] is False
    assert remaining(w.r1) == 8
    assert [e["kind"] for e in ledger(w.r1)] == ["CHARGE", "CHARGE"]
    assert [a["followUp"]["status"] for a in awaiting(w.r1)] == ["SCHEDULED"]

    clock.advance(days=2)
    sweep(api, clock.now())
    failed = thread(w.r1, t["id"])["followUp"]
    assert failed["status"] == "FAILED"
    assert failed["failure"]["code"] == "AUTOMATION_DISABLED"
    assert failed["failure"]["message"] == AUTOMATION_DISABLED_TEXT
    assert failed["failure"]["remedy"]
    assert failed["creditRefunded"] is True
    assert remaining(w.r1) == 9
    refund = ledger(w.r1)[0]
    assert (refund["kind"], refund["messageId"]) == ("REFUND", failed["id"])
    assert datetime.fromisoformat(refund["at"]) == clock.now()


def test_r51_enabling_again_before_due_lets_the_follow_up_go_out(api, clock):
    w = world(api, credits=10)
    admin = api.seat("a1", "c1", admin=True)
    t = sent(w.r1, followUp={"body": "Ping", "delayDays": 3})
    admin.mutate("SetFollowUpsEnabled", enabled=False)
    clock.advance(days=2)
    admin.mutate("SetFollowUpsEnabled", enabled=True)
    clock.advance(days=1)
    sweep(api, clock.now())
    fu = thread(w.r1, t["id"])["followUp"]
    assert fu["status"] == "SENT"
    assert fu["failure"] is None
    assert remaining(w.r1) == 8


def test_r51_enabling_again_does_not_revive_a_follow_up_that_already_failed(api, clock):
    w = world(api, credits=10)
    admin = api.seat("a1", "c1", admin=True)
    t = sent(w.r1, followUp={"body": "Ping", "delayDays": 3})
    admin.mutate("SetFollowUpsEnabled", enabled=False)
    clock.advance(days=3)
    sweep(api, clock.now())
    admin.mutate("SetFollowUpsEnabled", enabled=True)
    clock.advance(days=1)
    sweep(api, clock.now(), "sweep-2")
    after = thread(w.r1, t["id"])
    assert after["followUp"]["status"] == "FAILED"
    assert (after["creditsCharged"], after["creditsRefunded"]) == (2, 1)
    assert remaining(w.r1) == 9


@pytest.mark.parametrize("enabled", [True, False])
def test_r50_setting_to_the_current_value_is_recorded_too(api, clock, enabled):
    w = world(api, enabled=enabled)
    admin = api.seat("a1", "c1", admin=True)
    clock.advance(hours=1)
    p = admin.mutate("SetFollowUpsEnabled", enabled=enabled)
    assert codes(p) == []
    assert p["contract"]["followUpsEnabled"] is enabled
    assert contract(w.r1)["followUpsChangedBy"] == "a1"
