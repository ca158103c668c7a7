"""Cold start as a user feels it: the init phase (importing the handler, which builds its
clients) and the first request, for each handler, side by side with `import boto3` and with
a floor handler on the same libraries and none of our code (`bench/floor_api.py`,
`bench/floor_sweeper.py`).

Each scenario (`bench/firstcall.py`) runs in a fresh interpreter, in phases: import, the
bench's setup (DynamoDB answered in process: `bench/fake_dynamodb.py`, from items written
on moto beforehand), then the first, second and a warm (third) request. For the API with
SnapStart, Lambda's runtime hooks run between import and the first request, as on a restore.

- Instructions (callgrind, `bench/callgrind.py`, PYTHONHASHSEED=0): one run per scenario,
  deterministic (two run at once: counts don't depend on the machine's load); the budgets
  are on these.
- Time: `runs` interleaved rounds of every scenario, the median of each, in wall time (what
  a user waits for) and in the process's CPU time (less moved by a busy machine). Report
  only: on 2 shared cores wall times vary 2x from one run to the next.

Every module (stdlib, libraries, ours, the floors) runs from bytecode, as in the artifact
`make package` ships: a temporary PYTHONPYCACHEPREFIX is filled by a first round, so
nothing is compiled while measuring. Report-only: the API's import with only the stdlib
compiled (a build not run through `make package`), and, when a `make package` build and
python3.13 are at hand, boto3 and the API on the built artifact.

    .venv/bin/python -m bench.coldstart [--runs N] [--functions DIR]   # prints the JSON

`--functions DIR` measures another checkout's code (DIR/functions first on the path): how
the "before" figures of docs/performance.md were made, from main's tree.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import callgrind
from bench.firstcall import SCENARIOS

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
FIRSTCALL = BENCH / "firstcall.py"
ARTIFACT = ROOT / ".aws-sam" / "build" / "ApiFunction"

# What a user waits for: the init phase and the first request.
FELT = ("import", "first")


def _env(pycache_prefix: Path | None, *, write_bytecode: bool = False, functions: Path | None = None) -> dict[str, str]:
    """Fake AWS settings; bytecode read from (and, when `write_bytecode`, written to)
    `pycache_prefix`, or else each module's __pycache__; `functions` first on the path."""
    drop = ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_")) and k not in drop}
    env.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        POWERTOOLS_SERVICE_NAME="inmail",
        POWERTOOLS_METRICS_NAMESPACE="InMail",
        PYTHONHASHSEED="0",
        # As template.yaml configures the sweeper: its init builds the fan-out queue's SQS
        # client; one due follow-up is below the threshold, so the first sweep sends nothing.
        FAN_OUT_QUEUE_URL="https://sqs.us-east-1.amazonaws.com/123456789012/inmail-fan-out",
        FAN_OUT_ABOVE="2000",
    )
    if not write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    if pycache_prefix is not None:
        env["PYTHONPYCACHEPREFIX"] = str(pycache_prefix)
    # Always on PYTHONPATH, so the import system searches the same path either way.
    env["PYTHONPATH"] = str(functions or ROOT / "functions")
    return env


def make_fixture(path: Path) -> None:
    """One contract, seat and two candidates, and a thread whose follow-up is due, written
    through the app on moto; saved with the events each scenario sends."""
    from bench.env import SEND, VIEWER, Stack, claims, recruiter_claims
    from inmail.domain import rules
    from inmail.store import codec
    from inmail.store.tables import table_names
    from support import T0, http_event

    with Stack() as stack:
        api = stack.api()
        api.mutate(
            "mutation($input: CreateContractInput!) { createContract(input: $input) { contract { id } "
            "userErrors { code } } }",
            claims("ops", "OPERATOR"),
            id="c0",
            name="Contract 0",
            monthlyCredits=1_000,
            maxDailyLimit=100,
            followUpsEnabled=True,
        )
        api.mutate(
            "mutation($input: AddSeatInput!) { addSeat(input: $input) { seat { recruiterId } userErrors { code } } }",
            claims("ops", "OPERATOR"),
            contractId="c0",
            recruiterId="r0",
            admin=False,
        )
        for kid in ("k0", "k1"):
            api.mutate(
                "mutation($input: UpsertCandidateInput!) { upsertCandidate(input: $input) { candidate { id } "
                "userErrors { code } } }",
                claims("ops", "OPERATOR"),
                candidateId=kid,
                name=f"Candidate {kid}",
            )
        who = recruiter_claims("r0", 1)
        sent = api.mutate(
            SEND, who, candidateId="k0", subject="A role", body="Hello", followUp={"body": "Ping", "delayDays": 3}
        )
        thread = stack.store.get_thread(sent["thread"]["id"])
        assert thread is not None and thread.scheduled_follow_up is not None
        due_at = thread.scheduled_follow_up.scheduled_for
        assert due_at is not None
        now = due_at + timedelta(minutes=1)
        send = {"query": SEND, "variables": {"input": {"candidateId": "k1", "subject": "Hi", "body": "Hello"}}}
        monthly = rules.credits_key("c0", T0)
        events = {
            "viewer": http_event("POST", json.dumps({"query": VIEWER}), who),
            "send": http_event("POST", json.dumps(send), who),
            "touch": http_event("POST", json.dumps({"query": f'mutation {{ touch(key: "{monthly}") }}'}), who),
            "sweep": {"time": now.isoformat().replace("+00:00", "Z"), "detail-type": "Scheduled Event"},
            "floor_sweep": {"shard": stack.store._thread_model(thread).due_shard, "time": codec.sortable(now)},
        }
        from bench import fake_dynamodb

        client = stack.store.transaction_client()
        fake_dynamodb.save(str(path), client, table_names(stack.settings), events=events)


def _run(mode: str, scenario: str, fixture: Path, env: dict[str, str], python: str = sys.executable) -> Any:
    done = subprocess.run(
        [python, str(FIRSTCALL), mode, scenario, str(fixture)], capture_output=True, text=True, env=env, cwd=BENCH
    )
    if done.returncode != 0:
        raise RuntimeError(f"{scenario} ({mode}) failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def count(scenario: str, fixture: Path, env: dict[str, str]) -> dict[str, int]:
    """Instructions of each phase of one run (the interpreter's startup and exit left out)."""
    parts = callgrind.instructions(
        [sys.executable, str(FIRSTCALL), "count", scenario, str(fixture)], env=env, cwd=BENCH
    )
    phases = SCENARIOS[scenario]
    if len(parts) != len(phases) + 2:
        raise RuntimeError(f"{scenario}: {len(parts)} callgrind parts for {len(phases)} phases")
    return dict(zip(phases, parts[1:-1], strict=True))


def felt(phases: dict[str, Any]) -> Any:
    return sum(phases[p] for p in FELT if p in phases)


def _stdlib_only(compiled: Path, into: Path) -> None:
    """The stdlib's share of a filled PYTHONPYCACHEPREFIX: the Lambda runtime ships its
    stdlib compiled, whatever the artifact holds."""
    stdlib = Path(sysconfig.get_path("stdlib"))
    stdlib = stdlib.relative_to(stdlib.anchor)  # where PYTHONPYCACHEPREFIX mirrors it
    if (compiled / stdlib).is_dir():
        shutil.copytree(compiled / stdlib, into / stdlib)


def lambda_python() -> tuple[str, str] | None:
    """A python3.13 that runs, and its version, looked up as the Makefile does: LAMBDA_PYTHON,
    then PATH (a pyenv shim may be there and fail), then pyenv's versions."""
    pyenv = sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.13*/bin/python3.13"))
    check = "import sys; print(sys.version.split()[0]); sys.exit(sys.version_info[:2] != (3, 13))"
    for candidate in (os.environ.get("LAMBDA_PYTHON"), shutil.which("python3.13"), *pyenv):
        if not candidate:
            continue
        try:
            done = subprocess.run([candidate, "-c", check], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0:
            return candidate, done.stdout.strip()
    return None


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def artifact_cold_start(fixture: Path, runs: int, root: Path = ARTIFACT) -> dict[str, Any]:
    """boto3, and the API's import + first sendInMail, from a `make package` build on
    python3.13, from its own __pycache__ dirs (read-only, as /var/task is)."""
    if not root.is_dir() or next(root.rglob("__pycache__"), None) is None:
        return {"skipped": f"no {_shown(root)} with bytecode: run `make package`"}
    found = lambda_python()
    if found is None:
        return {"skipped": "no python3.13 (set LAMBDA_PYTHON)"}
    python, version = found
    env = _env(None, functions=root)
    times: dict[str, list[float]] = {"boto3": [], "api-send": []}
    for _ in range(runs):
        for scenario, values in times.items():
            values.append(felt(_run("time", scenario, fixture, env, python)["wall"]))
    median = {s: round(statistics.median(v), 1) for s, v in times.items()}
    return {
        "path": _shown(root),
        "python": version,
        "felt_ms": median,
        "ratio_to_boto3": round(median["api-send"] / median["boto3"], 2),
    }


def cold_start(runs: int = 10, functions: Path | None = None, artifact: bool = True) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="coldstart-") as tmp:
        fixture, compiled, stdlib = Path(tmp, "fixture.json"), Path(tmp, "compiled"), Path(tmp, "stdlib-only")
        make_fixture(fixture)
        scenarios = [s for s in SCENARIOS if s != "api-primed" or _has_hooks(functions)]
        for scenario in scenarios:  # fills the bytecode prefix, and proves each one runs
            _run("time", scenario, fixture, _env(compiled, write_bytecode=True, functions=functions))
        _stdlib_only(compiled, stdlib)
        env = _env(compiled, functions=functions)
        # Counts don't depend on what else runs: two at a time, one per core.
        with ThreadPoolExecutor(max_workers=2) as pool:
            counted = pool.map(lambda s: count(s, fixture, env), scenarios)
            instructions = dict(zip(scenarios, counted, strict=True))
        times: dict[str, list[dict[str, dict[str, float]]]] = {s: [] for s in scenarios}
        without_bytecode: list[float] = []
        for _ in range(runs):
            for scenario in scenarios:
                times[scenario].append(_run("time", scenario, fixture, env))
            unbuilt = _run("time", "api-send", fixture, _env(stdlib, functions=functions))
            without_bytecode.append(unbuilt["wall"]["import"])
        found_artifact = artifact_cold_start(fixture, runs) if artifact else {"skipped": "not asked"}

    def median(values: list[float]) -> float:
        return round(statistics.median(values), 1)

    def by_phase(clock: str) -> dict[str, dict[str, float]]:
        return {s: {p: median([r[clock][p] for r in rs]) for p in SCENARIOS[s]} for s, rs in times.items()}

    def felt_by(clock: str) -> dict[str, float]:
        return {s: median([felt(r[clock]) for r in rs]) for s, rs in times.items()}

    return {
        "runs": runs,
        "python": sys.version.split()[0],
        "code": str(functions) if functions else "this checkout",
        "bytecode": "every module compiled beforehand (a temporary PYTHONPYCACHEPREFIX), as `make package` ships it",
        "felt": "import + first request (the init phase and the first invocation)",
        "instructions": instructions,
        "felt_instructions": {s: felt(p) for s, p in instructions.items()},
        "times_ms": by_phase("wall"),
        "felt_ms": felt_by("wall"),
        "felt_all_ms": {s: [round(felt(r["wall"]), 1) for r in rs] for s, rs in times.items()},
        "cpu_times_ms": by_phase("cpu"),
        "felt_cpu_ms": felt_by("cpu"),
        "api_import_without_bytecode_ms": median(without_bytecode),
        "artifact": found_artifact,
    }


def _has_hooks(functions: Path | None) -> bool:
    """Whether the code measured registers SnapStart hooks (the code before this bench didn't)."""
    env = _env(None, functions=functions)
    probe = "import inmail.handlers.api, snapshot_restore_py as s; print(len(s.get_before_snapshot()))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=BENCH)
    return done.returncode == 0 and done.stdout.strip() not in ("", "0")


def summary(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(what, instructions, time) rows: the table of docs/performance.md. Times are medians,
    wall (CPU)."""
    ins, steps = result["felt_instructions"], result["instructions"]
    wall, cpu = result["felt_ms"], result.get("felt_cpu_ms", {})
    wall_by, cpu_by = result["times_ms"], result.get("cpu_times_ms", {})

    def m(x: float) -> str:
        return f"{x / 1e6:,.0f} M"

    def ms(w: float, c: float | None, digits: int = 0) -> str:
        return f"{w:.{digits}f} ms" + (f" ({c:.{digits}f})" if c is not None else "")

    rows = [
        ("import boto3", m(ins["boto3"]), ms(wall["boto3"], cpu.get("boto3"))),
        (
            "API: import",
            m(steps["api-send"]["import"]),
            ms(wall_by["api-send"]["import"], cpu_by.get("api-send", {}).get("import")),
        ),
    ]
    named = [
        ("floor-api", "API floor: import + first request"),
        ("api-viewer", "API: import + first viewer"),
        ("api-send", "API: import + first sendInMail"),
        ("floor-sweeper", "sweeper floor: import + first sweep"),
        ("sweeper", "sweeper: import + first sweep of one due follow-up"),
    ]
    for scenario, what in named:
        if scenario in ins:
            rows.append((what, m(ins[scenario]), ms(wall[scenario], cpu.get(scenario))))
    if "api-primed" in steps:
        primed, w, c = steps["api-primed"], wall_by["api-primed"], cpu_by.get("api-primed", {})
        rows.append(
            (
                "API with SnapStart: after-restore hook; first sendInMail; a warm one",
                f"{m(primed['after_restore'])}; {m(primed['first'])}; {m(primed['warm'])}",
                "; ".join(ms(w[p], c.get(p), 1) for p in ("after_restore", "first", "warm")),
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--functions", type=Path, help="measure this functions/ dir's code instead")
    parser.add_argument("--label", help="what the code measured is (kept in the result)")
    args = parser.parse_args(argv)
    result = cold_start(args.runs, args.functions.resolve() if args.functions else None, artifact=False)
    if args.label:
        result["code"] = args.label
    print(json.dumps(result, indent=2))
    for row in summary(result):
        print(" | ".join(row), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
