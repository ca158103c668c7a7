"""The one table `make bench` prints: the figures, then each budget and its status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.check import render, verdicts


def _load(results: Path, name: str) -> dict[str, Any] | None:
    path = results / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _row(cells: list[str], widths: list[int]) -> str:
    return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([_row(header, widths), sep, *(_row(r, widths) for r in rows)])


def table(results: Path) -> str:
    rows: list[list[str]] = []
    sweep = _load(results, "sweep_cost")
    for run in (sweep or {}).get("runs", []):
        p = run["per_follow_up"]
        rows.append(
            [
                f"sweep N={run['due']} M={run['not_due']}",
                f"{p['items_read']:.2f} read, {p['due_index_reads']:.2f} due-index, {p['requests']:.2f} req, "
                f"{p['items_written']:.2f} written /follow-up",
                f"{run['wall_s']:.1f} s, {run['per_second']:.0f}/s",
            ]
        )
    tp = _load(results, "sweep_throughput")
    if tp:
        b = tp["baseline"]
        r = tp["ratio"]
        rows.append(
            [
                f"scan baseline N={tp['due']} M={tp['not_due']}",
                f"{b['per_follow_up']['items_read']:.2f} read, {b['per_follow_up']['requests']:.2f} req /follow-up",
                f"{b['wall_s']:.1f} s, {b['per_second']:.0f}/s",
            ]
        )
        rows.append(
            [
                "sweep / baseline",
                f"round trips {r['round_trips']:.1f}x, items read {r['items_read']:.1f}x",
                f"moto wall {r['wall_clock_moto']:.1f}x",
            ]
        )
    work = _load(results, "api_work")
    for name, op in ((work or {}).get("operations") or {}).items():
        rows.append(
            [
                f"work {name}",
                f"{op['requests']:g} req ({', '.join(f'{k} {v:g}' for k, v in op['requests_by_operation'].items())}), "
                f"{op['items_read']:g} read, {op['items_written']:g} written",
                f"{op['write_units']:g} write units" if "write_units" in op else "",
            ]
        )
    rc = _load(results, "report_cost")
    for run in (rc or {}).get("runs", []):
        requests = ", ".join(f"{k} {v}" for k, v in sorted(run["requests"].items()))
        rows.append(
            [
                f"inMailReport R={run['recruiters']} D={run['days']} threads={run['threads']}",
                f"{run['total_requests']} req ({requests}), {run['total_items_read']} read "
                f"({run['threads_in_range']} threads in range); tables: {', '.join(run['tables'])}",
                f"{run['wall_ms']:.0f} ms (moto), {run['outside_dynamodb_ms']:.0f} ms ours",
            ]
        )
    sw = _load(results, "sweep_work")
    for key, run in ((sw or {}).get("counts") or {}).items():
        p = run["per_follow_up"]
        rows.append(
            [
                f"follow-up {key}",
                f"{p['round_trips']:g} round trips, {p['requests']:g} DynamoDB req, "
                f"{p.get('sqs_requests', 0):g} SQS req, {p['write_units']:g} WCU, {p['read_units']:g} RCU",
                f"{run['moto_wall_s']:.1f} s on moto",
            ]
        )
    for scenario, c in ((sw or {}).get("cpu") or {}).items():
        rows.append(
            [
                f"follow-up CPU {scenario}",
                f"{c['instructions_per_follow_up'] / 1e6:.1f} M instructions",
                f"{c['cpu_ms_per_follow_up']:.2f} ms CPU, {c['wall_ms_per_follow_up']:.2f} ms wall",
            ]
        )
    lat = _load(results, "api_latency")
    for name, op in ((lat or {}).get("operations") or {}).items():
        rows.append(
            [
                f"latency {name}",
                f"p50 {op['p50_ms']:.1f} ms, p95 {op['p95_ms']:.1f} ms, {op['dynamodb_calls_per_request']:g} calls",
                f"handler/DynamoDB {op['handler_over_dynamodb']:.2f}x",
            ]
        )
    cs = _load(results, "cold_start")
    if cs and "instructions" in cs:
        from bench.coldstart import summary

        for what, instructions, ms in summary(cs):
            rows.append([f"cold start: {what}", f"{instructions} instructions", ms])
    figures = _table(["measure", "figures", "time"], rows) if rows else "(no results)"
    return figures + "\n\nBudgets (make bench-check):\n" + render(verdicts(results))
