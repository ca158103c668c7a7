"""Overlapping, crashed and racing sweeps on moto: each follow-up ends in exactly one
final state, is delivered at most once, and the ledger balances (R04, R30)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from gql import Caller, GraphQLClient
from inmail.domain.model import Changes, LedgerKind, MessageStatus, Thread
from inmail.domain.ports import LedgerIndex
from inmail.services.deps import Deps
from inmail.services.sweep import run_sweep
from inmail.store.metering import RequestMeter
from support import T0, FakeClock
from sweeping import atomic_moto

DUE = T0 + timedelta(days=3)


@pytest.fixture
def serial_moto(aws: None) -> Iterator[None]:
    with atomic_moto():
        yield


@pytest.fixture
def recruiter(api: GraphQLClient, serial_moto: None) -> Caller:
    api.contract("c1", credits=500, max_daily=500)
    r1 = api.seat("r1", admin=True)
    api.candidate("k1")
    return r1


def send_many(r1: Caller, n: int, delay: int = 3) -> list[str]:
    ids = []
    for i in range(n):
        p = r1.mutate(
            "SendInMail",
            candidateId="k1",
            subject=f"Role {i}",
            body="Hello",
            followUp={"body": "ping", "delayDays": delay},
        )
        assert not p["userErrors"], p
        ids.append(p["thread"]["id"])
    return ids


def ledger_balanced(deps: Deps) -> None:
    """Charges minus refunds equal what the contract's balance says is used."""
    entries = []
    after = None
    while True:
        p = deps.store.list_ledger(LedgerIndex.CONTRACT, "c1", 100, after)
        entries += p.items
        if not p.has_next_page:
            break
        after = p.end_cursor
    net = sum(1 if e.kind is LedgerKind.CHARGE else -1 for e in entries)
    used = deps.store.get_counter(f"credits#c1#{T0:%Y-%m}")
    assert net == used
    assert len({e.entry_id for e in entries}) == len(entries)


def final_states(deps: Deps, ids: list[str]) -> dict[str, MessageStatus]:
    states = {}
    for tid in ids:
        t = deps.store.get_thread(tid)
        assert t is not None and t.follow_up is not None
        states[tid] = t.follow_up.status
    return states


def test_r30_three_sweeps_at_once_deliver_each_follow_up_once(api: GraphQLClient, recruiter: Caller) -> None:
    ids = send_many(recruiter, 12)
    delivered_commits: list[str] = []
    lock = threading.Lock()
    store = api.deps.store
    commit = store.commit

    def counting_commit(changes: Changes) -> None:
        commit(changes)
        for t, _ in changes.threads:
            if t.follow_up is not None and t.follow_up.status is MessageStatus.SENT and t.lease_owner is None:
                with lock:
                    delivered_commits.append(t.thread_id)

    store.commit = counting_commit  # type: ignore[method-assign]
    results: list[dict[str, Any]] = []
    sweeps = [
        threading.Thread(target=lambda i=i: results.append(run_sweep(api.deps, DUE, f"s{i}", workers=4).to_dict()))
        for i in range(3)
    ]
    for s in sweeps:
        s.start()
    for s in sweeps:
        s.join()
    assert sum(r["delivered"] for r in results) == 12
    assert sorted(delivered_commits) == sorted(ids)  # each exactly once
    assert set(final_states(api.deps, ids).values()) == {MessageStatus.SENT}
    ledger_balanced(api.deps)


class Killed(BaseException):
    """The process died: nothing below this point ran (not caught by the sweep)."""


def test_r30_sweep_killed_midway_is_finished_by_a_later_sweep(api: GraphQLClient, recruiter: Caller) -> None:
    ids = send_many(recruiter, 6)
    store = api.deps.store
    commit, claim = store.commit, store.claim_due
    claims = 0
    dead = False

    def dead_commit(changes: Changes) -> None:
        if dead:
            raise Killed
        commit(changes)

    def die_on_third_claim(*args: Any) -> Thread | None:
        """The third claim lands, then the process is gone: nothing more is written."""
        nonlocal claims, dead
        if dead:
            raise Killed
        claimed = claim(*args)
        claims += 1
        if claims == 3:
            dead = True
            raise Killed
        return claimed

    store.commit = dead_commit  # type: ignore[method-assign]
    store.claim_due = die_on_third_claim  # type: ignore[method-assign]
    with pytest.raises(Killed):
        run_sweep(api.deps, DUE, "dying", workers=1)
    store.commit, store.claim_due = commit, claim  # type: ignore[method-assign]
    states = final_states(api.deps, ids)
    assert list(states.values()).count(MessageStatus.SENT) == 2
    assert list(states.values()).count(MessageStatus.SCHEDULED) == 4  # one of them leased by the dead sweep

    soon = run_sweep(api.deps, DUE + timedelta(minutes=5), "soon", workers=2).to_dict()
    assert soon["delivered"] == 3 and soon["skipped"] == 1  # the dead sweep's claim is still leased
    later = run_sweep(api.deps, DUE + timedelta(minutes=15, seconds=1), "later", workers=2).to_dict()
    assert later["delivered"] == 1
    assert set(final_states(api.deps, ids).values()) == {MessageStatus.SENT}
    ledger_balanced(api.deps)


@pytest.mark.parametrize("reply_first", [True, False])
def test_r30_reply_racing_a_delivery_wins_or_loses_cleanly(
    api: GraphQLClient, recruiter: Caller, clock: FakeClock, reply_first: bool
) -> None:
    ids = send_many(recruiter, 8)
    kim = api.as_("k1", "CANDIDATE")
    clock.at = DUE
    start = threading.Barrier(2)

    def replies() -> None:
        start.wait()
        for tid in ids if reply_first else reversed(ids):
            kim.mutate("ReplyToInMail", threadId=tid, body="Yes")

    def sweeps() -> None:
        start.wait()
        run_sweep(api.deps, DUE, "racer", workers=2)

    workers = [threading.Thread(target=replies), threading.Thread(target=sweeps)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for tid in ids:
        t = api.deps.store.get_thread(tid)
        assert t is not None and t.follow_up is not None and t.replied_at is not None
        fu = t.follow_up
        assert fu.status in (MessageStatus.SENT, MessageStatus.DELETED)
        if fu.status is MessageStatus.SENT:  # delivered before the reply: R06, one credit back
            assert fu.sent_at is not None and fu.sent_at <= t.replied_at
            assert t.credits_refunded == 1
        else:  # reply first: never delivered, R05, both back
            assert fu.sent_at is None and t.credits_refunded == 2
    ledger_balanced(api.deps)


def test_r30_sweep_reads_only_the_due_follow_ups(api: GraphQLClient, recruiter: Caller) -> None:
    """Many follow-ups not yet due, a few due: the sweep reads the due ones, not the table."""
    due_ids = send_many(recruiter, 5, delay=3)
    send_many(recruiter, 40, delay=20)
    meter = RequestMeter().attach(api.deps.store)
    try:
        summary = run_sweep(api.deps, DUE, "metered", workers=4).to_dict()
    finally:
        meter.detach()
    assert summary["delivered"] == 5
    assert meter.requests["Scan"] == 0
    assert meter.items_read["Query"] == len(due_ids)  # the due index returned exactly the due ones
    assert meter.requests["Query"] == api.deps.store.due_shards  # one query per shard
    # Per due follow-up: the thread, its contract, seat, candidate and the day's count.
    assert meter.items_read["GetItem"] <= 5 * len(due_ids)
