"""`make bench-local`: how the local stack (`inmail serve`, its embedded engine) holds up as
its data grows, each figure beside the same measure on moto as it ships (the engine with
INMAIL_ENGINE_UNPATCHED=1), in the same run:

- send latency: sendInMail with a follow-up, p50/p95, at 0, 1k, 5k and 20k threads (and a
  CHARGE each in the ledger), two servers seeded alike and a third never seeded (the p50 at 0
  threads, in the same minutes), their sends rotated;
- snapshots of those tables: how long requests wait (the gate held) and the whole save, and
  a restore of the largest (what a restart costs), in this process's own engine;
- `make load` (20 clients x 75 operations with sweeps alongside, every audit check), on one
  engine then the other, `--rounds` times in alternating order.

Writes bench/results/local_stack.json and prints a table; `make bench-check` holds it to the
issue's budgets. About 15 minutes on 2 busy cores (moto as it ships is the slow part).

    .venv/bin/python -m bench.local_stack
    .venv/bin/python -m bench.local_stack --sizes 0,1000 --sends 6 --ops 20 --rounds 1   # smoke
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import load

RESULTS = Path(__file__).resolve().parent / "results"


class SnapshotBench:
    """The data the probe seeds, also in an engine of this process, snapshotted at each size
    the way `inmail serve` does (patched: read from moto's tables; unpatched: Scan pages)."""

    def __init__(self) -> None:
        from dataclasses import replace

        import boto3

        from inmail.config import Settings
        from inmail.local.engine import EmbeddedEngine, Snapshots, local_credentials
        from inmail.store.tables import ensure_tables
        from localstack_support import free_port

        local_credentials()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the engine's request log
        self.engine = EmbeddedEngine(free_port())
        self.engine.start()
        self.settings = replace(Settings.from_env(), dynamodb_endpoint=self.engine.endpoint)
        ensure_tables(self.settings)
        self.dir = Path(tempfile.mkdtemp(prefix="inmail-snapshot-bench-"))
        self.snapshots = Snapshots(self.settings, self.dir, self.engine)
        self.db = boto3.session.Session().client(
            "dynamodb", endpoint_url=self.engine.endpoint, region_name=self.settings.region
        )
        self.rows: list[dict[str, Any]] = []

    def add(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        load.write_items(self.db, items)

    def measure(self, size: int) -> dict[str, Any]:
        # what else ran on the machine as this size was measured (1-minute load average; 2 cores)
        row: dict[str, Any] = {"threads": size, "load_average": _load_average()}
        for engine, patched in (("patched", True), ("unpatched", False)):
            self.engine.patched = patched  # which way Snapshots reads the tables
            start, cpu = time.perf_counter(), time.process_time()
            items = self.snapshots.save()
            row[engine] = {
                "items": items,
                "requests_wait_s": round(self.snapshots.last_held_seconds, 3),
                "save_s": round(time.perf_counter() - start, 3),
                "save_cpu_s": round(time.process_time() - cpu, 3),  # this process's: the engine's and the saver's
            }
        self.engine.patched = True
        row["file_mb"] = round(self.snapshots.path.stat().st_size / 1e6, 1)
        self.rows.append(row)
        print(
            f"  {size:>6} threads: snapshot ({row['patched']['items']} items, {row['file_mb']} MB) requests wait "
            f"{row['patched']['requests_wait_s']} s, save {row['patched']['save_s']} s "
            f"({row['patched']['save_cpu_s']} s CPU); unpatched "
            f"{row['unpatched']['requests_wait_s']} s / {row['unpatched']['save_s']} s",
            flush=True,
        )
        return row

    def restore(self) -> dict[str, Any]:
        """Load the last snapshot into empty tables, both ways: what a restart costs."""
        from moto.dynamodb.models import dynamodb_backends

        from inmail.store.tables import ensure_tables

        out: dict[str, Any] = {}
        for engine, patched in (("patched", True), ("unpatched", False)):
            dynamodb_backends.reset()
            ensure_tables(self.settings)
            self.engine.patched = patched
            start = time.perf_counter()
            out[engine] = {"items": self.snapshots.load(), "restore_s": round(time.perf_counter() - start, 2)}
        self.engine.patched = True
        print(f"  restore: patched {out['patched']}, unpatched {out['unpatched']}", flush=True)
        return out

    def close(self) -> None:
        import shutil

        self.engine.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def load_pairs(args: argparse.Namespace) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    for r in range(args.rounds):
        for engine in load.ENGINES if r % 2 == 0 else tuple(reversed(load.ENGINES)):
            run_args = load.parser().parse_args(
                ["--clients", str(args.clients), "--ops", str(args.ops), "--engine", engine, "--no-write"]
            )
            result = load.load(run_args)
            run = {
                "engine": engine,
                "round": r,
                "requests": result["load"]["requests"],
                "seconds": result["load"]["seconds"],
                "requests_per_s": result["load"]["requests_per_s"],
                "server_cpu_ms_per_request": result["load"].get("server_cpu_ms_per_request"),
                "checks_held": result["problems"] == {},
                "problems": result["problems"],
                "http_5xx": result["load"]["http_5xx"],
                "ledger_entries": result["audit"]["ledger_entries"],
                "p50_ms": {op: s["p50_ms"] for op, s in result["operations"].items()},
                # what else ran on the machine (1-minute load average as the run ended; 2 cores)
                "load_average": _load_average(),
            }
            runs.append(run)
            print(
                f"  load round {r} {engine}: {run['requests']} requests in {run['seconds']} s, "
                f"{run['requests_per_s']} requests/s, {run['server_cpu_ms_per_request']} ms server CPU a request "
                f"(load average {run['load_average']}), "
                f"checks {'held' if run['checks_held'] else 'BROKEN'}",
                flush=True,
            )
    median = {
        engine: statistics.median(run["requests_per_s"] for run in runs if run["engine"] == engine)
        for engine in load.ENGINES
    }
    pairs = [
        round(p["requests_per_s"] / u["requests_per_s"], 1)
        for p, u in zip(
            (run for run in runs if run["engine"] == "patched"),
            (run for run in runs if run["engine"] == "unpatched"),
            strict=True,
        )
    ]
    return {
        "clients": args.clients,
        "ops_per_client": args.ops,
        "runs": runs,
        "median_requests_per_s": median,
        "ratio_per_round": pairs,
        "ratio_of_medians": round(median["patched"] / median["unpatched"], 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="0,1000,5000,20000", help="threads seeded before each probe")
    parser.add_argument("--sends", type=int, default=24, help="probe sends per server at each size")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--ops", type=int, default=75, help="load operations per client (make load's)")
    parser.add_argument("--rounds", type=int, default=1, help="load runs per engine, alternating which goes first")
    parser.add_argument("--no-load", action="store_true", help="the probe and snapshots only")
    parser.add_argument("--out", type=Path, default=RESULTS / "local_stack.json")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    load_average_at_start = _load_average()
    snapshots = SnapshotBench()
    try:

        def at_size(size: int, items: list[tuple[str, dict[str, Any]]]) -> None:
            snapshots.add(items)
            snapshots.measure(size)

        print("send latency and snapshots as the tables grow:", flush=True)
        probe_args = load.parser().parse_args(["--probe", args.sizes, "--probe-sends", str(args.sends)])
        probe = load.probe(probe_args, at_size=at_size)
        restore = snapshots.restore()
    finally:
        snapshots.close()
    result: dict[str, Any] = {
        "meta": {
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_start": load_average_at_start,
            "command": "python -m bench.local_stack " + " ".join(sys.argv[1:] if argv is None else argv),
        },
        "probe": probe["probe"],
        "snapshots": snapshots.rows,
        "restore": restore,
    }
    if not args.no_load:
        print(f"make load ({args.clients} clients x {args.ops} operations), both engines:", flush=True)
        result["load"] = load_pairs(args)
    result["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(report(result))
    return 0


def _load_average() -> float | None:
    return round(os.getloadavg()[0], 1) if hasattr(os, "getloadavg") else None


def report(result: dict[str, Any]) -> str:
    lines = [
        "",
        f"{'threads':>8} {'p50 / p95 ms patched':>22} {'unpatched':>18} {'empty':>16} {'x empty':>8} {'x first':>8}",
    ]
    for row in result["probe"]:
        p, u, e = row["patched"], row["unpatched"], row["empty"]
        lines.append(
            f"{row['threads']:>8} {p['p50_ms']:>12} / {p['p95_ms']:<7} {u['p50_ms']:>9} / {u['p95_ms']:<7} "
            f"{e['p50_ms']:>7} / {e['p95_ms']:<7} {row['p50_over_empty']['patched']:>8} "
            f"{row.get('p50_over_first', {}).get('patched', '-'):>8}"
        )
    for row in result["snapshots"]:
        lines.append(
            f"snapshot {row['threads']:>6} threads: requests wait {row['patched']['requests_wait_s']} s "
            f"(unpatched {row['unpatched']['requests_wait_s']} s), save {row['patched']['save_s']} s"
        )
    if "load" in result:
        ld = result["load"]
        med = ld["median_requests_per_s"]
        lines.append(
            f"make load: {med['patched']} requests/s patched, {med['unpatched']} unpatched (medians); "
            f"{ld['ratio_of_medians']}x (per round {ld['ratio_per_round']})"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
