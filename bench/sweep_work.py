"""What one settled follow-up costs: CPU instructions and time, DynamoDB requests and round
trips, read and write units (docs/performance.md, "What a follow-up costs").

- **Counts on moto** (`counts`): a sweep of N due follow-ups with the app's own store on
  moto in-process; requests and items by botocore's hooks (`RequestMeter`), read and write
  units computed from the items each request reads or writes and the tables' key schemas
  (`inmail.store.capacity.CapacityMeter`). Two shapes: `shared` (4 contracts, 40
  recruiters, 200 candidates: a bulk campaign's follow-ups, 25 a recruiter and 5 a
  candidate) and `distinct` (every follow-up a candidate of its own, 10 a recruiter).
- **CPU on DynamoDB answered in process** (`bench/sweepcall.py`, `bench/fake_dynamodb.py`):
  the warm invocation of the handler over N1 and over N2 due follow-ups; per follow-up
  (N2 - N1) apart, so what a sweep costs once (the shard queries, the metrics) cancels
  out. Instructions by callgrind (deterministic within ~1%, eight worker threads
  interleaving), time as the median of `runs` runs (wall and the process's CPU).

The threads look like real InMails: a subject of ~40 characters, a first message of ~600
and a follow-up of ~300 (the document is most of a thread item's size, which sets its
write units).

    .venv/bin/python -m bench.sweep_work [--functions DIR] [--label TEXT] [--quick]

`--functions DIR` measures another checkout's code (its functions/ dir first on the path):
how the "before" figures were made, from main's tree. The meters are this checkout's.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
SWEEPCALL = BENCH / "sweepcall.py"

SUBJECT = "A senior platform engineer role at Acme"
FIRST_BODY = (
    "Hi, I came across your profile and your work on distributed systems stood out. We are "
    "hiring a senior platform engineer to lead our move to event-driven services: a team of "
    "six, remote-first, with a budget to match. " * 3
)[:600]
FOLLOW_UP_BODY = (
    "Just following up on my message from last week: happy to share the role description "
    "and salary range, or set up a short call at a time that suits you. " * 3
)[:300]

SHAPES: dict[str, tuple[int, int, int | None]] = {
    # contracts, recruiters, candidates (None: one per follow-up)
    "shared": (4, 40, 200),
    "distinct": (10, 100, None),
}
N_COUNTS = 1_000
N_COUNTS_QUICK = 100
# The CPU runs: the warm sweep over N1 and over N2 due follow-ups (callgrind runs ~50x slower).
N1, N2 = 10, 60
CPU_SCENARIOS = ("sweep", "hand-off", "worker")


# ---- seeding (in the process that measures, on the code measured) ---------------------------


def scaled(n: int) -> tuple[int, int, int]:
    """The `shared` shape for `n` follow-ups: 25 a recruiter, 5 a candidate, 10 recruiters a
    contract (the CPU runs' sizes are small; their sharing is the counts' at 1,000)."""
    recruiters = max(1, n // 25)
    return max(1, recruiters // 10), recruiters, max(1, n // 5)


def seed(stack: Any, n: int, shape: str | tuple[int, int, int | None]) -> list[str]:
    """Contracts, seats and candidates through the API, one thread sent through the API as
    the template, then `n` threads like it, due now (bench.env.seed_threads)."""
    from bench.env import OPERATOR, SEND, UPSERT_CANDIDATE, provision, recruiter_claims, seed_threads
    from bench.sweep import DUE_AT

    contracts, recruiters, candidates = SHAPES[shape] if isinstance(shape, str) else shape
    api = stack.api()
    rids, kids = provision(api, contracts, recruiters, candidates or 1)
    if candidates is None:
        kids = [f"k{i}" for i in range(n)]
        for kid in kids[1:]:
            api.mutate(UPSERT_CANDIDATE, OPERATOR, candidateId=kid, name=f"Candidate {kid}")
    sent = api.mutate(
        SEND,
        recruiter_claims(rids[0], contracts),
        candidateId=kids[0],
        subject=SUBJECT,
        body=FIRST_BODY,
        followUp={"body": FOLLOW_UP_BODY, "delayDays": 10},
    )
    template = stack.store.get_thread(sent["thread"]["id"])
    assert template is not None
    # Recruiters in turn, and candidates in turn: (i % recruiters, i % candidates).
    return list(seed_threads(stack, template, n, DUE_AT, rids, kids, contracts, "d"))


def _capacity_module() -> Any:
    """This checkout's inmail.store.capacity, also when the code measured predates it."""
    try:
        return importlib.import_module("inmail.store.capacity")
    except ImportError:
        path = ROOT / "functions" / "inmail" / "store" / "capacity.py"
        spec = importlib.util.spec_from_file_location("inmail.store.capacity", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["inmail.store.capacity"] = module
        spec.loader.exec_module(module)
        return module


def counts(n: int, shape: str, path: str = "in-process") -> dict[str, Any]:
    """One sweep of `n` due follow-ups on moto, metered: settled by the sweep itself
    (`in-process`), or handed off and settled by workers (`fan-out`: the sweep leases and
    queues them all, workers take them 100 a batch, as the event source passes them)."""
    import boto3

    from bench.env import Stack
    from bench.sweep import NOW
    from inmail.store.metering import RequestMeter

    capacity = _capacity_module()
    with Stack() as stack:
        seed(stack, n, shape)
        queue = stack.fan_out_queue() if path == "fan-out" else None
        reader = boto3.client("dynamodb", region_name="us-east-1")
        images, schemas = capacity.table_reader(reader)
        meter = RequestMeter().attach(stack.store)
        units = capacity.CapacityMeter(images, schemas).attach(stack.store)
        sqs: Counter[str] = Counter()
        if queue is not None:
            queue._client.meta.events.register("before-call.sqs", lambda model, **_: sqs.update([model.name]))
        try:
            start = time.perf_counter()
            delivered = _in_process(stack, NOW) if queue is None else _fan_out(stack, queue, NOW)
            wall = time.perf_counter() - start
        finally:
            meter.detach()
            units.detach()
    if delivered != n:
        raise AssertionError(f"expected {n} deliveries, got {delivered}")
    requests = dict(meter.requests)
    queries = requests.get("Query", 0)
    return {
        "due": n,
        "shape": shape,
        "path": path,
        "shape_sizes": dict(zip(("contracts", "recruiters", "candidates"), SHAPES[shape], strict=True)),
        "moto_wall_s": round(wall, 2),
        "requests": requests,
        "sqs_requests": dict(sqs),
        "items_read": dict(meter.items_read),
        "items_written": meter.items_written,
        "write_units": units.write_units,
        "write_units_by_table": dict(sorted(units.by_table.items())),
        "write_units_by_operation": dict(sorted(units.by_operation.items())),
        "read_units": units.read_units,
        "per_follow_up": {
            "requests": round(sum(requests.values()) / n, 3),
            # A follow-up's own requests run one after another; the shard queries are shared.
            "round_trips": round((sum(requests.values()) - queries) / n, 3),
            "sqs_requests": round(sum(sqs.values()) / n, 3),
            "items_read": round(meter.total_read / n, 3),
            "items_written": round(meter.items_written / n, 3),
            "write_units": round(units.write_units / n, 3),
            "read_units": round(units.read_units / n, 3),
        },
    }


def _in_process(stack: Any, now: Any) -> int:
    from inmail.services.sweep import Outcome, run_sweep

    summary = run_sweep(stack.deps, now, "bench", workers=stack.settings.sweep_workers)
    delivered: int = summary.counts[Outcome.DELIVERED]
    return delivered


def _fan_out(stack: Any, queue: Any, now: Any) -> int:
    """The sweep hands every due follow-up off; workers settle them 100 a batch, deleting
    what they settled (as the event source does, 10 a request)."""
    from inmail.handlers.fan_out_batch import settle_batch, worker_cache
    from inmail.services import fan_out
    from inmail.services.sweep import Outcome

    fan_out.hand_off_due(stack.deps, queue, now, "sweep-bench")
    cache = worker_cache(stack.deps)
    delivered = 0
    while records := [r for _ in range(10) for r in queue.receive(10)]:
        response, summary = settle_batch(stack.deps, {"Records": records}, f"worker-{delivered}", cache=cache)
        failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        queue.delete([r["receiptHandle"] for r in records if r["messageId"] not in failed])
        delivered += summary.counts[Outcome.DELIVERED]
    return delivered


def fixture(path: str, n: int, scenario: str) -> None:
    """DynamoDB's items with `n` follow-ups due, saved for bench/fake_dynamodb.py, with the
    events `scenario` needs."""
    from bench import fake_dynamodb
    from bench.env import Stack
    from bench.sweep import NOW
    from inmail.store.tables import table_names

    with Stack() as stack:
        seed(stack, n, scaled(n))
        events: dict[str, Any] = {"sweep": {"time": NOW.isoformat().replace("+00:00", "Z")}}
        if scenario == "worker":
            events["worker"] = _handed_off(stack, NOW)
        # The fake answers a due-index query with every item of the shard, and its clock is the
        # machine's: the template thread's follow-up is due too.
        client = stack.store.transaction_client()
        fake_dynamodb.save(path, client, table_names(stack.settings), events=events, due=n + 1)


def _handed_off(stack: Any, now: Any) -> dict[str, Any]:
    """Hand every due follow-up to a queue on moto (the sweeper's fan-out), and return them as
    one SQS event of the worker's, as Lambda's event source mapping would pass it."""
    from inmail.services import fan_out

    queue = stack.fan_out_queue()
    handed = fan_out.hand_off_due(stack.deps, queue, now, "handoff-bench", limit=None)
    records = queue.receive_all()
    if len(records) != handed:
        raise AssertionError(f"handed off {handed}, received {len(records)}")
    return {"Records": records}


# ---- the CPU runs (each in a fresh interpreter) ------------------------------------------------


def _env(functions: Path | None, scenario: str = "sweep") -> dict[str, str]:
    drop = ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_")) and k not in drop}
    env.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        POWERTOOLS_SERVICE_NAME="inmail",
        POWERTOOLS_METRICS_NAMESPACE="InMail",
        POWERTOOLS_LOG_LEVEL="WARNING",
        PYTHONHASHSEED="0",
        PYTHONPATH=str(functions or ROOT / "functions"),
    )
    if scenario == "hand-off":  # the sweeper hands every due follow-up off, settling none
        env.update(FAN_OUT_QUEUE_URL="https://sqs.us-east-1.amazonaws.com/123456789012/fan-out", FAN_OUT_ABOVE="0")
    return env


def _subprocess(args: list[str], functions: Path | None) -> str:
    env = _env(functions)
    env["PYTHONPATH"] = f"{env['PYTHONPATH']}{os.pathsep}{ROOT}"
    done = subprocess.run(
        [sys.executable, "-m", "bench.sweep_work", *args], capture_output=True, text=True, env=env, cwd=ROOT
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.sweep_work {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def _cpu_count(scenario: str, fixture_path: Path, functions: Path | None) -> int:
    from bench import callgrind

    parts = callgrind.instructions(
        [sys.executable, str(SWEEPCALL), "count", scenario, str(fixture_path)],
        env=_env(functions, scenario),
        cwd=BENCH,
    )
    if len(parts) != 6:  # startup, import, setup, first, warm, exit
        raise RuntimeError(f"{scenario}: {len(parts)} callgrind parts")
    return parts[4]


def _cpu_time(scenario: str, fixture_path: Path, functions: Path | None) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, str(SWEEPCALL), "time", scenario, str(fixture_path)],
        capture_output=True,
        text=True,
        env=_env(functions, scenario),
        cwd=BENCH,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{scenario} (time) failed:\n{done.stderr[-4000:]}")
    phases = json.loads(done.stdout.strip().splitlines()[-1])
    return {"wall": phases["wall"]["warm"], "cpu": phases["cpu"]["warm"]}


def cpu(functions: Path | None, runs: int, scenarios: tuple[str, ...]) -> dict[str, Any]:
    """Per follow-up: instructions and milliseconds of the warm invocation, N2 - N1 apart."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="sweep-work-") as tmp:
        paths = {}
        for scenario in scenarios:
            for n in (N1, N2):
                path = Path(tmp, f"{scenario}-{n}.json")
                _subprocess(["fixture", str(path), "--n", str(n), "--scenario", scenario], functions)
                paths[scenario, n] = path
        keys = list(paths)
        with ThreadPoolExecutor(max_workers=2) as pool:  # counts don't depend on the machine's load
            counted = dict(zip(keys, pool.map(lambda k: _cpu_count(k[0], paths[k], functions), keys), strict=True))
        timed: dict[tuple[str, int], list[dict[str, float]]] = {k: [] for k in keys}
        for _ in range(runs):
            for key in keys:
                timed[key].append(_cpu_time(key[0], paths[key], functions))
    for scenario in scenarios:

        def median(clock: str, n: int, scenario: str = scenario) -> float:
            return statistics.median(t[clock] for t in timed[scenario, n])

        span = N2 - N1
        out[scenario] = {
            "instructions_per_follow_up": round((counted[scenario, N2] - counted[scenario, N1]) / span),
            "instructions": {str(N1): counted[scenario, N1], str(N2): counted[scenario, N2]},
            "cpu_ms_per_follow_up": round((median("cpu", N2) - median("cpu", N1)) / span, 3),
            "wall_ms_per_follow_up": round((median("wall", N2) - median("wall", N1)) / span, 3),
            "warm_invocation_ms": {
                str(n): {"wall": round(median("wall", n), 1), "cpu": round(median("cpu", n), 1)} for n in (N1, N2)
            },
        }
    return out


def measure(functions: Path | None, label: str, quick: bool, runs: int) -> dict[str, Any]:
    n = N_COUNTS_QUICK if quick else N_COUNTS
    has_fan_out = (functions or ROOT / "functions").joinpath("inmail", "services", "fan_out.py").exists()
    scenarios = CPU_SCENARIOS if has_fan_out else ("sweep",)
    paths = ("in-process", "fan-out") if has_fan_out else ("in-process",)
    moto = {
        f"{shape} {path}": json.loads(
            _subprocess(["counts", "--n", str(n), "--shape", shape, "--path", path], functions).splitlines()[-1]
        )
        for shape in SHAPES
        for path in paths
    }
    return {
        "code": label,
        "python": sys.version.split()[0],
        "threads": {"subject": len(SUBJECT), "first_body": len(FIRST_BODY), "follow_up_body": len(FOLLOW_UP_BODY)},
        "counts": moto,
        "cpu": cpu(functions, 1 if quick else runs, scenarios),
        "cpu_sizes": [N1, N2],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="measure (the default)")
    for p in (parser, run):
        p.add_argument("--functions", type=Path, help="measure this functions/ dir's code instead")
        p.add_argument("--label", help="what the code measured is (kept in the result)")
        p.add_argument("--quick", action="store_true", help="small sizes, one timed run")
        p.add_argument("--runs", type=int, default=5)
    c = sub.add_parser("counts")
    c.add_argument("--n", type=int, required=True)
    c.add_argument("--shape", choices=list(SHAPES), required=True)
    c.add_argument("--path", choices=["in-process", "fan-out"], default="in-process")
    f = sub.add_parser("fixture")
    f.add_argument("path")
    f.add_argument("--n", type=int, required=True)
    f.add_argument("--scenario", choices=CPU_SCENARIOS, required=True)
    args = parser.parse_args(argv)
    if args.command == "counts":
        import logging

        logging.disable(logging.WARNING)
        print(json.dumps(counts(args.n, args.shape, args.path)))
        return 0
    if args.command == "fixture":
        fixture(args.path, args.n, args.scenario)
        return 0
    functions = args.functions.resolve() if args.functions else None
    result = measure(functions, args.label or "this checkout", args.quick, args.runs)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
