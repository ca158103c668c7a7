"""The sweeper: decide every due follow-up exactly once (R20-R30), moving those that meet
the daily maximum to the next day where the contract opted in (R74)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from ..domain import rules, transitions
from ..domain.delivery import decide_follow_up, moved_past_daily_limit, overturned_at_delivery
from ..domain.errors import LimitExceeded, Refusal, TransientDeliveryError, TransientStoreError
from ..domain.model import Candidate, Changes, Contract, Decision, MessageStatus, RuleId, Thread
from .deps import Deps
from .retries import deliver_with_retries, retry_on_conflict

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
        return self.due > 0 or any(self.counts.values())

    def to_dict(self) -> dict[str, object]:
        return {
            **{outcome.value: count for outcome, count in self.counts.items()},
            "due": self.due,
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
        shards = pool.map(
            lambda shard: deps.store.due_thread_ids(shard, now, DUE_PER_SHARD_PER_SWEEP),
            range(deps.store.due_shards),
        )
        due_ids = list(dict.fromkeys(tid for ids in shards for tid in ids))
        summary.due = len(due_ids)

        def settle(thread_id: str) -> Settled:
            if out_of_time():
                return Settled(Outcome.OUT_OF_TIME)
            return settle_one(deps, thread_id, now, sweep_id)

        for settled in pool.map(settle, due_ids):
            summary.add(settled)
    return summary


def settle_one(deps: Deps, thread_id: str, now: datetime, sweep_id: str) -> Settled:
    """Claim, decide and settle one follow-up; a lost race reloads and decides again."""
    try:
        return _settle(deps, thread_id, now, sweep_id)
    except Refusal:  # CONFLICT: it lost every race; its lease lets a later sweep finish it
        return Settled(Outcome.ERROR)
    except TransientStoreError:
        log.warning("sweep %s: store unavailable for thread %s; left for a later sweep", sweep_id, thread_id)
        return Settled(Outcome.ERROR)
    except Exception:  # one bad item must not stop the sweep; its lease lets a later one retry
        log.exception("sweep %s: unexpected error on thread %s", sweep_id, thread_id)
        return Settled(Outcome.ERROR)


@retry_on_conflict
def _settle(deps: Deps, thread_id: str, now: datetime, sweep_id: str) -> Settled:
    # A late or retried invocation acts at the time it commits, so its refunds and daily
    # counts land in the month and day they happen (R08, R40), not its scheduled time's.
    now = max(now, deps.clock.now())
    thread = deps.store.get_thread(thread_id)
    if thread is not None and (ours := _settled_by(thread, sweep_id)) is not None:
        return ours
    fu = thread.scheduled_follow_up if thread else None
    if thread is None or fu is None or fu.scheduled_for is None or fu.scheduled_for > now:
        return Settled(Outcome.SKIPPED)  # R30: never before it is due; the index lags
    leased_by_other = (
        thread.lease_owner not in (None, sweep_id)
        and thread.lease_expires_at is not None
        and thread.lease_expires_at > now
    )
    if leased_by_other:
        return Settled(Outcome.SKIPPED)
    lag = (now - fu.scheduled_for).total_seconds()
    claim = Changes()
    claimed = transitions.claimed(claim, thread, sweep_id, now, deps.lease)
    deps.store.commit(claim)

    contract = deps.store.get_contract(claimed.contract_id)
    seat = deps.store.get_seat(claimed.recruiter_id)
    candidate = deps.store.get_candidate(claimed.candidate_id)
    sent_today = deps.store.get_counter(rules.sends_key(claimed.recruiter_id, now))
    decision = decide_follow_up(claimed, contract, seat, candidate, sent_today, now, sweep_id)

    if decision.outcome is MessageStatus.SENT:
        changes = Changes()
        transitions.follow_up_settled(
            changes, claimed, decision, now, contract=contract, seat=seat, candidate=candidate
        )
        try:
            deliver_with_retries(deps, changes)
            return Settled(Outcome.DELIVERED, decision, 0, lag)
        except LimitExceeded:
            decision = overturned_at_delivery(decision, RuleId.R25, "the daily count reached the maximum at delivery")
        except TransientDeliveryError:
            decision = overturned_at_delivery(
                decision, RuleId.R26, f"{deps.delivery_attempts} delivery attempts failed"
            )
    decision = moved_past_daily_limit(decision, claimed, contract, candidate, now)
    if decision.moved_to is not None:
        return _move(deps, claimed, decision, now, lag, contract=contract, candidate=candidate)
    return _settle_undelivered(deps, claimed, decision, now, lag)


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
