"""`make bench`: run every benchmark, write bench/results/*.json, print one table.

.venv/bin/python -m bench.run            # the committed figures (~6-8 min on 2 cores)
.venv/bin/python -m bench.run --quick    # small sizes, a smoke run (~1 min)
.venv/bin/python -m bench.run --full     # adds 10k due among 100k and its baseline (slow)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

# (due, not due): M = 0, 10xN and 100xN at N=100; 0 and 10xN at N=1k; 10k due alone.
GRID = [(100, 0), (100, 1_000), (100, 10_000), (1_000, 0), (1_000, 10_000), (10_000, 0)]
THROUGHPUT = (1_000, 10_000)
QUICK_GRID = [(50, 0), (50, 500), (50, 5_000)]
QUICK_THROUGHPUT = (50, 500)
FULL_EXTRA = [(10_000, 100_000)]
FULL_THROUGHPUT = (10_000, 100_000)


def _meta(started: float, args: argparse.Namespace) -> dict[str, Any]:
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
        "mode": "quick" if args.quick else "full" if args.full else "default",
        "engine": args.dynamodb_endpoint or "moto (in-process)",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def _write(name: str, payload: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    size.add_argument("--full", action="store_true", help="add 10k due among 100k, with its baseline")
    parser.add_argument(
        "--only",
        choices=["sweep", "work", "api", "report", "coldstart"],
        action="append",
        help="run only these",
    )
    parser.add_argument(
        "--dynamodb-endpoint",
        help="time against DynamoDB Local at this URL instead of moto (not available on this machine)",
    )
    args = parser.parse_args(argv)
    if args.dynamodb_endpoint:
        parser.error("--dynamodb-endpoint: DynamoDB Local needs Java, which this machine lacks; moto only for now")
    logging.disable(logging.WARNING)
    only = set(args.only or ["sweep", "work", "api", "report", "coldstart"])

    from bench import report

    if "sweep" in only:
        from bench import sweep

        grid = QUICK_GRID if args.quick else GRID + (FULL_EXTRA if args.full else [])
        pair = QUICK_THROUGHPUT if args.quick else FULL_THROUGHPUT if args.full else THROUGHPUT
        started = time.perf_counter()
        runs = []
        for due, not_due in grid:
            runs.append(sweep.sweep_cost(due, not_due))
            print(f"  sweep {due} due among {not_due} not due: {runs[-1]['wall_s']} s", file=sys.stderr)
        _write("sweep_cost", {"meta": _meta(started, args), "runs": runs})
        started = time.perf_counter()
        reuse = next((r for r in runs if (r["due"], r["not_due"]) == pair), None)
        result = sweep.throughput(*pair, sweep_result=reuse)
        print(f"  baseline {pair}: {result['baseline']['wall_s']} s", file=sys.stderr)
        _write("sweep_throughput", {"meta": _meta(started, args), **result})
    if "work" in only:
        from bench import sweep_work

        started = time.perf_counter()
        work = sweep_work.measure(None, "this checkout", args.quick, 1 if args.quick else 5)
        print(f"  work per follow-up: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        _write("sweep_work", {"meta": _meta(started, args), **work})
    if "api" in only:
        from bench import api

        started = time.perf_counter()
        _write("api_work", {"meta": _meta(started, args), "operations": api.work_per_request(10 if args.quick else 30)})
        started = time.perf_counter()
        _write("api_latency", {"meta": _meta(started, args), "operations": api.latency(40 if args.quick else 200)})
    if "report" in only:
        from bench import report_cost

        started = time.perf_counter()
        runs = report_cost.report_cost(False, args.quick) + report_cost.report_cost(True, args.quick)
        print(f"  report: {len(runs)} reports, {time.perf_counter() - started:.1f} s", file=sys.stderr)
        _write("report_cost", {"meta": _meta(started, args), "runs": runs})
    if "coldstart" in only:
        from bench import coldstart

        started = time.perf_counter()
        _write("cold_start", {"meta": _meta(started, args), **coldstart.cold_start(3 if args.quick else 10)})

    print(report.table(RESULTS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
