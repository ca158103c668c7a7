"""The sweeper: decide every due follow-up exactly once (R20-R30), moving those that meet
the daily maximum to the next day where the contract opted in (R74)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from ..domain import transitions
from ..domain.delivery import decide_follow_up, moved_past_daily_limit, overturned_at_delivery
from ..domain.errors import Conflict, LimitExceeded, Refusal, TransientDeliveryError, TransientStoreError
from ..domain.model import Candidate, Changes, Contract, Decision, MessageStatus, RuleId, Thread
from .deps import Deps
from .retries import deliver_with_retries, retry_on_conflict
from .sweep_cache import Facts, SweepCache

log = logging.getLogger(__name__)

DUE_PER_SHARD_PER_SWEEP = 5_000


class Outcome(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DELETED = "deleted"
    RESCHEDULED = "rescheduled"  # R74: moved to a later day for the daily maximum, still paid for
    SKIPPED = "skipped"  # no longer due or scheduled, or another live sweep holds it
    ERROR = "error"  # left for a later sweep (lease expiry)
    OUT_OF_TIME = "out_of_time"  # not claimed: the invocation's time budget ran out


@dataclass(frozen=True)
class Settled:
    outcome: Outcome
    decision: Decision | None = None
    refunded: int = 0
    lag_seconds: float = 0.0


@dataclass
class SweepSummary:
    sweep_id: str
    now: datetime
    due: int = 0
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    failed_by_code: dict[str, int] = field(default_factory=dict)
    refunded_credits: int = 0
    lag_seconds: float = 0.0
    # Left to the fan-out workers (services/fan_out.py): leased and queued, not settled here.
    handed_off: int = 0

    def add(self, settled: Settled) -> None:
        self.counts[settled.outcome] += 1
        self.refunded_credits += settled.refunded
        self.lag_seconds = max(self.lag_seconds, settled.lag_seconds)
        decision = settled.decision
        if settled.outcome is Outcome.FAILED and decision is not None and decision.code is not None:
            code = decision.code.value
            self.failed_by_code[code] = self.failed_by_code.get(code, 0) + 1

    @property
    def acted(self) -> bool:
        """Anything was due or decided (what the local stack logs; an idle sweep is quiet)."""
        return self.due > 0 or self.handed_off > 0 or any(self.counts.values())

    def to_dict(self) -> dict[str, object]:
        return {
            **{outcome.value: count for outcome, count in self.counts.items()},
            "due": self.due,
            "handed_off": self.handed_off,
            "failed_by_code": dict(sorted(self.failed_by_code.items())),
            "refunded_credits": self.refunded_credits,
            "lag_seconds": round(self.lag_seconds, 3),
            "sweep_id": self.sweep_id,
            "now": self.now.isoformat(),
        }


def run_sweep(
    deps: Deps,
    now: datetime,
    sweep_id: str,
    out_of_time: Callable[[], bool] = lambda: False,
    workers: int = 8,
) -> SweepSummary:
    """Query every shard of the due index concurrently, then settle each due follow-up
    concurrently. Cost grows with the due follow-ups, not with the table."""
    summary = SweepSummary(sweep_id=sweep_id, now=now)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        due_ids = due_thread_ids(deps, now, pool)
        summary.due = len(due_ids)
        settle_all(deps, due_ids, now, sweep_id, pool, summary, out_of_time)
    return summary


def due_thread_ids(deps: Deps, now: datetime, pool: ThreadPoolExecutor) -> list[str]:
    """Every shard of the due index, queried concurrently; each id once, oldest first within
    its shard."""
    shards = pool.map(
        lambda shard: deps.store.due_thread_ids(shard, now, DUE_PER_SHARD_PER_SWEEP),
        range(deps.store.due_shards),
    )
    return list(dict.fromkeys(tid for ids in shards for tid in ids))


def settle_all(
    deps: Deps,
    thread_ids: list[str],
    now: datetime,
    sweep_id: str,
    pool: ThreadPoolExecutor,
    summary: SweepSummary,
    out_of_time: Callable[[], bool] = lambda: False,
    lease_owner: str | None = None,
    cache: SweepCache | None = None,
    known: dict[str, Thread] | None = None,
) -> list[Settled]:
    """Settle each one on `pool`, sharing `cache` (a new one by default); added to
    `summary`, and returned in the order given. `known`: threads as their hand-off left
    them, by id (services/fan_out.py)."""
    cache = cache or SweepCache(deps.store)
    known = known or {}

    def settle(thread_id: str) -> Settled:
        if out_of_time():
            return Settled(Outcome.OUT_OF_TIME)
        return settle_one(deps, thread_id, now, sweep_id, cache, lease_owner, known.get(thread_id))

    results = list(pool.map(settle, thread_ids))
    for settled in results:
        summary.add(settled)
    return results


def settle_one(
    deps: Deps,
    thread_id: str,
    now: datetime,
    sweep_id: str,
    cache: SweepCache | None = None,
    lease_owner: str | None = None,
    handed: Thread | None = None,
) -> Settled:
    """Claim, decide and settle one follow-up; a lost race reloads and decides again.
    `lease_owner`: the sweep that leased it when it handed it off (services/fan_out.py), so
    it is taken under that lease instead of claimed again; `handed`: the thread as that
    lease left it, decided on without a read (a commit that finds it changed reads it)."""
    cache = cache or SweepCache(deps.store, shared=False)
    first = [handed] if handed is not None else []
    try:
        return _settle(deps, thread_id, now, sweep_id, cache, lease_owner, first)
    except Refusal:  # CONFLICT: it lost every race; its lease lets a later sweep finish it
        return Settled(Outcome.ERROR)
    except TransientStoreError:
        log.warning("sweep %s: store unavailable for thread %s; left for a later sweep", sweep_id, thread_id)
        return Settled(Outcome.ERROR)
    except Exception:  # one bad item must not stop the sweep; its lease lets a later one retry
        log.exception("sweep %s: unexpected error on thread %s", sweep_id, thread_id)
        return Settled(Outcome.ERROR)


@retry_on_conflict
def _settle(
    deps: Deps,
    thread_id: str,
    now: datetime,
    sweep_id: str,
    cache: SweepCache,
    lease_owner: str | None,
    handed: list[Thread],
) -> Settled:
    # A late or retried invocation acts at the time it commits, so its refunds and daily
    # counts land in the month and day they happen (R08, R40), not its scheduled time's.
    now = max(now, deps.clock.now())
    taken = _take(deps, thread_id, now, sweep_id, lease_owner, handed.pop() if handed else None)
    if isinstance(taken, Settled):
        return taken
    claimed = taken
    fu = claimed.scheduled_follow_up
    assert fu is not None and fu.scheduled_for is not None
    lag = (now - fu.scheduled_for).total_seconds()

    facts = cache.facts(claimed, now)
    decision = _decide(claimed, facts, now, sweep_id)
    if decision.outcome is not MessageStatus.SENT and facts.cached:
        # Only a delivery is guarded by what it was decided on (its commit expects their
        # versions); any other outcome is decided on fresh reads (services/sweep_cache.py).
        facts = cache.fresh(claimed, now)
        decision = _decide(claimed, facts, now, sweep_id)
    contract, seat, candidate = facts.contract, facts.seat, facts.candidate

    if decision.outcome is MessageStatus.SENT:
        changes = Changes()
        transitions.follow_up_settled(
            changes, claimed, decision, now, contract=contract, seat=seat, candidate=candidate
        )
        try:
            deliver_with_retries(deps, changes)
            cache.delivered(claimed, now)
            return Settled(Outcome.DELIVERED, decision, 0, lag)
        except Conflict as exc:  # the thread, or something it was decided on, changed: decide again
            if not _thread_moved(exc):
                cache.forget(claimed, now)
            raise
        except LimitExceeded:  # the checks passed at commit: the contract, seat and candidate hold
            cache.forget(claimed, now)
            decision = overturned_at_delivery(decision, RuleId.R25, "the daily count reached the maximum at delivery")
        except TransientDeliveryError:
            if facts.cached:  # what it was decided on may have changed: the failure stands on fresh reads
                facts = cache.fresh(claimed, now)
                contract, candidate = facts.contract, facts.candidate
                decision = _decide(claimed, facts, now, sweep_id)
            if decision.outcome is MessageStatus.SENT:
                decision = overturned_at_delivery(
                    decision, RuleId.R26, f"{deps.delivery_attempts} delivery attempts failed"
                )
    decision = moved_past_daily_limit(decision, claimed, contract, candidate, now)
    if decision.moved_to is not None:
        return _move(deps, claimed, decision, now, lag, contract=contract, candidate=candidate)
    return _settle_undelivered(deps, claimed, decision, now, lag)


def _take(
    deps: Deps, thread_id: str, now: datetime, sweep_id: str, lease_owner: str | None, handed: Thread | None
) -> Thread | Settled:
    """The thread, leased for this settlement; or what to report when there is nothing to do.
    `handed`: the thread as its hand-off left it (only on a first attempt)."""
    if lease_owner is None:
        claimed = deps.store.claim_due(thread_id, sweep_id, now, now + deps.lease)
        if claimed is not None:
            return claimed
        # Not due or scheduled (R30: never before it is due; the index lags), leased by
        # another live sweep, or settled by this one already (its answer lost).
        thread = deps.store.get_thread(thread_id)
        ours = _settled_by(thread, sweep_id) if thread is not None else None
        return ours or Settled(Outcome.SKIPPED)
    # Handed off: the sweep that handed it leased it to `lease_owner` (services/fan_out.py).
    thread = handed if handed is not None else deps.store.get_thread(thread_id)
    if thread is None:
        return Settled(Outcome.SKIPPED)
    if (ours := _settled_by(thread, sweep_id)) is not None:
        return ours
    fu = thread.scheduled_follow_up
    if fu is None or fu.scheduled_for is None or fu.scheduled_for > now:
        return Settled(Outcome.SKIPPED)
    leased_by_other = (
        thread.lease_owner not in (None, lease_owner)
        and thread.lease_expires_at is not None
        and thread.lease_expires_at > now
    )
    return Settled(Outcome.SKIPPED) if leased_by_other else thread


def _thread_moved(conflict: Conflict) -> bool:
    """The commit failed on the thread's own version (a reply, another sweep or worker), not
    on what the cache holds: those entries stay."""
    return bool(conflict.args) and conflict.args[0] in ("thread", "thread_id")


def _decide(thread: Thread, facts: Facts, now: datetime, sweep_id: str) -> Decision:
    return decide_follow_up(thread, facts.contract, facts.seat, facts.candidate, facts.sent_today, now, sweep_id)


_OUTCOME_OF = {
    MessageStatus.SENT: Outcome.DELIVERED,
    MessageStatus.FAILED: Outcome.FAILED,
    MessageStatus.CANCELLED: Outcome.CANCELLED,
    MessageStatus.DELETED: Outcome.DELETED,
}


def _settled_by(thread: Thread, sweep_id: str) -> Settled | None:
    """This sweep's own commit landed but its answer was lost (a timeout after the write):
    report what it did rather than 'skipped', so the metrics count it."""
    fu = thread.follow_up
    if fu is None or fu.decision is None or fu.decision.sweep_id != sweep_id:
        return None
    if fu.status is MessageStatus.SCHEDULED:  # R74: moved by this sweep, or never decided by it
        moved = fu.decision.moved_to is not None and fu.decision.moved_to == fu.scheduled_for
        return Settled(Outcome.RESCHEDULED, fu.decision) if moved else None
    refunded = 1 if fu.credit_refunded and fu.status is not MessageStatus.SENT else 0
    return Settled(_OUTCOME_OF[fu.status], fu.decision, refunded)


def _move(
    deps: Deps,
    claimed: Thread,
    decision: Decision,
    now: datetime,
    lag: float,
    *,
    contract: Contract | None,
    candidate: Candidate | None,
) -> Settled:
    """R74: one conditional write moves it; its new due time is on a later UTC day, so this
    sweep, and any other running for today, finds it not yet due (R30)."""
    assert contract is not None and candidate is not None  # R21 and R24 held otherwise
    changes = Changes()
    transitions.follow_up_moved(changes, claimed, decision, contract, candidate)
    deps.store.commit(changes)
    return Settled(Outcome.RESCHEDULED, decision, 0, lag)


def _settle_undelivered(deps: Deps, claimed: Thread, decision: Decision, now: datetime, lag: float) -> Settled:
    changes = Changes()
    settled = transitions.follow_up_settled(changes, claimed, decision, now)
    deps.store.commit(changes)
    outcome = _OUTCOME_OF[decision.outcome]
    refunded = 1 if settled.follow_up is not None and settled.follow_up.credit_refunded else 0
    return Settled(outcome, decision, refunded, lag)
