"""R90 with R70-R74: each candidate of `sendInMails` is the single send's path, so its
follow-up falls due in the contract's send window on that candidate's clock (R72), keeps
the zone it was decided in (R73), and is moved past a full day like any other (R74), with
the report counting it as one follow-up scheduled and none cancelled (R81).

The clock starts on Monday 2 November 2026, 09:00 UTC (10:00 in Berlin, 04:00 in New York)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bulk import outcomes, send_many
from gql import Caller, GraphQLClient
from inmail.services.sweep import run_sweep
from support import T0, FakeClock

WEEKDAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
NINE_TO_FIVE = {"startHour": 9, "endHour": 17, "days": WEEKDAYS}
THURSDAY_9UTC = T0 + timedelta(days=3)
ZONES = {"k1": "Europe/Berlin", "k2": "America/New_York", "k3": None}


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def provision(api: GraphQLClient, reschedule: bool = False) -> Caller:
    """Contract c1 with a weekday 9-to-5 window, its admin r1, candidates k1-k4 in ZONES
    (k4 in New York too, for a single send to compare with)."""
    api.contract("c1", credits=50, max_daily=25)
    r1 = api.seat("r1", admin=True)
    for cid, zone in {**ZONES, "k4": "America/New_York"}.items():
        p = api.operator.mutate("UpsertCandidate", candidateId=cid, name=f"Kim {cid}", firstName="Kim", timeZone=zone)
        assert p["userErrors"] == [], p
    assert r1.mutate("SetSendWindow", window=NINE_TO_FIVE)["userErrors"] == []
    if reschedule:
        assert r1.mutate("SetRescheduleOnDailyLimit", enabled=True)["userErrors"] == []
    return r1


def follow_ups(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    assert payload["userErrors"] == [] and all(o == "SENT" for _, o in outcomes(payload)), payload
    return {r["candidateId"]: r["thread"]["followUp"] for r in payload["results"]}


def follow_up(caller: Caller, tid: str) -> dict[str, Any]:
    fu: dict[str, Any] = caller.data("Thread", id=tid)["thread"]["followUp"]
    return fu


def test_r90_r72_each_candidates_follow_up_falls_due_in_the_window_on_its_own_clock(api: GraphQLClient) -> None:
    """Asked for Thursday 09:00 UTC: inside the window in Berlin (10:00) and on UTC (no
    zone), 04:00 in New York, so 09:00 there; exactly what sendInMail gives."""
    r1 = provision(api)
    fus = follow_ups(send_many(r1, list(ZONES), followUp={"body": "Any news, {firstName}?", "delayDays": 3}))

    assert {cid: (fu["timeZone"], fu["scheduledForLocal"]) for cid, fu in fus.items()} == {
        "k1": ("Europe/Berlin", "2026-11-05T10:00:00+01:00"),
        "k2": ("America/New_York", "2026-11-05T09:00:00-05:00"),
        "k3": (None, "2026-11-05T09:00:00+00:00"),
    }
    assert instant(fus["k2"]["scheduledFor"]) == THURSDAY_9UTC + timedelta(hours=5)
    assert {fu["body"] for fu in fus.values()} == {"Any news, Kim?"}
    single = r1.mutate(
        "SendInMail", candidateId="k4", subject="A role", body="Hello", followUp={"body": "Any news?", "delayDays": 3}
    )
    assert single["thread"]["followUp"]["scheduledFor"] == fus["k2"]["scheduledFor"]


def test_r90_r74_batch_follow_ups_meeting_the_daily_maximum_move_each_in_its_own_zone(
    api: GraphQLClient, clock: FakeClock
) -> None:
    """Opted in (R74); the maximum lowered to one a day and met on Thursday by a single send:
    the sweep moves both of the batch's follow-ups to Friday 09:00 on each candidate's
    clock, keeping their credits; the report counts them scheduled, none cancelled."""
    r1 = provision(api, reschedule=True)
    batch = send_many(r1, ["k1", "k2"], followUp={"body": "Any news?", "delayDays": 3}, idempotencyKey="b-1")
    tids = {cid: r["thread"]["id"] for cid, r in zip(["k1", "k2"], batch["results"], strict=True)}
    assert r1.mutate("SetDailyLimit", dailyLimit=1)["userErrors"] == []
    clock.at = THURSDAY_9UTC - timedelta(hours=1)
    assert r1.mutate("SendInMail", candidateId="k4", subject="A role", body="Hello")["userErrors"] == []
    credits = r1.data("Contract")["contract"]["creditsRemaining"]

    clock.at = THURSDAY_9UTC + timedelta(hours=5)  # both due: Berlin's at 09:00 UTC, New York's now
    summary = run_sweep(api.deps, clock.at, "sweep-1", workers=1).to_dict()

    assert (summary["delivered"], summary["rescheduled"], summary["cancelled"]) == (0, 2, 0)
    moved = {cid: follow_up(r1, tid) for cid, tid in tids.items()}
    assert {cid: (fu["status"], fu["scheduledForLocal"], fu["timesRescheduled"]) for cid, fu in moved.items()} == {
        "k1": ("SCHEDULED", "2026-11-06T09:00:00+01:00", 1),
        "k2": ("SCHEDULED", "2026-11-06T09:00:00-05:00", 1),
    }
    assert r1.data("Contract")["contract"]["creditsRemaining"] == credits
    # The same batch again with its key: the same threads, nothing charged, nothing moved back.
    again = send_many(r1, ["k1", "k2"], followUp={"body": "Any news?", "delayDays": 3}, idempotencyKey="b-1")
    assert [r["thread"]["id"] for r in again["results"]] == list(tids.values())
    assert r1.data("Contract")["contract"]["creditsRemaining"] == credits
    assert {cid: follow_up(r1, tid)["scheduledForLocal"] for cid, tid in tids.items()} == {
        cid: fu["scheduledForLocal"] for cid, fu in moved.items()
    }
    report = r1.data("InMailReport", **{"from": "2026-11-02", "to": "2026-11-05"})["inMailReport"]
    (row,) = report["rows"]
    assert (row["inMailsSent"], row["followUpsScheduled"], row["followUpsCancelled"]) == (3, 2, 0)
