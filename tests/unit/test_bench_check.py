"""`make bench-check` fails on a broken budget and passes on figures within budget. It reads
JSON only: these tests feed it results written here, and run no benchmark."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

CHECK = Path(__file__).resolve().parents[2] / "bench" / "check.py"


@pytest.fixture(scope="module")
def check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_check", CHECK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _run(due: int, not_due: int, read: float = 5.2, due_index: float = 1.0) -> dict[str, Any]:
    return {
        "due": due,
        "not_due": not_due,
        "per_follow_up": {"items_read": read, "due_index_reads": due_index, "requests": 7.0, "items_written": 3.0},
    }


def _op(requests: float, read: float, written: float) -> dict[str, Any]:
    return {"requests": requests, "items_read": read, "items_written": written, "requests_by_operation": {}}


GOOD: dict[str, dict[str, Any]] = {
    "sweep_cost": {"runs": [_run(100, 0), _run(100, 1_000), _run(100, 10_000, read=5.3), _run(1_000, 0)]},
    "sweep_throughput": {
        "due": 1_000,
        "not_due": 10_000,
        "ratio": {"round_trips": 7.9, "items_read": 2.9, "wall_clock_moto": 1.5},
    },
    "api_work": {
        "operations": {
            "sendInMail": _op(4, 3, 4),
            "sendInMail+followUp": _op(4, 3, 5),
            "scheduleFollowUp": _op(5, 4, 3),
            "replyToInMail": _op(2, 1, 4),
        }
    },
    "cold_start": {
        "median_ms": {"boto3": 170.0, "inmail.handlers.api": 450.0, "inmail.handlers.sweeper": 200.0},
        "ratio_to_boto3": {
            "inmail.handlers.api": 2.45,
            "inmail.handlers.sweeper": 1.18,
            "api libraries alone": 2.0,
        },
        "api_over_its_libraries": 1.22,
    },
}


def _write(tmp_path: Path, results: dict[str, dict[str, Any]]) -> Path:
    for name, payload in results.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(payload))
    return tmp_path


def _doctored(path: tuple[Any, ...], value: Any) -> dict[str, dict[str, Any]]:
    results = copy.deepcopy(GOOD)
    target: Any = results
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return results


def test_results_within_budget_pass(check: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check.main(["--results", str(_write(tmp_path, GOOD))]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out
    assert "WAIVED" in out  # the API's 2x boto3 cold start is a documented, waived budget


def test_an_api_cold_start_within_2x_passes_unwaived(
    check: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        check.main(
            [
                "--results",
                str(_write(tmp_path, _doctored(("cold_start", "ratio_to_boto3", "inmail.handlers.api"), 1.9))),
            ]
        )
        == 0
    )
    assert "WAIVED" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "path, value",
    [
        # items read per due follow-up grew with the table (a Scan crept in)
        (("sweep_cost", "runs", 2, "per_follow_up", "items_read"), 5.2 * 1.2),
        # the due index returned more than the due follow-ups
        (("sweep_cost", "runs", 1, "per_follow_up", "due_index_reads"), 1.5),
        (("sweep_throughput", "ratio", "round_trips"), 4.0),
        (("api_work", "operations", "sendInMail", "requests"), 5),
        (("api_work", "operations", "replyToInMail", "items_written"), 6),
        (("api_work", "operations", "scheduleFollowUp", "items_read"), 9),
        (("cold_start", "api_over_its_libraries"), 1.6),
        # the API's cold start crept past where the waiver holds it
        (("cold_start", "ratio_to_boto3", "inmail.handlers.api"), 3.1),
        (("cold_start", "ratio_to_boto3", "inmail.handlers.sweeper"), 2.5),
    ],
)
def test_a_broken_budget_fails(check: ModuleType, tmp_path: Path, path: tuple[Any, ...], value: Any) -> None:
    assert check.main(["--results", str(_write(tmp_path, _doctored(path, value)))]) == 1


def test_missing_or_unreadable_results_fail(check: ModuleType, tmp_path: Path) -> None:
    partial = {k: v for k, v in GOOD.items() if k != "api_work"}
    assert check.main(["--results", str(_write(tmp_path, partial))]) == 1
    (tmp_path / "api_work.json").write_text(json.dumps({"operations": {"sendInMail": {}}}))
    assert check.main(["--results", str(tmp_path)]) == 1


def test_make_bench_check_exits_1_on_a_broken_result(tmp_path: Path) -> None:
    """The command itself, as `make bench-check` runs it (exit code, not just main())."""
    import subprocess

    broken = _write(tmp_path, _doctored(("sweep_throughput", "ratio", "round_trips"), 1.0))
    done = subprocess.run([sys.executable, str(CHECK), "--results", str(broken)], capture_output=True, text=True)
    assert done.returncode == 1, done.stdout
    assert "FAIL" in done.stdout
