"""R74 on DynamoDB (moto): a follow-up moved past the daily maximum is moved exactly once,
by one conditional write, whatever sweeps race, repeat or crash; the due index follows the
move; and R70-R74's new state round-trips through DynamoStore."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from gql import Caller, GraphQLClient
from inmail.domain.model import Changes, LedgerKind, MessageStatus, SendWindow, Thread, Weekday
from inmail.domain.ports import LedgerIndex
from inmail.services.deps import Deps
from inmail.services.sweep import run_sweep
from support import T0, FakeClock
from sweeping import atomic_moto

DUE = T0 + timedelta(days=3)  # Thursday 5 November 2026, 09:00 UTC (10:00 in Berlin)
FRIDAY_9_BERLIN = datetime.fromisoformat("2026-11-06T09:00:00+01:00")
WEEKDAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]


@pytest.fixture
def serial_moto(aws: None) -> Iterator[None]:
    with atomic_moto():
        yield


@pytest.fixture
def r1(api: GraphQLClient, serial_moto: None) -> Caller:
    """Contract c1 opted in to R74 with a 09:00-17:00 weekday window, its admin r1, and
    candidate k1 in Berlin."""
    api.contract("c1", credits=500, max_daily=500)
    admin = api.seat("r1", admin=True)
    p = api.operator.mutate("UpsertCandidate", candidateId="k1", name="Kim", timeZone="Europe/Berlin")
    assert p["userErrors"] == []
    window = {"startHour": 9, "endHour": 17, "days": WEEKDAYS}
    assert admin.mutate("SetSendWindow", window=window)["userErrors"] == []
    assert admin.mutate("SetRescheduleOnDailyLimit", enabled=True)["userErrors"] == []
    return admin


def send_many(r1: Caller, n: int, daily_limit: int) -> list[str]:
    """n follow-ups due at DUE, then the recruiter's maximum lowered to `daily_limit`."""
    ids = []
    for i in range(n):
        p = r1.mutate(
            "SendInMail", candidateId="k1", subject=f"Role {i}", body="Hi", followUp={"body": "ping", "delayDays": 3}
        )
        assert p["userErrors"] == [], p
        ids.append(p["thread"]["id"])
    assert r1.mutate("SetDailyLimit", dailyLimit=daily_limit)["userErrors"] == []
    return ids


def threads(deps: Deps, ids: list[str]) -> list[Thread]:
    found = [deps.store.get_thread(tid) for tid in ids]
    assert all(t is not None and t.follow_up is not None for t in found)
    return found  # type: ignore[return-value]


def status(t: Thread) -> MessageStatus:
    assert t.follow_up is not None
    return t.follow_up.status


def due_ids(deps: Deps, at: datetime) -> list[str]:
    return sorted(tid for shard in range(deps.store.due_shards) for tid in deps.store.due_thread_ids(shard, at, 100))


def ledger_balanced(deps: Deps, at: datetime) -> None:
    entries = []
    after = None
    while True:
        page = deps.store.list_ledger(LedgerIndex.CONTRACT, "c1", 100, after)
        entries += page.items
        if not page.has_next_page:
            break
        after = page.end_cursor
    net = sum(1 if e.kind is LedgerKind.CHARGE else -1 for e in entries)
    assert net == deps.store.get_counter(f"credits#c1#{at:%Y-%m}")
    assert len({e.entry_id for e in entries}) == len(entries)


def deliveries_counted(deps: Deps) -> list[str]:
    """Wrap the store's commit: the ids of follow-ups each delivery commit made SENT."""
    delivered: list[str] = []
    lock = threading.Lock()
    commit = deps.store.commit

    def counting(changes: Changes) -> None:
        commit(changes)
        for t, _ in changes.threads:
            if t.follow_up is not None and t.follow_up.status is MessageStatus.SENT and t.lease_owner is None:
                with lock:
                    delivered.append(t.thread_id)

    deps.store.commit = counting  # type: ignore[method-assign]
    return delivered


def race(deps: Deps, at: datetime, n: int) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    sweeps = [
        threading.Thread(target=lambda i=i: results.append(run_sweep(deps, at, f"s{i}", workers=2).to_dict()))
        for i in range(n)
    ]
    for s in sweeps:
        s.start()
    for s in sweeps:
        s.join()
    return results


def test_r74_a_daily_maximum_met_by_two_sweeps_racing_moves_the_other_once(
    api: GraphQLClient, r1: Caller, clock: FakeClock
) -> None:
    """Two sweeps each decide to deliver one of two follow-ups (0 of 1 sent today, as both
    read it) and commit together: one delivery wins the day's slot, the other's own count
    refuses it, and that follow-up is moved to Friday 09:00 in Berlin, once."""
    ids = send_many(r1, 2, daily_limit=1)
    deps = api.deps
    clock.at = DUE
    both_decided = threading.Barrier(2, timeout=60)
    commit = deps.store.commit
    waited: list[str] = []

    def deliveries_wait_for_each_other(changes: Changes) -> None:
        delivering = [t for t, _ in changes.threads if t.follow_up and t.follow_up.status is MessageStatus.SENT]
        if delivering and len(waited) < 2:
            waited.append(delivering[0].thread_id)
            both_decided.wait()
        commit(changes)

    deps.store.commit = deliveries_wait_for_each_other  # type: ignore[method-assign]
    delivered = deliveries_counted(deps)
    results = race(deps, DUE, 2)

    assert sorted(waited) == sorted(ids)  # each sweep got to deliver one of them
    assert sum(r["delivered"] for r in results) == 1 and sum(r["rescheduled"] for r in results) == 1
    assert sum(r["cancelled"] + r["error"] for r in results) == 0
    sent, moved = sorted(threads(deps, ids), key=lambda t: status(t) is MessageStatus.SCHEDULED)
    assert delivered == [sent.thread_id]
    fu = moved.follow_up
    assert fu is not None and fu.status is MessageStatus.SCHEDULED
    assert (fu.times_rescheduled, fu.scheduled_for, fu.credit_refunded) == (1, FRIDAY_9_BERLIN, False)
    assert (
        fu.decision is not None and fu.decision.checks[-2].detail == "the daily count reached the maximum at delivery"
    )
    assert moved.lease_owner is None

    # The due index follows the move: not due for any sweep today, due on Friday.
    assert due_ids(deps, DUE + timedelta(hours=14)) == []
    assert due_ids(deps, FRIDAY_9_BERLIN) == [moved.thread_id]
    again = race(deps, DUE + timedelta(minutes=1), 2)
    assert all(r["due"] == 0 for r in again)
    assert threads(deps, [moved.thread_id])[0].follow_up == fu  # not moved again
    ledger_balanced(deps, DUE)


def test_r74_three_sweeps_at_once_move_each_follow_up_over_the_maximum_once(
    api: GraphQLClient, r1: Caller, clock: FakeClock
) -> None:
    ids = send_many(r1, 9, daily_limit=4)
    clock.at = DUE
    delivered = deliveries_counted(api.deps)
    results = race(api.deps, DUE, 3)
    assert sum(r["delivered"] for r in results) == 4 and sum(r["rescheduled"] for r in results) == 5
    assert len(delivered) == len(set(delivered)) == 4
    moved = [t.follow_up for t in threads(api.deps, ids) if status(t) is MessageStatus.SCHEDULED]
    assert len(moved) == 5
    assert {(fu.times_rescheduled, fu.scheduled_for) for fu in moved if fu} == {(1, FRIDAY_9_BERLIN)}
    assert api.deps.store.get_counter("sends#r1#2026-11-05") == 4
    ledger_balanced(api.deps, DUE)


class Killed(BaseException):
    """The process died: nothing after this point ran (the sweep does not catch it)."""


@pytest.mark.parametrize("dies", ["before the move lands", "after the move lands"])
def test_r74_a_sweep_that_dies_around_its_move_leaves_it_moved_once(
    api: GraphQLClient, r1: Caller, clock: FakeClock, dies: str
) -> None:
    ids = send_many(r1, 2, daily_limit=1)
    deps = api.deps
    clock.at = DUE
    commit = deps.store.commit

    def die_at_the_move(changes: Changes) -> None:
        moving = any(t.follow_up and t.follow_up.decision and t.follow_up.decision.moved_to for t, _ in changes.threads)
        if moving and dies == "after the move lands":
            commit(changes)
        if moving:
            raise Killed
        commit(changes)

    deps.store.commit = die_at_the_move  # type: ignore[method-assign]
    with pytest.raises(Killed):
        run_sweep(deps, DUE, "dying", workers=1)
    deps.store.commit = commit  # type: ignore[method-assign]
    (second,) = [t for t in threads(deps, ids) if status(t) is not MessageStatus.SENT]
    assert second.follow_up is not None and second.follow_up.status is MessageStatus.SCHEDULED

    # The sweep of the next minute (the dead one's lease holds), one past the lease, then
    # the dead invocation retried.
    for minutes, sweep_id in ((1, "next"), (16, "after-the-lease"), (0, "dying")):
        run_sweep(deps, DUE + timedelta(minutes=minutes), sweep_id, workers=1)
    fu = threads(deps, [second.thread_id])[0].follow_up
    assert fu is not None and fu.status is MessageStatus.SCHEDULED
    assert (fu.times_rescheduled, fu.scheduled_for, fu.credit_refunded) == (1, FRIDAY_9_BERLIN, False)
    assert fu.decision is not None
    assert fu.decision.sweep_id == ("dying" if dies == "after the move lands" else "after-the-lease")
    ledger_balanced(deps, DUE)


def test_r70_to_r74_state_round_trips_through_dynamodb(api: GraphQLClient, r1: Caller, clock: FakeClock) -> None:
    ids = send_many(r1, 2, daily_limit=1)
    store = api.deps.store
    contract = store.get_contract("c1")
    assert contract is not None
    assert contract.send_window == SendWindow(9, 17, tuple(Weekday)[:5])
    assert (contract.send_window_changed_by, contract.reschedule_on_daily_limit) == ("r1", True)
    assert contract.reschedule_changed_by == "r1" and contract.reschedule_changed_at == T0
    candidate = store.get_candidate("k1")
    assert candidate is not None and candidate.time_zone == "Europe/Berlin"
    scheduled = threads(api.deps, ids)[0].follow_up
    assert scheduled is not None and (scheduled.time_zone, scheduled.times_rescheduled) == ("Europe/Berlin", 0)

    clock.at = DUE
    run_sweep(api.deps, DUE, "s1", workers=1)
    (thread,) = [t for t in threads(api.deps, ids) if status(t) is MessageStatus.SCHEDULED]
    moved = thread.follow_up
    assert moved is not None and moved.decision is not None
    assert (moved.times_rescheduled, moved.decision.moved_to) == (1, FRIDAY_9_BERLIN)
    shown = r1.data("Thread", id=thread.thread_id)["thread"]["followUp"]
    assert shown["scheduledForLocal"] == "2026-11-06T09:00:00+01:00" and shown["timesRescheduled"] == 1

    assert r1.mutate("SetSendWindow", window=None)["userErrors"] == []
    after = store.get_contract("c1")
    assert after is not None and after.send_window is None and after.reschedule_on_daily_limit is True
