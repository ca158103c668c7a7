"""The fan-out path's decisions on the in-memory store: a sweep leases what it leaves over
and hands it to the queue; the worker Lambda handler settles each message's follow-up with
the sweeper's own decisions (R20-R30), exactly once under duplicated messages, a second
sweep, a reply in between and a store fault, and answers with a partial batch response.
Checked as the recruiter sees it through the API, and in credits (R03-R05)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

import steps
from gql import Caller, GraphQLClient
from inmail.domain.errors import TransientStoreError
from inmail.domain.model import Changes
from inmail.services.deps import Deps
from inmail.services.fan_out import HandOff, RecentHandOffs, sweep_with_fan_out
from inmail.store.work_queue import from_body, to_body
from support import T0, FakeClock, LambdaContext

DUE = T0 + timedelta(days=3)
N = 12
KEEP = 4  # the sweep settles this many itself and hands the rest off

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")


class ListQueue:
    """The WorkQueue port in memory: what a sweep sent, as SQS records (the same body the
    SQS adapter writes), in order; `refuse` makes it refuse every send."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.refuse = False
        self._ids = itertools.count(1)

    def send(self, hand_offs: list[HandOff]) -> list[int]:
        if self.refuse:
            raise ConnectionError("queue unreachable")
        for h in hand_offs:
            n = next(self._ids)
            self.records.append(
                {"messageId": f"m{n}", "receiptHandle": f"h{n}", "body": to_body(h), "eventSource": "aws:sqs"}
            )
        return []


def worker(deps: Deps, records: list[dict[str, Any]], request_id: str = "worker-1") -> dict[str, Any]:
    """The worker Lambda's handler on `records`, as the SQS event source calls it."""
    from inmail.handlers import fan_out_batch, sweep_worker

    sweep_worker.deps = deps
    sweep_worker.cache = fan_out_batch.worker_cache(deps)
    context = LambdaContext()
    context.aws_request_id = request_id
    response: dict[str, Any] = sweep_worker.handler({"Records": records}, context)
    return response


def sweep(deps: Deps, queue: ListQueue, at: datetime, sweep_id: str = "sweep-1", keep: int = KEEP) -> Any:
    return sweep_with_fan_out(deps, queue, at, sweep_id, keep, RecentHandOffs(), workers=2)


@pytest.fixture
def recruiter(api: GraphQLClient) -> Caller:
    api.contract("c1", credits=2 * N + 4, max_daily=50)
    r1 = api.seat("r1", admin=True, daily=50)
    api.candidate("k1")
    return r1


@pytest.fixture
def send_many(recruiter: Caller, clock: FakeClock) -> Callable[[int], list[str]]:
    """Send n InMails with a follow-up each, then move the clock to when they are due (what
    `sentToday` then shows is the day's deliveries, R40)."""

    def send(n: int = N) -> list[str]:
        ids = [steps.sent(recruiter, "k1", followUp={"body": f"ping {i}", "delayDays": 3})["id"] for i in range(n)]
        clock.at = DUE
        return ids

    return send


def follow_up(r1: Caller, tid: str) -> dict[str, Any]:
    found = steps.thread(r1, tid)
    assert found is not None
    fu: dict[str, Any] = found["followUp"]
    return fu


def test_r30_handed_off_follow_ups_delivered_once_despite_duplicated_messages(
    api: GraphQLClient, recruiter: Caller, send_many: Callable[..., list[str]]
) -> None:
    ids = send_many()
    credits = steps.remaining(recruiter)
    queue = ListQueue()
    summary = sweep(api.deps, queue, DUE)
    assert (summary.due, summary.handed_off, summary.counts["delivered"]) == (N, N - KEEP, KEEP)
    assert len(queue.records) == N - KEEP

    # SQS delivers at least once: every message, then three again in the same batch, and
    # all of them again in a later batch (a lost delete).
    first = worker(api.deps, queue.records + queue.records[:3], "worker-1")
    again = worker(api.deps, queue.records, "worker-2")
    assert first == again == {"batchItemFailures": []}

    for tid in ids:
        fu = follow_up(recruiter, tid)
        assert (fu["status"], fu["creditRefunded"]) == ("SENT", False)
    assert steps.sent_today(recruiter) == N  # R40: each counted once
    assert steps.remaining(recruiter) == credits  # R03: paid when scheduled, nothing more
    kinds = [kind for kind, _ in steps.ledger_kinds(recruiter)]
    assert (kinds.count("CHARGE"), kinds.count("REFUND")) == (2 * N, 0)  # R04: first messages and follow-ups


def test_r30_a_second_sweep_leaves_handed_off_follow_ups_to_their_workers(
    api: GraphQLClient, recruiter: Caller, send_many: Callable[..., list[str]]
) -> None:
    send_many()
    queue = ListQueue()
    sweep(api.deps, queue, DUE, "sweep-1")
    # Another sweep, a minute later, on a cold process: the hand-offs are leased to sweep-1.
    second = sweep(api.deps, queue, DUE + timedelta(minutes=1), "sweep-2", keep=N)
    assert second.counts["delivered"] == 0 and second.counts["skipped"] == N - KEEP
    assert len(queue.records) == N - KEEP  # nothing handed off twice
    assert worker(api.deps, queue.records) == {"batchItemFailures": []}
    assert steps.sent_today(recruiter) == N


def test_r20_a_reply_after_the_hand_off_deletes_the_follow_up_and_refunds(
    api: GraphQLClient, recruiter: Caller, send_many: Callable[..., list[str]]
) -> None:
    tid = send_many(1)[0]
    queue = ListQueue()
    assert sweep(api.deps, queue, DUE, keep=0).handed_off == 1
    api.as_("k1", "CANDIDATE").mutate("ReplyToInMail", threadId=tid, body="Interested")
    # The message carries the thread as leased: its commit finds it changed and decides again.
    assert worker(api.deps, queue.records) == {"batchItemFailures": []}
    fu = follow_up(recruiter, tid)
    assert (fu["status"], fu["sentAt"], fu["creditRefunded"]) == ("DELETED", None, True)
    assert steps.sent_today(recruiter) == 0
    kinds = [kind for kind, _ in steps.ledger_kinds(recruiter, tid)]
    assert (kinds.count("CHARGE"), kinds.count("REFUND")) == (2, 2)  # R05: both refunded, once


def test_r30_an_unsettled_message_comes_back_and_is_settled_once_later(
    api: GraphQLClient, recruiter: Caller, send_many: Callable[..., list[str]]
) -> None:
    ids = send_many(3)
    queue = ListQueue()
    sweep(api.deps, queue, DUE, keep=0)
    store: Any = api.deps.store
    broken = ids[1]

    def fault(changes: Changes) -> None:
        if any(thread.thread_id == broken for thread, _ in changes.threads):
            raise TransientStoreError("throttled")

    store.before_commit = fault
    response = worker(api.deps, queue.records, "worker-1")
    store.before_commit = None
    message = next(r for r in queue.records if from_body(r["body"]).thread_id == broken)
    assert response == {"batchItemFailures": [{"itemIdentifier": message["messageId"]}]}  # only it comes back
    assert follow_up(recruiter, broken)["status"] == "SCHEDULED"

    assert worker(api.deps, [message], "worker-2") == {"batchItemFailures": []}
    assert [follow_up(recruiter, t)["status"] for t in ids] == ["SENT"] * 3
    assert steps.sent_today(recruiter) == 3


def test_a_message_that_is_not_a_hand_off_is_reported_failed_and_changes_nothing(
    api: GraphQLClient, recruiter: Caller, send_many: Callable[..., list[str]]
) -> None:
    tid = send_many(1)[0]
    junk = {"messageId": "junk", "receiptHandle": "h", "body": '{"thread": 1}', "eventSource": "aws:sqs"}
    assert worker(api.deps, [junk]) == {"batchItemFailures": [{"itemIdentifier": "junk"}]}
    assert follow_up(recruiter, tid)["status"] == "SCHEDULED"


def test_r30_when_the_queue_refuses_the_sweep_settles_its_leased_follow_ups_itself(
    api: GraphQLClient, recruiter: Caller, send_many: Callable[..., list[str]]
) -> None:
    ids = send_many(5)
    queue = ListQueue()
    queue.refuse = True
    summary = sweep(api.deps, queue, DUE, keep=1)
    assert (summary.handed_off, summary.counts["delivered"]) == (0, 5)
    assert [follow_up(recruiter, t)["status"] for t in ids] == ["SENT"] * 5
