"""Credits under races (SPEC.md R04) on moto: requests of one thread at the same time, each
in its own Python thread as Lambda invocations would be, every moto request atomic as on
DynamoDB. The single-request credit rules are in tests/rules/test_credits.py."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from steps import ledger, remaining, sent, thread, world
from sweeping import atomic_moto


def test_r04_racing_cancels_replies_and_retries_refund_each_credit_once(api, clock):
    """Cancels and replies of the same thread at the same time, several of each: whatever
    wins, each credit comes back once and the balance matches the ledger."""
    w = world(api, credits=10)
    t = sent(w.r1, followUp={"body": "Ping"})
    calls = [lambda: w.r1.op("CancelFollowUp", input={"threadId": t["id"]})] * 4
    calls += [lambda: w.k1.op("ReplyToInMail", input={"threadId": t["id"], "body": "Hi"})] * 4
    # Each thread is one Lambda invocation; moto requests are serialised as DynamoDB
    # applies each one atomically (see sweeping.py).
    with atomic_moto(), ThreadPoolExecutor(len(calls)) as pool:
        responses = list(pool.map(lambda call: call(), calls))
    for r in responses:
        assert not r.errors, r.body
    wins = [r for r in responses if not next(iter(r.data.values()))["userErrors"]]
    assert 1 <= len(wins) <= 2  # one reply, and perhaps one cancel before it
    entries = ledger(w.r1)
    assert len({e["id"] for e in entries}) == len(entries)
    assert sorted(e["messageId"] for e in entries if e["kind"] == "REFUND") == sorted(
        [t["initial"]["id"], t["followUp"]["id"]]
    )
    final = thread(w.r1, t["id"])
    assert final["status"] == "REPLIED"
    assert (final["creditsCharged"], final["creditsRefunded"]) == (2, 2)
    assert remaining(w.r1) == 10
