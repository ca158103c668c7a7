"""Cold start: the import time of each handler module in a fresh interpreter
(`python -X importtime`), against `import boto3` in the same run. Every module (stdlib,
libraries, ours) imports from bytecode, as in the artifact `make package` ships: a temporary
PYTHONPYCACHEPREFIX is filled first, so nothing is compiled while measuring. Runs are
interleaved and the median kept, so a busy machine slows all alike.

Report-only: the API handler with only the stdlib compiled (`api_without_bytecode_ms`, a
build not run through `make package`), and, when a `make package` build and python3.13 are
at hand, boto3 and the API handler imported from .aws-sam/build/ApiFunction (`artifact`)."""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ARTIFACT = ROOT / ".aws-sam" / "build" / "ApiFunction"
API = "inmail.handlers.api"
# What the API handler cannot do without: the libraries alone, none of our code.
FLOOR = "strawberry.http.sync_base_view, pynamodb.models, aws_lambda_powertools.logging, aws_lambda_powertools.metrics"
MODULES = ("boto3", API, "inmail.handlers.sweeper", FLOOR)
NAMES = {FLOOR: "api libraries alone"}
LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def _env(pycache_prefix: Path | None, *, write_bytecode: bool = False, path: Path | None = None) -> dict[str, str]:
    """The environment of one import: fake AWS settings, bytecode read from (and, when
    `write_bytecode`, written to) `pycache_prefix` or else each module's __pycache__."""
    drop = ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX") + (("PYTHONPATH",) if path else ())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_")) and k not in drop}
    env.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        POWERTOOLS_SERVICE_NAME="inmail",
        POWERTOOLS_METRICS_NAMESPACE="InMail",
    )
    if not write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    if pycache_prefix is not None:
        env["PYTHONPYCACHEPREFIX"] = str(pycache_prefix)
    if path is not None:
        env["PYTHONPATH"] = str(path)
    return env


def compile_into(prefix: Path, modules: tuple[str, ...] = MODULES) -> None:
    """Import each module once, writing the bytecode of everything it imports under `prefix`."""
    for module in modules:
        subprocess.run(
            [sys.executable, "-c", f"import {module}"],
            capture_output=True,
            env=_env(prefix, write_bytecode=True),
            check=True,
        )


def stdlib_only(compiled: Path, into: Path) -> None:
    """Copy the stdlib's share of a filled PYTHONPYCACHEPREFIX: the Lambda runtime ships its
    stdlib compiled, whatever the artifact holds."""
    stdlib = Path(sysconfig.get_path("stdlib"))
    stdlib = stdlib.relative_to(stdlib.anchor)  # where PYTHONPYCACHEPREFIX mirrors it
    if (compiled / stdlib).is_dir():
        shutil.copytree(compiled / stdlib, into / stdlib)


def import_once(
    module: str, pycache_prefix: Path | None = None, python: str = sys.executable, path: Path | None = None
) -> tuple[float, Counter[str]]:
    """Milliseconds to import `module` (its cumulative importtime; for a list, the sum of
    each's), and the self time per top-level package. Writes no bytecode."""
    done = subprocess.run(
        [python, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        env=_env(pycache_prefix, path=path),
        cwd=path,
        check=True,
    )
    total = 0.0
    names = {name.strip() for name in module.split(",")}
    by_package: Counter[str] = Counter()
    for line in done.stderr.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        self_us, cumulative_us, _, name = m.groups()
        by_package[name.split(".")[0]] += int(self_us)
        if name in names and len(m.group(3)) == 1:  # imported by the statement itself
            total += int(cumulative_us) / 1000
    return total, by_package


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


def artifact_cold_start(runs: int, root: Path = ARTIFACT) -> dict[str, Any]:
    """boto3 and the API handler imported from a `make package` build, on python3.13, from its
    own __pycache__ dirs (read-only, as /var/task is)."""
    if not root.is_dir() or next(root.rglob("__pycache__"), None) is None:
        return {"skipped": f"no {_shown(root)} with bytecode: run `make package`"}
    found = lambda_python()
    if found is None:
        return {"skipped": "no python3.13 (set LAMBDA_PYTHON)"}
    python, version = found
    times: dict[str, list[float]] = {"boto3": [], API: []}
    for _ in range(runs):
        for module, values in times.items():
            values.append(import_once(module, python=python, path=root)[0])
    median = {m: round(statistics.median(v), 1) for m, v in times.items()}
    return {
        "path": _shown(root),
        "python": version,
        "median_ms": median,
        "all_ms": {m: [round(x, 1) for x in v] for m, v in times.items()},
        "ratio_to_boto3": round(median[API] / median["boto3"], 2),
    }


def cold_start(runs: int = 7) -> dict[str, Any]:
    times: dict[str, list[float]] = {m: [] for m in MODULES}
    without_bytecode: list[float] = []
    packages: dict[str, Counter[str]] = {m: Counter() for m in MODULES}
    with tempfile.TemporaryDirectory(prefix="coldstart-") as tmp:
        compiled, stdlib = Path(tmp, "compiled"), Path(tmp, "stdlib-only")
        compile_into(compiled)
        stdlib_only(compiled, stdlib)
        for _ in range(runs):
            for module in MODULES:
                ms, by_package = import_once(module, compiled)
                times[module].append(ms)
                packages[module].update(by_package)
            without_bytecode.append(import_once(API, stdlib)[0])
    median = {NAMES.get(m, m): round(statistics.median(v), 1) for m, v in times.items()}
    api_without = round(statistics.median(without_bytecode), 1)
    out: dict[str, Any] = {
        "runs": runs,
        "bytecode": "every module compiled beforehand (a temporary PYTHONPYCACHEPREFIX), as `make package` ships it",
        "median_ms": median,
        "all_ms": {NAMES.get(m, m): [round(x, 1) for x in v] for m, v in times.items()},
        "ratio_to_boto3": {m: round(ms / median["boto3"], 2) for m, ms in median.items() if m != "boto3"},
        "api_over_its_libraries": round(median[API] / median[NAMES[FLOOR]], 2),
        "libraries": FLOOR,
        "api_without_bytecode_ms": api_without,
        "api_without_bytecode_all_ms": [round(x, 1) for x in without_bytecode],
        "api_bytecode_saves_ms": round(api_without - median[API], 1),
        "top_packages_ms": {
            m: {name: round(us / runs / 1000, 1) for name, us in packages[m].most_common(12)}
            for m in (API, "inmail.handlers.sweeper")
        },
        "python": sys.version.split()[0],
        "artifact": artifact_cold_start(runs),
    }
    return out
