"""The sweep service on the in-memory store: leases, crashes and races (R04, R30)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from fakes import FlakyDelivery
from inmail.domain.model import Changes, FailureCode, MessageStatus, Thread
from inmail.services import reply
from world import World, candidate


class Killed(Exception):
    """The process died here."""


@pytest.fixture
def world() -> World:
    w = World()
    w.setup()
    return w


def test_r30_not_before_due_and_once(world: World) -> None:
    t = world.send(follow_up_days=3)
    assert world.sweep(timedelta(days=3) - timedelta(seconds=1)).due == 0
    first = world.sweep(timedelta(days=3))
    assert first.to_dict()["delivered"] == 1
    again = world.sweep(timedelta(days=3, minutes=1))
    assert again.due == 0 and again.to_dict()["delivered"] == 0
    fu = world.thread(t.thread_id).follow_up
    assert fu is not None and fu.status is MessageStatus.SENT and fu.sent_at == world.clock.now() + timedelta(days=3)


def test_r30_crashed_sweep_is_finished_after_lease_expiry(world: World) -> None:
    t = world.send(follow_up_days=3)
    due = world.clock.now() + timedelta(days=3)
    claim = world.store.claim_due

    def die_after_claim(*args: Any) -> Thread | None:
        world.store.claim_due = claim  # type: ignore[method-assign]
        claim(*args)  # the claim lands...
        raise Killed  # ...and the process dies before deciding

    world.store.claim_due = die_after_claim  # type: ignore[method-assign]
    summary = world.sweep(timedelta(days=3))
    assert summary.to_dict()["error"] == 1
    leased = world.thread(t.thread_id)
    assert leased.scheduled_follow_up is not None and leased.lease_owner == "sweep-1"

    # A sweep while the dead one's lease is live leaves it alone.
    from inmail.services.sweep import run_sweep

    live = run_sweep(world.deps, due + timedelta(minutes=14), "sweep-live", workers=1)
    assert live.to_dict()["skipped"] == 1 and live.to_dict()["delivered"] == 0
    later = run_sweep(world.deps, due + timedelta(minutes=15, seconds=1), "sweep-later", workers=1)
    assert later.to_dict()["delivered"] == 1
    assert world.thread(t.thread_id).follow_up.status is MessageStatus.SENT  # type: ignore[union-attr]


def test_r30_three_sweeps_at_once_deliver_each_once(world: World) -> None:
    threads = [world.send(follow_up_days=3) for _ in range(30)]
    at = world.clock.now() + timedelta(days=3)
    from inmail.services.sweep import run_sweep

    delivered_commits: list[str] = []
    lock = threading.Lock()

    def record(changes: Changes) -> None:
        for th, _ in changes.threads:
            if th.follow_up is not None and th.follow_up.status is MessageStatus.SENT and th.lease_owner is None:
                with lock:
                    delivered_commits.append(th.thread_id)

    world.store.before_commit = record
    results = []
    workers = [
        threading.Thread(target=lambda i=i: results.append(run_sweep(world.deps, at, f"s{i}", workers=4)))
        for i in range(3)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sum(r.to_dict()["delivered"] for r in results) == 30  # type: ignore[misc]
    for t in threads:
        assert world.thread(t.thread_id).follow_up.status is MessageStatus.SENT  # type: ignore[union-attr]
    # A commit attempt may lose a race, but each follow-up is committed SENT exactly once.
    committed = {tid for tid in delivered_commits}
    assert committed == {t.thread_id for t in threads}
    assert world.ledger_net() == world.store.balance_used("c1") == 60


def test_r30_reply_recorded_between_claim_and_delivery_wins(world: World) -> None:
    """The claim lands, then the candidate's reply, then the sweep's delivery must lose."""
    t = world.send(follow_up_days=3)
    world.clock.advance(days=3)
    claim = world.store.claim_due
    replied = False

    def claim_then_reply(*args: Any) -> Thread | None:
        nonlocal replied
        claimed = claim(*args)
        if not replied and claimed is not None:
            replied = True
            reply.reply_to_inmail(world.deps, candidate("k1"), t.thread_id, "Yes please")
        return claimed

    world.store.claim_due = claim_then_reply  # type: ignore[method-assign]
    summary = world.sweep()
    assert replied and summary.to_dict()["delivered"] == 0
    final = world.thread(t.thread_id)
    assert final.follow_up is not None and final.follow_up.status is MessageStatus.DELETED
    assert final.follow_up.sent_at is None
    assert final.credits_refunded == 2  # R05: both credits
    assert world.ledger_net() == world.store.balance_used("c1") == 0


def test_r06_delivery_that_lands_first_then_reply_refunds_one(world: World) -> None:
    t = world.send(follow_up_days=3)
    world.clock.advance(days=3)
    assert world.sweep().to_dict()["delivered"] == 1
    reply.reply_to_inmail(world.deps, candidate("k1"), t.thread_id, "Yes please")
    final = world.thread(t.thread_id)
    assert final.follow_up is not None and final.follow_up.status is MessageStatus.SENT
    assert final.credits_charged == 2 and final.credits_refunded == 1
    assert world.ledger_net() == world.store.balance_used("c1") == 1


def test_r26_transient_failures_retried_then_technical_issue(world: World) -> None:
    t = world.send(follow_up_days=3)
    world.deps.delivery = FlakyDelivery(world.deps.delivery, failures=3)
    summary = world.sweep(timedelta(days=3))
    assert summary.to_dict()["failed"] == 1
    fu = world.thread(t.thread_id).follow_up
    assert fu is not None and fu.status is MessageStatus.FAILED
    assert fu.failure is not None and fu.failure.code is FailureCode.TECHNICAL_ISSUE
    assert fu.credit_refunded
    assert world.deps.delivery.attempts == 3  # type: ignore[attr-defined]


def test_r26_a_transient_failure_that_clears_delivers(world: World) -> None:
    t = world.send(follow_up_days=3)
    world.deps.delivery = FlakyDelivery(world.deps.delivery, failures=2)
    assert world.sweep(timedelta(days=3)).to_dict()["delivered"] == 1
    assert world.thread(t.thread_id).follow_up.status is MessageStatus.SENT  # type: ignore[union-attr]


def test_r30_a_delivery_whose_answer_was_lost_is_reported_delivered_once(world: World) -> None:
    """The commit lands, then the connection drops: the retry finds this sweep's own
    delivery and counts it, instead of 'skipped' (and never delivers again)."""
    from inmail.domain.errors import TransientStoreError

    t = world.send(follow_up_days=3)
    original_commit = world.store.commit
    lost = False

    def commit_then_lose_the_answer(changes: Changes) -> None:
        nonlocal lost
        original_commit(changes)
        delivering = any(
            th.follow_up is not None and th.follow_up.status is MessageStatus.SENT for th, _ in changes.threads
        )
        if delivering and not lost:
            lost = True
            raise TransientStoreError("read timeout")

    world.store.commit = commit_then_lose_the_answer  # type: ignore[method-assign]
    summary = world.sweep(timedelta(days=3)).to_dict()
    assert lost and summary["delivered"] == 1 and summary["skipped"] == 0
    assert world.thread(t.thread_id).follow_up.status is MessageStatus.SENT  # type: ignore[union-attr]
    # One send counted on the first message's day, one on the delivery's: delivered once.
    assert sum(v for k, v in world.store.counters.items() if k.startswith("sends#")) == 2
