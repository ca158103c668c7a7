"""R90 against concurrent requests on moto (each request atomic, as on DynamoDB): a single
send racing a batch for the daily maximum or the last credits, two duplicate batches with
one key, and two templates racing for one name (R92). The limits are counters updated with
their condition in each candidate's own transaction, so whoever commits first gets the
message; the batch sends in input order until a limit refuses, then refuses the rest."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bulk import candidates, outcomes, recruiter, remaining, send_many, sent, sent_today
from gql import Caller, GraphQLClient
from inmail.domain.model import Changes
from invariants import assert_invariants, threads_of
from sweeping import atomic_moto


@pytest.fixture
def r1(api: GraphQLClient) -> Iterator[Caller]:
    """c1 with 100 credits; r1 allowed 10 messages a day; 25 candidates and one more, "solo"."""
    with atomic_moto():
        api.contract("c1", credits=100, max_daily=25)
        api.seat("r1", "c1", admin=True, daily=10)
        candidates(api, 25)
        api.operator.mutate("UpsertCandidate", candidateId="solo", name="Solo", firstName="Solo")
        yield recruiter(api, admin=True)


class BeforeBatchCommit:
    """Runs `racer` (in its own thread, to its end) right before the batch's n-th candidate
    commits: the batch has read and decided, the racer commits first."""

    def __init__(self, api: GraphQLClient, n: int, racer: Callable[[], Any]):
        self._inner = api.deps.delivery
        self._batch = threading.get_ident()
        self._n, self._racer, self.commits = n, racer, 0
        self.raced: Any = None
        api.deps.delivery = self  # type: ignore[assignment]

    def deliver(self, changes: Changes) -> None:
        if threading.get_ident() == self._batch and changes.threads:
            self.commits += 1
            if self.commits == self._n:
                with ThreadPoolExecutor(1) as pool:
                    self.raced = pool.submit(self._racer).result()
        self._inner.deliver(changes)


def single(r1: Caller, candidate: str = "solo", **extra: Any) -> dict[str, Any]:
    return r1.mutate("SendInMail", candidateId=candidate, subject="Just you", body="Hello {firstName}", **extra)


def test_r90_r41_a_single_send_between_two_candidates_takes_a_message_of_the_day(
    api: GraphQLClient, r1: Caller
) -> None:
    ids = [f"k{i:02d}" for i in range(1, 26)]
    race = BeforeBatchCommit(api, 5, lambda: single(r1))
    p = send_many(r1, ids, idempotencyKey="bulk-1")
    assert race.raced["userErrors"] == [] and race.raced["thread"] is not None
    # 4 before the single send, 5 after it: 10 for the day; the rest refused, in input order.
    assert outcomes(p) == [(cid, "SENT") for cid in ids[:9]] + [(cid, "DAILY_LIMIT_REACHED") for cid in ids[9:]]
    assert sent_today(r1) == 10 and remaining(r1) == 90
    assert len(threads_of(api.deps)) == 10
    assert_invariants(api.deps)


def test_r90_r03_a_single_send_takes_credits_the_batch_was_counting_on(api: GraphQLClient, r1: Caller) -> None:
    """10 credits, 2 per InMail with its follow-up: the batch sends 2, the single send takes
    2, the batch 2 more, then INSUFFICIENT_CREDITS for the rest."""
    api.contract("c2", credits=10, max_daily=25)
    r2 = api.seat("r2", "c2", daily=25)
    ids = [f"k{i:02d}" for i in range(1, 8)]
    follow_up = {"body": "Still keen, {firstName}?", "delayDays": 3}
    race = BeforeBatchCommit(api, 3, lambda: single(r2, followUp=follow_up))
    p = send_many(r2, ids, followUp=follow_up)
    assert race.raced["userErrors"] == []
    assert outcomes(p) == [(cid, "SENT") for cid in ids[:4]] + [(cid, "INSUFFICIENT_CREDITS") for cid in ids[4:]]
    assert remaining(r2) == 0
    assert_invariants(api.deps, "c2")


def test_r90_a_batch_racing_single_sends_never_passes_the_daily_maximum(api: GraphQLClient, r1: Caller) -> None:
    """No interleaving chosen: a batch of 25 and 6 single sends at once, several times. Each
    day exactly 10 go; the batch's results are some sent, then the maximum, in input order."""
    ids = [f"k{i:02d}" for i in range(1, 26)]
    for day in range(3):
        start = threading.Barrier(2)

        def singles(start: threading.Barrier) -> list[dict[str, Any]]:
            start.wait()
            return [single(r1, "solo") for _ in range(6)]

        with ThreadPoolExecutor(1) as pool:
            racing = pool.submit(singles, start)
            start.wait()
            p = send_many(r1, ids, idempotencyKey=f"day-{day}")
            others = racing.result()
        batch_sent = len(sent(p))
        singles_sent = sum(1 for s in others if s["thread"] is not None)
        assert batch_sent + singles_sent == 10 == sent_today(r1)
        assert outcomes(p) == [(cid, "SENT") for cid in ids[:batch_sent]] + [
            (cid, "DAILY_LIMIT_REACHED") for cid in ids[batch_sent:]
        ]
        assert all(s["userErrors"][0]["code"] == "DAILY_LIMIT_REACHED" for s in others if s["thread"] is None)
        assert_invariants(api.deps)
        api.deps.clock.advance(days=1)  # type: ignore[attr-defined]


def test_r90_two_requests_with_one_key_at_once_send_to_each_candidate_once(api: GraphQLClient, r1: Caller) -> None:
    """A client retrying while its first request still runs: both answer every candidate
    sent, each thread once, each credit once."""
    ids = [f"k{i:02d}" for i in range(1, 9)]
    start = threading.Barrier(2)

    def request() -> dict[str, Any]:
        start.wait()
        return send_many(r1, ids, idempotencyKey="twice")

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda _: request(), range(2))
    assert sent(first) == sent(second) == ids
    assert [r["thread"]["id"] for r in first["results"]] == [r["thread"]["id"] for r in second["results"]]
    assert len(threads_of(api.deps)) == 8 and remaining(r1) == 92 and sent_today(r1) == 8
    assert_invariants(api.deps)


def test_r92_two_templates_racing_for_one_name_one_wins(api: GraphQLClient, r1: Caller) -> None:
    """A rename and a create of the same name, both decided before either commits: the
    claim is a conditional write, so the second is CONFLICT whatever it read."""
    intro = r1.mutate("SaveTemplate", name="Old name", subject="s", body="b")["template"]
    api.seat("r2", "c1")
    r2 = recruiter(api, "r2")
    inner = api.deps.store
    raced: dict[str, Any] = {}

    class RaceBeforeCommit:
        def __getattr__(self, name: str) -> Any:
            return getattr(inner, name)

        def commit(self, changes: Changes) -> None:
            if changes.name_claims and not raced:
                raced["started"] = True
                with ThreadPoolExecutor(1) as pool:
                    raced["create"] = pool.submit(
                        lambda: r2.mutate("SaveTemplate", name="Welcome", subject="s", body="b")
                    ).result()
            inner.commit(changes)

    api.deps.store = RaceBeforeCommit()  # type: ignore[assignment]
    renamed = r1.mutate("SaveTemplate", id=intro["id"], name="WELCOME", subject="s", body="b")
    api.deps.store = inner
    assert raced["create"]["userErrors"] == [] and raced["create"]["template"]["name"] == "Welcome"
    assert [(e["code"], e["field"]) for e in renamed["userErrors"]] == [("CONFLICT", ["input", "name"])]
    assert [t["name"] for t in r1.data("Templates")["templates"]] == ["Old name", "Welcome"]
