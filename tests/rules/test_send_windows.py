"""Send windows in the candidate's time zone and rescheduling past the daily maximum
(R70-R74), end to end through GraphQL and the sweeper, on the in-memory store.

The clock starts on Monday 2 November 2026, 09:00 UTC (10:00 in Berlin, 04:00 in New York)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fakes import MemoryStore
from gql import Caller, GraphQLClient
from inmail.domain.model import Changes, MessageStatus
from inmail.services.sweep import run_sweep
from support import T0, FakeClock

WEEKDAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
NINE_TO_FIVE = {"startHour": 9, "endHour": 17, "days": WEEKDAYS}
THURSDAY_9UTC = T0 + timedelta(days=3)  # when a follow-up of delayDays 3 sent at T0 is asked for


# ---- set-up and what a user looks at ------------------------------------------------------


def upsert(api: GraphQLClient, cand: str = "k1", **fields: Any) -> dict[str, Any]:
    return api.operator.mutate("UpsertCandidate", candidateId=cand, name=f"Candidate {cand}", **fields)


def provision(
    api: GraphQLClient,
    zone: str | None = "Europe/Berlin",
    window: dict[str, Any] | None = None,
    reschedule: bool = False,
) -> Caller:
    """Contract c1 with its admin r1 and candidate k1 in `zone`; r1 returned."""
    api.contract("c1", credits=50, max_daily=25)
    r1 = api.seat("r1", admin=True)
    assert upsert(api, timeZone=zone)["userErrors"] == []
    if window is not None:
        assert r1.mutate("SetSendWindow", window=window)["userErrors"] == []
    if reschedule:
        assert r1.mutate("SetRescheduleOnDailyLimit", enabled=True)["userErrors"] == []
    return r1


def send(r1: Caller, cand: str = "k1", **follow_up: Any) -> dict[str, Any]:
    """A first message with a follow-up (`follow_up` given) that must go through: its thread."""
    extra = {"followUp": {"body": "Any news?", **follow_up}} if follow_up else {}
    p = r1.mutate("SendInMail", candidateId=cand, subject="A role", body="Hello", **extra)
    assert p["userErrors"] == [], p
    thread: dict[str, Any] = p["thread"]
    return thread


def thread(caller: Caller, tid: str) -> dict[str, Any]:
    t: dict[str, Any] = caller.data("Thread", id=tid)["thread"]
    return t


def follow_up(caller: Caller, tid: str) -> dict[str, Any]:
    fu: dict[str, Any] = thread(caller, tid)["followUp"]
    return fu


def contract(caller: Caller) -> dict[str, Any]:
    c: dict[str, Any] = caller.data("Contract")["contract"]
    return c


def ledger(caller: Caller) -> list[dict[str, Any]]:
    return [e["node"] for e in caller.data("CreditLedger", first=100)["creditLedger"]["edges"]]


def sweep(api: GraphQLClient, clock: FakeClock, at: datetime, sweep_id: str = "sweep-1") -> dict[str, Any]:
    """The scheduled sweeper running at `at` (the clock reads it too); its summary."""
    clock.at = at
    return run_sweep(api.deps, at, sweep_id, workers=1).to_dict()


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def iso(at: datetime) -> str:
    return at.isoformat()


def only_error(payload: dict[str, Any]) -> dict[str, Any]:
    assert len(payload["userErrors"]) == 1, payload
    error: dict[str, Any] = payload["userErrors"][0]
    return error


# ---- R70: the candidate's time zone -----------------------------------------------------------


def test_r70_upsert_candidate_sets_keeps_and_clears_the_time_zone(api: GraphQLClient) -> None:
    provision(api, zone="Europe/Berlin")
    assert api.deps.store.get_candidate("k1").time_zone == "Europe/Berlin"  # type: ignore[union-attr]
    kept = upsert(api, deleted=True)  # left out: kept, as firstName and lastName are
    assert kept["candidate"] == {"id": "k1", "name": "Candidate k1", "deleted": True, "timeZone": "Europe/Berlin"}
    assert upsert(api, timeZone="Asia/Kathmandu")["candidate"]["timeZone"] == "Asia/Kathmandu"
    assert upsert(api, timeZone=None)["candidate"]["timeZone"] is None  # null: cleared, the candidate is on UTC


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "europe/berlin", " Europe/Berlin", "../../etc/passwd", ""])
def test_r70_an_unknown_time_zone_is_invalid_input_and_changes_nothing(api: GraphQLClient, name: str) -> None:
    provision(api, zone="Europe/Berlin")
    before = api.deps.store.get_candidate("k1")
    error = only_error(upsert(api, timeZone=name, deleted=True))
    assert error["code"] == "INVALID_INPUT" and error["field"] == ["input", "timeZone"]
    assert "IANA" in error["message"]
    assert api.deps.store.get_candidate("k1") == before


def test_r70_without_a_time_zone_the_candidate_is_on_utc(api: GraphQLClient) -> None:
    """Window 10:00-12:00; asked for Thursday 09:00 UTC: 09:00 for Kim (no zone), outside;
    10:00 for Lea in Berlin, inside."""
    r1 = provision(api, zone=None, window={"startHour": 10, "endHour": 12, "days": WEEKDAYS})
    upsert(api, "k2", timeZone="Europe/Berlin")
    kim = follow_up(r1, send(r1, "k1", delayDays=3)["id"])
    lea = follow_up(r1, send(r1, "k2", delayDays=3)["id"])
    assert (kim["timeZone"], kim["scheduledForLocal"]) == (None, "2026-11-05T10:00:00+00:00")
    assert instant(kim["scheduledFor"]) == THURSDAY_9UTC + timedelta(hours=1)
    assert (lea["timeZone"], lea["scheduledForLocal"]) == ("Europe/Berlin", "2026-11-05T10:00:00+01:00")
    assert instant(lea["scheduledFor"]) == THURSDAY_9UTC


# ---- R71: the contract's send window ----------------------------------------------------------


def test_r71_a_contract_admin_sets_the_window_recorded_with_who_and_when(api: GraphQLClient, clock: FakeClock) -> None:
    r1 = provision(api)
    assert contract(r1)["sendWindow"] is None and contract(r1)["sendWindowChangedBy"] is None
    clock.advance(hours=1)
    p = r1.mutate("SetSendWindow", window={"startHour": 8, "endHour": 18, "days": ["FRIDAY", "MONDAY"]})
    assert p["userErrors"] == []
    shown = contract(r1)
    assert shown == p["contract"]
    assert shown["sendWindow"] == {"startHour": 8, "endHour": 18, "days": ["MONDAY", "FRIDAY"]}
    assert (shown["sendWindowChangedBy"], instant(shown["sendWindowChangedAt"])) == ("r1", clock.at)

    clock.advance(hours=1)
    removed = r1.mutate("SetSendWindow", window=None)["contract"]
    assert removed["sendWindow"] is None
    assert (removed["sendWindowChangedBy"], instant(removed["sendWindowChangedAt"])) == ("r1", clock.at)


def test_r71_only_a_contract_admin_sets_the_window_or_rescheduling(api: GraphQLClient) -> None:
    r1 = provision(api)
    api.seat("r2")
    not_admins = {
        "recruiter": api.as_("r2", "RECRUITER", contract="c1"),
        "admin role without an admin seat": api.as_("r2", "RECRUITER", "CONTRACT_ADMIN", contract="c1"),
        "admin seat without the admin role": api.as_("r1", "RECRUITER", contract="c1"),
        "operator": api.operator,
        "candidate": api.as_("k1", "CANDIDATE"),
    }
    before = contract(r1)
    for who, caller in not_admins.items():
        window = caller.op("SetSendWindow", input={"window": NINE_TO_FIVE})
        opt_in = caller.op("SetRescheduleOnDailyLimit", input={"enabled": True})
        assert window.error_codes == ["FORBIDDEN"] and opt_in.error_codes == ["FORBIDDEN"], who
    assert contract(r1) == before


@pytest.mark.parametrize(
    ("window", "field"),
    [
        ({"startHour": -1, "endHour": 17, "days": WEEKDAYS}, "startHour"),
        ({"startHour": 24, "endHour": 24, "days": WEEKDAYS}, "startHour"),
        ({"startHour": 9, "endHour": 25, "days": WEEKDAYS}, "endHour"),
        ({"startHour": 9, "endHour": 9, "days": WEEKDAYS}, "endHour"),
        ({"startHour": 17, "endHour": 9, "days": WEEKDAYS}, "endHour"),
        ({"startHour": 9, "endHour": 17, "days": []}, "days"),
        ({"startHour": 9, "endHour": 17, "days": ["MONDAY", "TUESDAY", "MONDAY"]}, "days"),
    ],
)
def test_r71_a_bad_window_is_invalid_input_naming_the_field(
    api: GraphQLClient, window: dict[str, Any], field: str
) -> None:
    r1 = provision(api, window=NINE_TO_FIVE)
    before = contract(r1)
    error = only_error(r1.mutate("SetSendWindow", window=window))
    assert error["code"] == "INVALID_INPUT" and error["field"] == ["input", "window", field]
    assert contract(r1) == before


def test_r71_a_window_left_out_is_invalid_input_not_a_removal(api: GraphQLClient) -> None:
    r1 = provision(api, window=NINE_TO_FIVE)
    error = only_error(r1.mutate("SetSendWindow"))
    assert error["code"] == "INVALID_INPUT" and error["field"] == ["input", "window"]
    assert contract(r1)["sendWindow"] == NINE_TO_FIVE


def test_r71_without_a_window_a_follow_up_is_due_exactly_when_asked(api: GraphQLClient) -> None:
    r1 = provision(api, zone="America/New_York")
    fu = follow_up(r1, send(r1, delayDays=3)["id"])
    assert instant(fu["scheduledFor"]) == THURSDAY_9UTC
    assert fu["scheduledForLocal"] == "2026-11-05T04:00:00-05:00"  # 4 a.m. for the candidate, as asked


# ---- R72: due inside the window, in the candidate's zone --------------------------------------


def test_r72_send_in_mail_falls_due_at_the_first_window_time_in_the_candidates_zone(api: GraphQLClient) -> None:
    r1 = provision(api, zone="America/New_York", window=NINE_TO_FIVE)
    fu = follow_up(r1, send(r1, delayDays=3)["id"])
    assert fu["scheduledForLocal"] == "2026-11-05T09:00:00-05:00"  # asked for 04:00 there
    assert instant(fu["scheduledFor"]) == THURSDAY_9UTC + timedelta(hours=5)
    assert fu["timeZone"] == "America/New_York"


def test_r72_schedule_and_reschedule_follow_up_fall_due_in_the_window(api: GraphQLClient) -> None:
    r1 = provision(api, window=NINE_TO_FIVE)
    tid = send(r1)["id"]
    saturday = r1.mutate("ScheduleFollowUp", threadId=tid, body="Any news?", sendAt="2026-11-07T12:00:00Z")
    assert saturday["userErrors"] == []
    assert saturday["thread"]["followUp"]["scheduledForLocal"] == "2026-11-09T09:00:00+01:00"  # Monday
    assert r1.mutate("CancelFollowUp", threadId=tid)["userErrors"] == []
    evening = r1.mutate("RescheduleFollowUp", threadId=tid, sendAt="2026-11-10T17:30:00+01:00")
    assert evening["userErrors"] == []
    assert evening["thread"]["followUp"]["scheduledForLocal"] == "2026-11-11T09:00:00+01:00"


def test_r72_a_local_time_that_does_not_exist_is_skipped(api: GraphQLClient, clock: FakeClock) -> None:
    """New York springs forward at 02:00 on Sunday 8 March 2026: a window opening at 02:00
    opens at 03:00 EDT that day."""
    r1 = provision(api, zone="America/New_York", window={"startHour": 2, "endHour": 4, "days": ["SUNDAY"]})
    clock.at = instant("2026-03-04T12:00:00Z")
    fu = follow_up(r1, send(r1, sendAt="2026-03-08T01:30:00-05:00")["id"])
    assert fu["scheduledForLocal"] == "2026-03-08T03:00:00-04:00"
    assert instant(fu["scheduledFor"]) == instant("2026-03-08T07:00:00Z")


def test_r72_past_28_days_it_is_the_last_window_time_within_them(api: GraphQLClient) -> None:
    """Mondays 09:00-10:00 in Berlin; sent Monday at 10:00 Berlin; 28 days later is just
    after the window, and the next Monday is too late: the window's last minute that day."""
    r1 = provision(api, window={"startHour": 9, "endHour": 10, "days": ["MONDAY"]})
    fu = follow_up(r1, send(r1, delayDays=28)["id"])
    assert fu["scheduledForLocal"] == "2026-11-30T09:59:00+01:00"
    assert instant(fu["scheduledFor"]) <= T0 + timedelta(days=28)


def test_r72_no_window_time_left_is_follow_up_window_and_charges_nothing(api: GraphQLClient, clock: FakeClock) -> None:
    """Tuesdays only: on Wednesday 25 November no Tuesday is left before the 28 days end
    (Monday 30 November), and the last one has passed."""
    r1 = provision(api, window={"startHour": 9, "endHour": 17, "days": ["TUESDAY"]})
    tid = send(r1)["id"]
    clock.at = instant("2026-11-25T11:00:00Z")
    before = (contract(r1)["creditsRemaining"], ledger(r1))
    error = only_error(r1.mutate("ScheduleFollowUp", threadId=tid, body="Any news?"))
    assert error["code"] == "FOLLOW_UP_WINDOW" and "send window" in error["message"]
    assert (contract(r1)["creditsRemaining"], ledger(r1)) == before
    assert thread(r1, tid)["followUp"] is None


def test_r72_the_sweeper_delivers_at_the_window_time_not_before(api: GraphQLClient, clock: FakeClock) -> None:
    r1 = provision(api, zone="America/New_York", window=NINE_TO_FIVE)
    tid = send(r1, delayDays=3)["id"]
    due = THURSDAY_9UTC + timedelta(hours=5)
    assert sweep(api, clock, due - timedelta(seconds=1))["due"] == 0
    assert follow_up(r1, tid)["status"] == "SCHEDULED"
    assert sweep(api, clock, due, "sweep-2")["delivered"] == 1
    assert instant(follow_up(r1, tid)["sentAt"]) == due


# ---- R73: fixed when scheduled ------------------------------------------------------------------


def test_r73_changing_the_window_or_the_zone_moves_nothing_already_scheduled(api: GraphQLClient) -> None:
    r1 = provision(api, zone="America/New_York", window=NINE_TO_FIVE)
    tid = send(r1, delayDays=3)["id"]
    scheduled = follow_up(r1, tid)
    assert r1.mutate("SetSendWindow", window={"startHour": 20, "endHour": 22, "days": ["SUNDAY"]})["userErrors"] == []
    assert upsert(api, timeZone="Asia/Tokyo")["userErrors"] == []
    assert follow_up(r1, tid) == scheduled  # scheduledFor, timeZone and scheduledForLocal as they were
    assert scheduled["timeZone"] == "America/New_York"

    later = follow_up(r1, send(r1, delayDays=3)["id"])  # a new one uses the new settings
    assert later["timeZone"] == "Asia/Tokyo"
    assert later["scheduledForLocal"] == "2026-11-08T20:00:00+09:00"  # the next Sunday 20:00 in Tokyo


def test_r73_the_message_shows_the_zone_used_and_the_local_time(api: GraphQLClient, clock: FakeClock) -> None:
    r1 = provision(api, zone="Asia/Kathmandu", window=NINE_TO_FIVE)
    tid = send(r1, delayDays=3)["id"]
    fu = follow_up(r1, tid)
    assert (fu["timeZone"], fu["scheduledForLocal"]) == ("Asia/Kathmandu", "2026-11-05T14:45:00+05:45")
    assert fu["timesRescheduled"] == 0
    sweep(api, clock, instant(fu["scheduledFor"]))
    seen = follow_up(api.as_("k1", "CANDIDATE"), tid)  # the candidate sees what they got, not the plan
    assert seen["status"] == "SENT"
    assert (seen["timeZone"], seen["scheduledForLocal"], seen["scheduledFor"]) == (None, None, None)


# ---- R74: rescheduling past the daily maximum ----------------------------------------------------


def due_on_a_full_day(r1: Caller, clock: FakeClock, delay: int = 3, **follow_up: Any) -> str:
    """A follow-up due `delay` days after T0, on a day the recruiter's maximum, lowered to
    one a day (R42), is met by a first message sent an hour before: its thread id."""
    tid = send(r1, delayDays=delay, **follow_up)["id"]
    assert r1.mutate("SetDailyLimit", dailyLimit=1)["userErrors"] == []
    clock.at = T0 + timedelta(days=delay, hours=-1)
    send(r1)  # that day's one message
    return tid


def test_r74_is_off_by_default_and_the_daily_maximum_cancels_as_r25(api: GraphQLClient, clock: FakeClock) -> None:
    r1 = provision(api, window=NINE_TO_FIVE)
    assert contract(r1)["rescheduleOnDailyLimit"] is False
    second = due_on_a_full_day(r1, clock)
    summary = sweep(api, clock, THURSDAY_9UTC)
    assert (summary["delivered"], summary["cancelled"], summary["rescheduled"]) == (0, 1, 0)
    fu = follow_up(r1, second)
    assert (fu["status"], fu["failure"]["code"], fu["creditRefunded"]) == ("CANCELLED", "DAILY_LIMIT_REACHED", True)
    assert fu["timesRescheduled"] == 0 and fu["decision"]["movedTo"] is None
    assert [c["name"] for c in fu["decision"]["checks"]][-1] == "recruiter's daily maximum reached"


def test_r74_a_contract_admin_opts_in_recorded_with_who_and_when(api: GraphQLClient, clock: FakeClock) -> None:
    r1 = provision(api)
    clock.advance(minutes=5)
    on = r1.mutate("SetRescheduleOnDailyLimit", enabled=True)["contract"]
    assert on["rescheduleOnDailyLimit"] is True
    assert (on["rescheduleOnDailyLimitChangedBy"], instant(on["rescheduleOnDailyLimitChangedAt"])) == ("r1", clock.at)
    assert contract(r1)["rescheduleOnDailyLimit"] is True
    assert r1.mutate("SetRescheduleOnDailyLimit", enabled=False)["contract"]["rescheduleOnDailyLimit"] is False


def test_r74_a_follow_up_meeting_the_daily_maximum_moves_to_the_next_days_first_window_time(
    api: GraphQLClient, clock: FakeClock
) -> None:
    r1 = provision(api, window=NINE_TO_FIVE, reschedule=True)
    second = due_on_a_full_day(r1, clock)
    credits = contract(r1)["creditsRemaining"]
    summary = sweep(api, clock, THURSDAY_9UTC)
    assert (summary["delivered"], summary["rescheduled"], summary["cancelled"]) == (0, 1, 0)
    assert summary["refunded_credits"] == 0

    fu = follow_up(r1, second)
    friday_9_berlin = instant("2026-11-06T09:00:00+01:00")
    assert fu["status"] == "SCHEDULED" and fu["failure"] is None
    assert instant(fu["scheduledFor"]) == friday_9_berlin
    assert fu["scheduledForLocal"] == "2026-11-06T09:00:00+01:00"
    assert fu["timesRescheduled"] == 1
    assert (fu["creditCharged"], fu["creditRefunded"]) == (True, False)  # keeps its credit
    decision = fu["decision"]
    assert (decision["outcome"], decision["rule"], decision["code"]) == ("SCHEDULED", "R25", "DAILY_LIMIT_REACHED")
    assert instant(decision["movedTo"]) == friday_9_berlin
    daily, move = decision["checks"][-2:]
    assert (daily["name"], daily["holds"], daily["detail"]) == (
        "recruiter's daily maximum reached",
        True,
        "1 sent today of a maximum of 1",
    )
    assert move["holds"] is True and move["rule"] == "R25"
    assert move["detail"] == ("moved to 2026-11-06T09:00:00+01:00, the first send-window time from the next UTC day on")
    assert contract(r1)["creditsRemaining"] == credits
    assert not [e for e in ledger(r1) if e["kind"] == "REFUND"]
    awaiting = [e["node"]["id"] for e in r1.data("AwaitingReply", first=10)["awaitingReply"]["edges"]]
    assert second in awaiting

    # Later that day nothing moves it again; on Friday it goes out, counted on Friday.
    assert sweep(api, clock, THURSDAY_9UTC + timedelta(hours=12), "sweep-2")["due"] == 0
    assert sweep(api, clock, friday_9_berlin, "sweep-3")["delivered"] == 1
    done = follow_up(r1, second)
    assert (done["status"], done["timesRescheduled"], instant(done["sentAt"])) == ("SENT", 1, friday_9_berlin)
    assert r1.data("Viewer")["viewer"]["seat"]["sentToday"] == 1
    assert contract(r1)["creditsRemaining"] == credits


def test_r74_without_a_window_it_moves_to_the_same_time_on_the_next_utc_day(
    api: GraphQLClient, clock: FakeClock
) -> None:
    r1 = provision(api, zone="America/New_York", reschedule=True)
    second = due_on_a_full_day(r1, clock)
    late = THURSDAY_9UTC + timedelta(hours=14, minutes=30)  # a sweep running late: 23:30 UTC
    assert sweep(api, clock, late)["rescheduled"] == 1
    fu = follow_up(r1, second)
    assert instant(fu["scheduledFor"]) == THURSDAY_9UTC + timedelta(days=1)  # Friday 09:00 UTC
    assert fu["scheduledForLocal"] == "2026-11-06T04:00:00-05:00"


def test_r74_a_full_friday_moves_to_monday_when_the_window_has_no_weekend(api: GraphQLClient, clock: FakeClock) -> None:
    r1 = provision(api, window=NINE_TO_FIVE, reschedule=True)
    second = due_on_a_full_day(r1, clock, delay=4)  # Friday 6 November, 10:00 Berlin
    assert sweep(api, clock, T0 + timedelta(days=4))["rescheduled"] == 1
    assert follow_up(r1, second)["scheduledForLocal"] == "2026-11-09T09:00:00+01:00"


def test_r74_when_the_move_would_pass_28_days_r25_applies(api: GraphQLClient, clock: FakeClock) -> None:
    r1 = provision(api, reschedule=True)
    second = due_on_a_full_day(r1, clock, delay=28)
    summary = sweep(api, clock, T0 + timedelta(days=28))
    assert (summary["delivered"], summary["cancelled"], summary["rescheduled"]) == (0, 1, 0)
    fu = follow_up(r1, second)
    assert (fu["status"], fu["failure"]["code"], fu["creditRefunded"]) == ("CANCELLED", "DAILY_LIMIT_REACHED", True)
    assert fu["failure"]["message"].startswith("The message cannot be delivered to the candidate.")
    move = fu["decision"]["checks"][-1]
    assert move["holds"] is False and "more than 28 days" in move["detail"]
    assert fu["timesRescheduled"] == 0 and fu["decision"]["movedTo"] is None


def test_r74_meeting_the_maximum_at_the_delivery_commit_moves_it_too(api: GraphQLClient, clock: FakeClock) -> None:
    """The sweep reads 0 of 1 sent today and decides to deliver; a first message sent just
    before the delivery commits takes the day's last slot; the delivery's own count refuses,
    and the follow-up moves instead of being cancelled."""
    r1 = provision(api, window=NINE_TO_FIVE, reschedule=True)
    tid = send(r1, delayDays=3)["id"]
    assert r1.mutate("SetDailyLimit", dailyLimit=1)["userErrors"] == []
    store: MemoryStore = api.deps.store  # type: ignore[assignment]
    raced = []

    def send_first(changes: Changes) -> None:
        delivering = any(t.follow_up and t.follow_up.status is MessageStatus.SENT for t, _ in changes.threads)
        if delivering and not raced:
            raced.append(send(r1)["id"])  # another tab of the recruiter's, at the same moment

    store.before_commit = send_first
    clock.at = THURSDAY_9UTC
    summary = sweep(api, clock, THURSDAY_9UTC)
    store.before_commit = None
    assert raced and (summary["delivered"], summary["rescheduled"]) == (0, 1)
    fu = follow_up(r1, tid)
    assert (fu["status"], fu["timesRescheduled"], fu["creditRefunded"]) == ("SCHEDULED", 1, False)
    checks = [(c["name"], c["holds"], c["detail"]) for c in fu["decision"]["checks"]][-2:]
    assert checks[0] == ("recruiter's daily maximum reached", True, "the daily count reached the maximum at delivery")
    assert checks[1][0] == "moved to the next day instead (R74)" and checks[1][1] is True
    assert fu["scheduledForLocal"] == "2026-11-06T09:00:00+01:00"


def test_r74_each_move_is_counted_and_no_sweep_moves_it_twice_for_one_day(api: GraphQLClient, clock: FakeClock) -> None:
    r1 = provision(api, window=NINE_TO_FIVE, reschedule=True)
    second = due_on_a_full_day(r1, clock)
    assert sweep(api, clock, THURSDAY_9UTC, "thursday")["rescheduled"] == 1
    for sweep_id in ("thursday", "duplicate", "late"):  # the same invocation again, another, a later one
        assert sweep(api, clock, THURSDAY_9UTC + timedelta(hours=14), sweep_id)["due"] == 0
    assert follow_up(r1, second)["timesRescheduled"] == 1

    friday_8utc = instant("2026-11-06T08:00:00Z")
    clock.at = friday_8utc - timedelta(hours=1)
    send(r1)  # Friday's one message, before the follow-up is due
    assert sweep(api, clock, friday_8utc, "friday")["rescheduled"] == 1
    fu = follow_up(r1, second)
    assert (fu["timesRescheduled"], fu["scheduledForLocal"]) == (2, "2026-11-09T09:00:00+01:00")


def test_r74_the_move_uses_the_window_and_zone_as_they_are_then(api: GraphQLClient, clock: FakeClock) -> None:
    """R73 keeps what is scheduled; a move is scheduling anew, with today's settings."""
    r1 = provision(api, window=NINE_TO_FIVE, reschedule=True)
    second = due_on_a_full_day(r1, clock)
    assert upsert(api, timeZone="America/New_York")["userErrors"] == []
    assert r1.mutate("SetSendWindow", window={"startHour": 12, "endHour": 14, "days": WEEKDAYS})["userErrors"] == []
    assert follow_up(r1, second)["scheduledForLocal"] == "2026-11-05T10:00:00+01:00"  # unchanged (R73)
    sweep(api, clock, THURSDAY_9UTC)
    fu = follow_up(r1, second)
    assert (fu["timeZone"], fu["scheduledForLocal"]) == ("America/New_York", "2026-11-06T12:00:00-05:00")


def test_r74_a_moved_follow_up_can_be_cancelled_and_is_refunded(api: GraphQLClient, clock: FakeClock) -> None:
    r1 = provision(api, reschedule=True)
    second = due_on_a_full_day(r1, clock)
    sweep(api, clock, THURSDAY_9UTC)
    credits = contract(r1)["creditsRemaining"]
    cancelled = r1.mutate("CancelFollowUp", threadId=second)["thread"]["followUp"]
    assert (cancelled["status"], cancelled["creditRefunded"], cancelled["timesRescheduled"]) == ("CANCELLED", True, 1)
    assert contract(r1)["creditsRemaining"] == credits + 1
