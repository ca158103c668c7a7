"""Sweep cost against table size, and sweep throughput against a Scan baseline."""

from __future__ import annotations

import math
import time
from datetime import timedelta
from typing import Any

from bench.env import SEND, Stack, provision, recruiter_claims, seed_threads
from support import T0

CONTRACTS = 4
RECRUITERS = 40  # 10k due follow-ups stay far below each seat's daily maximum (10,000)
CANDIDATES = 200
DUE_AT = T0 + timedelta(days=3)
NOT_DUE_AT = T0 + timedelta(days=10)
NOW = T0 + timedelta(days=3, minutes=1)


def _seeded(stack: Stack, due: int, not_due: int) -> None:
    api = stack.api()
    rids, kids = provision(api, CONTRACTS, RECRUITERS, CANDIDATES)
    # One thread written by the API is the template of every seeded one.
    sent = api.mutate(
        SEND,
        recruiter_claims(rids[0], CONTRACTS),
        candidateId=kids[0],
        subject="A role for you",
        body="Hello, would you like to talk about a role?",
        followUp={"body": "Just checking in", "delayDays": 10},
    )
    template = stack.store.get_thread(sent["thread"]["id"])
    assert template is not None and template.follow_up is not None
    seed_threads(stack, template, not_due, NOT_DUE_AT, rids, kids, CONTRACTS, "n")
    seed_threads(stack, template, due, DUE_AT, rids, kids, CONTRACTS, "d")


def _measure(stack: Stack, due: int, run: Any) -> dict[str, Any]:
    with stack.metered() as meter:
        start = time.perf_counter()
        summary = run()
        wall = time.perf_counter() - start
    decided = summary.counts[_delivered()]
    if decided != due:
        raise AssertionError(f"expected {due} deliveries, got {summary.to_dict()}")
    requests = dict(meter.requests)
    return {
        "decided": decided,
        "wall_s": round(wall, 3),
        "per_second": round(decided / wall, 1),
        "requests": requests,
        "items_read": dict(meter.items_read),
        "items_written": meter.items_written,
        "per_follow_up": {
            "items_read": round(meter.total_read / due, 3),
            "due_index_reads": round(meter.items_read["Query"] / due, 3),
            "scan_reads": round(meter.items_read["Scan"] / due, 3),
            "requests": round(sum(requests.values()) / due, 3),
            "items_written": round(meter.items_written / due, 3),
        },
    }


def _delivered() -> Any:
    from inmail.services.sweep import Outcome

    return Outcome.DELIVERED


def sweep_cost(due: int, not_due: int, workers: int = 8, shards: int = 8) -> dict[str, Any]:
    """One sweep invocation (run_sweep, as the handler calls it) over `due` due follow-ups
    among `not_due` scheduled later."""
    from inmail.services.sweep import run_sweep

    with Stack(due_shards=shards, workers=workers) as stack:
        start = time.perf_counter()
        _seeded(stack, due, not_due)
        seed_s = time.perf_counter() - start
        figures = _measure(stack, due, lambda: run_sweep(stack.deps, NOW, "bench", workers=workers))
    return {"due": due, "not_due": not_due, "workers": workers, "shards": shards, "seed_s": round(seed_s, 1), **figures}


def baseline_cost(due: int, not_due: int) -> dict[str, Any]:
    """The Scan-and-decide-one-by-one baseline over the same data."""
    from bench.baseline import scan_sweep

    with Stack() as stack:
        _seeded(stack, due, not_due)
        figures = _measure(stack, due, lambda: scan_sweep(stack.deps, NOW, "baseline"))
    return {"due": due, "not_due": not_due, "workers": 1, **figures}


def round_trips(result: dict[str, Any], workers: int, shards: int) -> float:
    """Requests on the critical path, i.e. DynamoDB time in units of one request's latency.
    The sweep's shard queries run `workers` at a time, then its per-follow-up requests run
    `workers` at a time; the baseline's requests run one after another. A Scan page holds up
    to 1 MB on DynamoDB (whatever moto's page size), about 800 thread items of ~1.3 KB."""
    requests = dict(result["requests"])
    scan_pages = max(requests.pop("Scan", 0), math.ceil(result["items_read"].get("Scan", 0) / 800))
    queries = requests.pop("Query", 0)
    rest = sum(requests.values())
    if workers == 1:
        return float(scan_pages + queries + rest)
    query_rounds = math.ceil(shards / workers) * max(1, math.ceil(queries / max(shards, 1)))
    return float(scan_pages + query_rounds + math.ceil(rest / workers))


def throughput(
    due: int, not_due: int, workers: int = 8, shards: int = 8, sweep_result: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The sweep (or its run from the grid, same data and settings) against the baseline."""
    sweep = sweep_result or sweep_cost(due, not_due, workers, shards)
    base = baseline_cost(due, not_due)
    sweep_trips = round_trips(sweep, workers, shards)
    base_trips = round_trips(base, 1, shards)
    return {
        "due": due,
        "not_due": not_due,
        "sweep": sweep,
        "baseline": base,
        "ratio": {
            "wall_clock_moto": round(base["wall_s"] / sweep["wall_s"], 2),
            "items_read": round(sum(base["items_read"].values()) / max(1, sum(sweep["items_read"].values())), 2),
            "round_trips": round(base_trips / sweep_trips, 2),
        },
        "round_trips": {"sweep": sweep_trips, "baseline": base_trips},
    }
