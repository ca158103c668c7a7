"""Cold start: the import time of each handler module in a fresh interpreter
(`python -X importtime`), against `import boto3` in the same run. Runs are interleaved and
the median kept, so a busy machine slows all three alike."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
from collections import Counter
from typing import Any

# What the API handler cannot do without: the libraries alone, none of our code.
FLOOR = "strawberry.asgi, mangum, pynamodb.models, aws_lambda_powertools.logging, aws_lambda_powertools.metrics"
MODULES = ("boto3", "inmail.handlers.api", "inmail.handlers.sweeper", FLOOR)
NAMES = {FLOOR: "api libraries alone"}
LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
    env.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        POWERTOOLS_SERVICE_NAME="inmail",
        POWERTOOLS_METRICS_NAMESPACE="InMail",
    )
    return env


def import_once(module: str) -> tuple[float, Counter[str]]:
    """Milliseconds to import `module` (its cumulative importtime; for a list, the sum of
    each's), and the self time per top-level package."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        env=_env(),
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


def cold_start(runs: int = 7) -> dict[str, Any]:
    times: dict[str, list[float]] = {m: [] for m in MODULES}
    packages: dict[str, Counter[str]] = {m: Counter() for m in MODULES}
    for _ in range(runs):
        for module in MODULES:
            ms, by_package = import_once(module)
            times[module].append(ms)
            packages[module].update(by_package)
    median = {NAMES.get(m, m): round(statistics.median(v), 1) for m, v in times.items()}
    out: dict[str, Any] = {
        "runs": runs,
        "median_ms": median,
        "all_ms": {NAMES.get(m, m): [round(x, 1) for x in v] for m, v in times.items()},
        "ratio_to_boto3": {m: round(ms / median["boto3"], 2) for m, ms in median.items() if m != "boto3"},
        "api_over_its_libraries": round(median["inmail.handlers.api"] / median[NAMES[FLOOR]], 2),
        "libraries": FLOOR,
        "top_packages_ms": {
            m: {name: round(us / runs / 1000, 1) for name, us in packages[m].most_common(12)}
            for m in ("inmail.handlers.api", "inmail.handlers.sweeper")
        },
        "python": sys.version.split()[0],
    }
    return out
