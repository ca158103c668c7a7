"""The fan-out path on moto (DynamoDB and SQS): two sweeps running at once hand thousands of
due follow-ups to the queue, several workers settle them concurrently, SQS delivers some
messages twice and some again after a worker died holding them; each follow-up is settled
exactly once, the ledger balances, nothing is left due or queued (R04, R25, R30).

What is counted is what a user or an operator would check: each thread's final state
and its ledger entries, the commits that settled a thread (one each), the daily counts, the
due index and the queue. No timing: the workers stop when the queue is empty."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest

from gql import GraphQLClient
from inmail.domain import rules, transitions
from inmail.domain.model import Candidate, Changes, LedgerKind, MessageStatus, Thread
from inmail.local import moto_internals
from inmail.local.fan_out import LocalWorker
from inmail.services.deps import Deps
from inmail.services.fan_out import HandOff, RecentHandOffs, sweep_with_fan_out
from inmail.services.sweep import Outcome, SweepSummary
from inmail.store.dynamo import DynamoStore, _candidate_model, _entry_from, _entry_model, _thread_from
from inmail.store.models import CandidateModel, CounterModel, LedgerModel, ThreadModel
from inmail.store.work_queue import SqsWorkQueue
from support import T0, fast_moto_sqs_clock
from sweeping import atomic_moto

# About 50 s of CPU on moto (DynamoDB and SQS answer each request in 2-5 ms of Python here).
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")]

DUE = T0 + timedelta(days=3)
NOW = DUE + timedelta(minutes=1)
N = 2_000
RECRUITERS = 20  # 100 follow-ups each, over 2 contracts
CANDIDATES = 100  # 20 follow-ups each; every 10th deleted (R24)
TIGHT = "r7"  # a daily maximum of 40 for its 100 follow-ups: 60 cancelled (R25)
TIGHT_DAILY = 40
KEEP = 150  # each sweep settles this many itself and hands the rest off
WORKERS = 4


@pytest.fixture
def queue(api: GraphQLClient, settings: Any) -> Iterator[SqsWorkQueue]:
    from inmail.store.tables import ensure_work_queue

    # moto made to cost what DynamoDB and SQS would: a transaction what it touches, a
    # receive without reading the clock twice per message queued (inmail.local.moto_internals,
    # tests/support.py).
    ours = not moto_internals.installed()
    refused = moto_internals.install()
    assert refused is None, refused
    undo = [fast_moto_sqs_clock(), *([moto_internals.uninstall] if ours else [])]
    with atomic_moto():
        url = ensure_work_queue(settings, "fan-out-test")
        store = api.deps.store
        assert isinstance(store, DynamoStore)
        yield SqsWorkQueue.from_settings(replace(settings, fan_out_queue_url=url), store.session)
    for done in undo:
        done()


def seed(api: GraphQLClient) -> list[Thread]:
    """Contracts, seats and candidates through the API; one thread sent through it is the
    template of N more, written with their charges (ledger entries and counters) as sending
    them would have: the ledger balances before the sweep. Returns every due thread (the
    template's follow-up is due too)."""
    for c in ("c0", "c1"):
        api.contract(c, credits=10 * N, max_daily=500)
    for i in range(RECRUITERS):
        api.seat(f"r{i}", f"c{i % 2}", daily=TIGHT_DAILY if f"r{i}" == TIGHT else 500)
    api.candidate("k0")
    with CandidateModel.batch_write() as candidates:  # as upsertCandidate writes them
        for k in range(1, CANDIDATES):
            candidates.save(_candidate_model(Candidate(f"k{k}", f"Candidate k{k}", version=1)))
    sent = api.as_("r0", "RECRUITER", contract="c0").mutate(
        "SendInMail", candidateId="k0", subject="A role", body="Hello " * 60, followUp={"body": "ping", "delayDays": 3}
    )
    assert not sent["userErrors"], sent
    template = api.deps.store.get_thread(sent["thread"]["id"])
    assert template is not None and template.follow_up is not None
    store = api.deps.store
    assert isinstance(store, DynamoStore)
    threads = [template]
    credits: Counter[str] = Counter()
    sends: Counter[str] = Counter()
    with ThreadModel.batch_write() as thread_batch, LedgerModel.batch_write() as ledger_batch:
        for i in range(N):
            tid = f"fan-{i:05d}"
            rid = f"r{i % RECRUITERS}"
            thread = replace(
                template,
                thread_id=tid,
                recruiter_id=rid,
                contract_id=f"c{(i % RECRUITERS) % 2}",
                candidate_id=f"k{i % CANDIDATES}",
                initial=replace(template.initial, message_id=transitions.initial_message_id(tid)),
                follow_up=replace(template.follow_up, message_id=transitions.follow_up_message_id(tid)),
            )
            thread_batch.save(store._thread_model(thread))
            for message, reason in ((thread.initial, "InMail sent"), (thread.follow_up, "follow-up scheduled")):
                assert message is not None
                entry = transitions.ledger_entry(thread, message, LedgerKind.CHARGE, template.created_at, reason)
                ledger_batch.save(_entry_model(entry))
                credits[rules.credits_key(thread.contract_id, template.created_at)] += 1
            sends[rules.sends_key(rid, template.created_at)] += 1
            threads.append(thread)
    for key, count in (credits + sends).items():
        CounterModel(key).update(actions=[CounterModel.used.add(count)])
    for k in DELETED:
        api.candidate(k, deleted=True)
    return threads


DELETED = [f"k{k}" for k in range(0, CANDIDATES, 10)]


class DuplicatingQueue:
    """SQS delivers at least once: every fifth batch of hand-offs is queued twice."""

    def __init__(self, queue: SqsWorkQueue):
        self.queue = queue
        self.batches = 0
        self.duplicated = 0
        self._lock = threading.Lock()

    def send(self, hand_offs: list[HandOff]) -> list[int]:
        with self._lock:
            self.batches += 1
            twice = self.batches % 5 == 0
            self.duplicated += len(hand_offs) if twice else 0
        refused = self.queue.send(hand_offs)
        if twice:
            assert self.queue.send(hand_offs) == []
        return refused


class WorkerWhoseTimeoutLapses(LocalWorker):
    """Its batches stay visible while it settles them (a visibility timeout that lapsed
    mid-batch, or a worker that died before answering): another worker gets them too. It
    never deletes them."""

    def run_once(self, most: int = 10) -> int:
        from inmail.handlers.fan_out_batch import settle_batch

        records = self.queue.receive(most, visibility_seconds=0)
        if records:
            _, summary = settle_batch(self.deps, {"Records": records}, f"lapsing-{uuid.uuid4()}", workers=2)
            self.outcomes.update({o.value: n for o, n in summary.counts.items()})
        return len(records)


@dataclass
class Run:
    """What the sweeps and workers did, as they report it."""

    summaries: list[SweepSummary]
    workers: list[LocalWorker]
    duplicated: int
    settled_commits: Counter[str]  # commits that took a thread out of SCHEDULED, by thread


def run_fan_out(deps: Deps, queue: SqsWorkQueue) -> Run:
    """Two sweeps at once, as two invocations would (each its own process: its own memory of
    what it handed off); four workers polling meanwhile, as the event source would, one of
    them letting its batches' visibility lapse; every fifth batch of hand-offs queued twice.
    Until the queue is empty."""
    store = deps.store
    run = Run([], [LocalWorker(deps, queue, workers=2) for _ in range(WORKERS - 1)], 0, Counter())
    run.workers.append(WorkerWhoseTimeoutLapses(deps, queue, workers=2))
    duplicating = DuplicatingQueue(queue)
    lock = threading.Lock()
    commit = store.commit

    def recording_commit(changes: Changes) -> None:
        commit(changes)
        with lock:
            for t, _ in changes.threads:
                if t.follow_up is not None and t.follow_up.status is not MessageStatus.SCHEDULED:
                    run.settled_commits[t.thread_id] += 1

    sweeps_done = threading.Event()

    def sweep(i: int) -> None:
        summary = sweep_with_fan_out(deps, duplicating, NOW, f"sweep-{i}", KEEP, RecentHandOffs(), workers=2)
        with lock:
            run.summaries.append(summary)

    def poll(worker: LocalWorker) -> None:
        while True:
            if worker.run_once(10):
                continue
            if sweeps_done.is_set() and not worker.run_once(10):
                return  # the sweeps are done and the queue is empty
            sweeps_done.wait(0.05)  # empty for now: until a sweep hands off more

    store.commit = recording_commit  # type: ignore[method-assign]
    try:
        sweepers = [threading.Thread(target=sweep, args=(i,)) for i in range(2)]
        pollers = [threading.Thread(target=poll, args=(w,)) for w in run.workers]
        _start(*sweepers, *pollers)
        _join(*sweepers)
        sweeps_done.set()
        _join(*pollers)
        while run.workers[0].run_once(10):  # what the lapsing worker left visible
            pass
    finally:
        store.commit = commit  # type: ignore[method-assign]
    run.duplicated = duplicating.duplicated
    return run


def _start(*threads: threading.Thread) -> None:
    for t in threads:
        t.start()


def _join(*threads: threading.Thread) -> None:
    for t in threads:
        t.join()


def expected_states(threads: list[Thread]) -> tuple[dict[str, MessageStatus], int]:
    """What each follow-up must end as: FAILED for a deleted profile (R24), SENT otherwise,
    but for the tight recruiter's (R25: how many depends on the order; returned instead)."""
    expected = {}
    tight = 0
    for t in threads:
        if t.candidate_id in DELETED:
            expected[t.thread_id] = MessageStatus.FAILED
        elif t.recruiter_id == TIGHT:
            tight += 1
        else:
            expected[t.thread_id] = MessageStatus.SENT
    return expected, tight


def test_r30_thousands_due_settled_once_by_concurrent_workers_and_duplicated_sweeps(
    api: GraphQLClient, queue: SqsWorkQueue
) -> None:
    threads = seed(api)
    ids = [t.thread_id for t in threads]
    store = api.deps.store
    run = run_fan_out(api.deps, queue)

    # The path was taken: both sweeps ran, most follow-ups went through the queue, some
    # twice, and the lapsing worker had batches.
    assert len(run.summaries) == 2
    assert sum(s.handed_off for s in run.summaries) >= N - 2 * KEEP, [s.to_dict() for s in run.summaries]
    assert run.duplicated > 0 and sum(run.workers[-1].outcomes.values()) > 0

    # Each follow-up settled by exactly one commit, in the state its facts call for.
    assert run.settled_commits == dict.fromkeys(ids, 1)
    stored = {t.thread_id: t for t in map(_thread_from, ThreadModel.scan())}
    final = {tid: _status(stored[tid]) for tid in ids}
    expected, tight = expected_states(threads)
    assert {tid: final[tid] for tid in expected} == expected
    sent = min(tight, TIGHT_DAILY)
    tight_states = Counter(s for tid, s in final.items() if tid not in expected)
    assert tight_states == +Counter({MessageStatus.SENT: sent, MessageStatus.CANCELLED: tight - sent})

    # Reported once: every settlement counted by the sweep or worker whose commit it was.
    delivered = sum(1 for s in final.values() if s is MessageStatus.SENT)
    reported = sum(s.counts[Outcome.DELIVERED] for s in run.summaries)
    assert reported + sum(w.outcomes["delivered"] for w in run.workers) == delivered

    # Nothing left: not due, not queued; the ledger balances and the daily counts are the
    # deliveries (R04, R40).
    later = NOW + timedelta(days=30)
    assert all(store.due_thread_ids(shard, later, 10) == [] for shard in range(store.due_shards))
    assert queue.receive_all() == []
    assert_balanced(list(stored.values()))
    assert store.get_counter(rules.sends_key(TIGHT, NOW)) == sent


def assert_balanced(threads: list[Thread]) -> None:
    """R04 over the whole tables: each message's charges and refunds are its ledger entries,
    once each; each month's credit counter is the ledger's net; each day's send counter is
    the messages delivered that day."""
    ledger = [_entry_from(m) for m in LedgerModel.scan()]
    counters = {m.counter_key: int(m.used) for m in CounterModel.scan()}
    assert len({e.entry_id for e in ledger}) == len(ledger)
    entries: Counter[tuple[str, LedgerKind]] = Counter((e.message_id, e.kind) for e in ledger)
    net: Counter[str] = Counter()
    for e in ledger:
        net[rules.credits_key(e.contract_id, e.at)] += 1 if e.kind is LedgerKind.CHARGE else -1
    sends: Counter[str] = Counter()
    for t in threads:
        for m in filter(None, (t.initial, t.follow_up)):
            assert entries[m.message_id, LedgerKind.CHARGE] == m.charges, (t.thread_id, m)
            assert entries[m.message_id, LedgerKind.REFUND] == m.refunds, (t.thread_id, m)
            if m.status is MessageStatus.SENT and m.sent_at is not None:
                sends[rules.sends_key(t.recruiter_id, m.sent_at)] += 1
    assert sum(entries.values()) == len(ledger), "a ledger entry without its message"
    assert {k: v for k, v in counters.items() if k.startswith("credits#")} == +net
    assert {k: v for k, v in counters.items() if k.startswith("sends#")} == +sends


def _status(t: Thread) -> MessageStatus:
    assert t.follow_up is not None
    return t.follow_up.status
