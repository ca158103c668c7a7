"""Logs: every module's lines are Powertools JSON with the correlation id, whatever
POWERTOOLS_SERVICE_NAME says, and each line is printed once.

Each case runs in a fresh interpreter, since the Powertools singletons are made at import
from the environment, as on a cold start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"

# Like a Lambda cold start: the runtime's root handler exists before the handler module is
# imported; then the sweeper sets the sweep's id as the correlation id and a module logs.
SCRIPT = """
import logging, sys
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="ROOT %(name)s %(message)s")
from inmail.observability import logger
logger.set_correlation_id("sweep-42")
logging.getLogger("inmail.services.sweep").warning("store unavailable for thread t1")
logger.info("sweep finished")
"""


def run(service: str | None) -> tuple[list[dict[str, object]], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_")}
    env["PYTHONPATH"] = str(FUNCTIONS)
    if service is not None:
        env["POWERTOOLS_SERVICE_NAME"] = service
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()], done.stderr


@pytest.mark.parametrize("service", [None, "inmail", "followups-prod", "inmail.prod"])
def test_module_logs_are_json_with_the_correlation_id_whatever_the_service_name(service: str | None) -> None:
    lines, stderr = run(service)
    assert [line["message"] for line in lines] == ["store unavailable for thread t1", "sweep finished"]
    for line in lines:
        assert line["correlation_id"] == "sweep-42"
        assert line["service"] == (service or "inmail")
    assert lines[0]["level"] == "WARNING"
    assert "ROOT" not in stderr  # not printed a second time, as text, by the root handler
