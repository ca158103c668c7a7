"""One cold start, in phases: run by `bench/coldstart.py` in a fresh interpreter.

    python bench/firstcall.py {count|time} SCENARIO FIXTURE

Each phase runs between two marks: with `count`, a mark is a call of os.getppid(), where
callgrind (`bench/callgrind.py`) starts a new count; with `time`, the clocks are read (wall
and this process's CPU time) and each phase's milliseconds printed as JSON at the end.

This file imports nothing before the first phase but what the interpreter has already
loaded, so the `import` phase is the handler's alone; the fake DynamoDB
(`bench/fake_dynamodb.py`) is installed after it, in `setup`.
"""

from __future__ import annotations

import os
import sys
import time

# The phases of each scenario, in order. `first` is the first request (or sweep); `warm`
# the third, when everything the first one loaded or built is in place.
REQUESTS = ("first", "second", "warm")
SCENARIOS: dict[str, tuple[str, ...]] = {
    "boto3": ("import",),
    "api-viewer": ("import", "setup", *REQUESTS),
    "api-send": ("import", "setup", *REQUESTS),
    "api-primed": ("import", "setup", "before_snapshot", "after_restore", *REQUESTS),
    "floor-api": ("import", "setup", *REQUESTS),
    "sweeper": ("import", "setup", *REQUESTS),
    "floor-sweeper": ("import", "setup", *REQUESTS),
}
# What each scenario imports, and which of the fixture's events it handles.
MODULES = {
    "boto3": "boto3",
    "api-viewer": "inmail.handlers.api",
    "api-send": "inmail.handlers.api",
    "api-primed": "inmail.handlers.api",
    "floor-api": "floor_api",
    "sweeper": "inmail.handlers.sweeper",
    "floor-sweeper": "floor_sweeper",
}
EVENTS = {
    "api-viewer": "viewer",
    "api-send": "send",
    "api-primed": "send",
    "floor-api": "touch",
    "sweeper": "sweep",
    "floor-sweeper": "floor_sweep",
}


class Context:
    """What the handlers and Powertools read of Lambda's context."""

    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench-request"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def run_hooks(which: str) -> None:
    """As Lambda's runtime runs them: before the snapshot in reverse order of registration,
    after a restore in order."""
    import snapshot_restore_py

    if which == "before_snapshot":
        hooks = list(reversed(snapshot_restore_py.get_before_snapshot()))
    else:
        hooks = list(snapshot_restore_py.get_after_restore())
    if not hooks:
        raise SystemExit(f"no {which} hook registered")
    for func, args, kwargs in hooks:
        func(*args, **kwargs)


def check(scenario: str, response: dict[str, object]) -> None:
    """Each request did its work: a follow-up delivered, or GraphQL data without errors or
    userErrors (a refusal would be a cheaper request than the one meant)."""
    import json

    if scenario.endswith("sweeper"):
        ok = response.get("delivered") == 1
    else:
        body = json.loads(str(response["body"]))
        payloads = (body.get("data") or {}).values()
        refused = any(isinstance(p, dict) and p.get("userErrors") for p in payloads)
        ok = response["statusCode"] == 200 and bool(body.get("data")) and not body.get("errors") and not refused
    if not ok:
        raise SystemExit(f"{scenario}: the request did not do its work: {response}")


def main(mode: str, scenario: str, fixture: str) -> None:
    marks: list[tuple[float, float]] = []

    def mark() -> None:
        if mode == "count":
            os.getppid()
        else:
            marks.append((time.perf_counter(), time.process_time()))

    phases = SCENARIOS[scenario]
    responses = []
    mark()
    module = __import__(MODULES[scenario], fromlist=["handler"])
    mark()
    if "setup" in phases:
        import fake_dynamodb

        event = fake_dynamodb.install(fixture)["events"][EVENTS[scenario]]
        context = Context()
        mark()
    for phase in phases[2:]:
        if phase in ("before_snapshot", "after_restore"):
            run_hooks(phase)
        else:
            responses.append(module.handler(event, context))
        mark()
    for response in responses:
        check(scenario, response)
    if mode == "time":
        import json

        spans = list(zip(phases, marks[:-1], marks[1:], strict=True))
        wall = {p: round((b[0] - a[0]) * 1000, 3) for p, a, b in spans}
        cpu = {p: round((b[1] - a[1]) * 1000, 3) for p, a, b in spans}
        print(json.dumps({"wall": wall, "cpu": cpu}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
