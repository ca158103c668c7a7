"""Fan-out: when more follow-ups are due than one sweep settles in its time budget, the sweep
leases the excess and hands their ids to a queue; worker invocations settle them with the
same `settle_one` (docs/performance.md, "When to fan out").

The lease is what makes a hand-off safe to repeat or lose. A handed-off thread is leased to
the sweep that handed it off (one conditional update, `Store.claim_due`), so later sweeps
and other sweeps' claims leave it alone while its message waits; the worker takes it under
that lease, so SQS's own retries of the message pass. A message delivered twice is settled
once (the versioned commit: the second worker finds it settled and skips it), and one lost
(a send that failed, a message past the dead-letter queue) leaves the thread due and leased:
when the lease expires, the next sweep finds it again."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from ..domain.model import Thread
from ..domain.ports import WorkQueue
from .deps import Deps
from .sweep import Outcome, Settled, SweepSummary, due_thread_ids, settle_all
from .sweep_cache import SweepCache

log = logging.getLogger(__name__)

SEND_BATCH = 10  # SendMessageBatch's most


@dataclass(frozen=True)
class HandOff:
    """One message: settle this thread, leased to `lease_owner`, at `now` (or later).
    `thread` is the thread as the lease left it, so the worker decides without reading it
    first; if it changed since, the worker's commit fails and it reads it then."""

    thread_id: str
    lease_owner: str
    now: datetime
    thread: Thread | None = None


class RecentHandOffs:
    """Thread ids this process handed off, until their lease expires: a warm sweeper skips
    them without a request (the due index still lists them until a worker settles them; a
    claim would only fail, and a failed conditional write is billed). A cold one tries
    once and finds them leased."""

    def __init__(self) -> None:
        self._until: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def live(self, now: datetime) -> set[str]:
        with self._lock:
            self._until = {tid: until for tid, until in self._until.items() if until > now}
            return set(self._until)

    def add(self, thread_ids: Iterable[str], until: datetime) -> None:
        with self._lock:
            self._until.update(dict.fromkeys(thread_ids, until))


def sweep_with_fan_out(
    deps: Deps,
    queue: WorkQueue,
    now: datetime,
    sweep_id: str,
    keep: int,
    recent: RecentHandOffs | None = None,
    out_of_time: Callable[[], bool] = lambda: False,
    workers: int = 8,
) -> SweepSummary:
    """Settle up to `keep` due follow-ups here and hand off the rest: the hand-offs first,
    so the workers start while this sweep settles its own share. What the queue refuses is
    already leased to this sweep: it settles those too."""
    summary = SweepSummary(sweep_id=sweep_id, now=now)
    recent = recent or RecentHandOffs()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        skip = recent.live(now)
        due_ids = [tid for tid in due_thread_ids(deps, now, pool) if tid not in skip]
        summary.due = len(due_ids)
        own, excess = due_ids[:keep], due_ids[keep:]
        refused: list[str] = []
        if excess:
            handed, refused = hand_off(deps, queue, excess, now, sweep_id, pool)
            recent.add(handed, now + deps.lease)
            summary.handed_off = len(handed)
        settle_all(deps, own + refused, now, sweep_id, pool, summary, out_of_time)
    return summary


def hand_off(
    deps: Deps, queue: WorkQueue, thread_ids: list[str], now: datetime, owner: str, pool: ThreadPoolExecutor
) -> tuple[list[str], list[str]]:
    """Lease each to `owner` and queue the leased ones, SEND_BATCH at a time. Returns
    (handed off, leased but refused by the queue). One not leased (settled meanwhile, or
    another sweep's) is neither."""

    def lease_and_send(chunk: list[str]) -> tuple[list[str], list[str]]:
        claimed = [deps.store.claim_due(tid, owner, now, now + deps.lease) for tid in chunk]
        messages = [HandOff(t.thread_id, owner, now, t) for t in claimed if t is not None]
        leased = [m.thread_id for m in messages]
        if not leased:
            return [], []
        try:
            refused = {leased[i] for i in queue.send(messages)}
        except Exception:  # the queue is down: this sweep settles them itself
            log.exception("sweep %s: the fan-out queue refused %d hand-offs", owner, len(leased))
            return [], leased
        if refused:
            log.warning("sweep %s: the fan-out queue refused %d hand-offs", owner, len(refused))
        return [t for t in leased if t not in refused], [t for t in leased if t in refused]

    chunks = [thread_ids[i : i + SEND_BATCH] for i in range(0, len(thread_ids), SEND_BATCH)]
    handed: list[str] = []
    refused: list[str] = []
    for sent, kept in pool.map(lease_and_send, chunks):
        handed += sent
        refused += kept
    return handed, refused


def hand_off_due(deps: Deps, queue: WorkQueue, now: datetime, owner: str, limit: int | None = None) -> int:
    """Hand off every due follow-up (up to `limit`), settling none: the bench's and the
    tests' way to fill the queue. Returns how many were handed off."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        due_ids = due_thread_ids(deps, now, pool)[:limit]
        handed, _ = hand_off(deps, queue, due_ids, now, owner, pool)
    return len(handed)


def settle_handed_off(
    deps: Deps,
    hand_offs: list[HandOff],
    worker_id: str,
    out_of_time: Callable[[], bool] = lambda: False,
    workers: int = 8,
    cache: SweepCache | None = None,
) -> tuple[SweepSummary, list[Settled]]:
    """A worker's batch: each thread settled once, under the lease it was handed off with,
    concurrently, sharing `cache` (or one of its own). Decisions carry `worker_id`, so a
    message delivered twice is reported once: in another batch, the second finds the thread
    settled by another worker and skips it; in the same batch, it is settled once and the
    copy reported skipped."""
    now = min((h.now for h in hand_offs), default=deps.clock.now())
    summary = SweepSummary(sweep_id=worker_id, now=now, due=len(hand_offs))
    cache = cache or SweepCache(deps.store)
    first: dict[str, int] = {}
    groups: dict[tuple[str, datetime], list[int]] = {}
    for i, h in enumerate(hand_offs):
        if h.thread_id not in first:
            first[h.thread_id] = i
            groups.setdefault((h.lease_owner, h.now), []).append(i)
    results = [Settled(Outcome.SKIPPED)] * len(hand_offs)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for (owner, at), positions in groups.items():
            ids = [hand_offs[i].thread_id for i in positions]
            known = {h.thread_id: h.thread for i in positions if (h := hand_offs[i]).thread is not None}
            settled = settle_all(deps, ids, at, worker_id, pool, summary, out_of_time, owner, cache, known)
            for i, one in zip(positions, settled, strict=True):
                results[i] = one
    for i, h in enumerate(hand_offs):
        if first[h.thread_id] != i:  # a copy of a message already in this batch
            summary.add(Settled(Outcome.SKIPPED))
    return summary, results


def retry_later(settled: Settled) -> bool:
    """The message should come back (SQS redelivers it after its visibility timeout): the
    follow-up was not settled and nothing says another will settle it."""
    return settled.outcome in (Outcome.ERROR, Outcome.OUT_OF_TIME)
