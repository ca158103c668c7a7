"""Sweeps in one process, in phases, for `bench/sweep_work.py`: the CPU a follow-up costs.

    python bench/sweepcall.py {count|time} SCENARIO FIXTURE

DynamoDB (and SQS) are answered in process at botocore's transport (`bench/fake_dynamodb.py`,
from the items saved in FIXTURE), so what is counted is the handler, our code and its
libraries: no network, no moto. Phases: import the handler, setup, a first invocation (it
loads what a first call loads), then a warm one, which is what is measured. With `count`
each phase ends with a mark for callgrind (`bench/callgrind.py`); with `time`, its wall and
CPU milliseconds are printed as JSON.

Scenarios (what the warm invocation does with every due follow-up of the fixture):
- `sweep`: the sweeper settles them all itself (run_sweep, as the handler calls it);
- `hand-off`: the sweeper hands them all to the fan-out queue (leases, SendMessageBatch);
- `worker`: the fan-out worker settles them from one SQS batch.
"""

from __future__ import annotations

import json
import os
import sys
import time

PHASES = ("import", "setup", "first", "warm")
MODULES = {
    "sweep": "inmail.handlers.sweeper",
    "hand-off": "inmail.handlers.sweeper",
    "worker": "inmail.handlers.sweep_worker",
}


class Context:
    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def __init__(self, request_id: str):
        self.aws_request_id = request_id

    def get_remaining_time_in_millis(self) -> int:
        return 600_000


def main(mode: str, scenario: str, fixture: str) -> None:
    marks: list[tuple[float, float]] = []

    def mark() -> None:
        if mode == "count":
            os.getppid()
        else:
            marks.append((time.perf_counter(), time.process_time()))

    mark()
    module = __import__(MODULES[scenario], fromlist=["handler"])
    mark()
    import fake_dynamodb

    saved = fake_dynamodb.install(fixture)
    event = saved["events"]["worker" if scenario == "worker" else "sweep"]
    expected = saved["due"]
    mark()
    results = []
    for i in range(2):
        if scenario == "hand-off":  # the fake stores nothing: they are due again, but remembered
            module.recent_hand_offs = type(module.recent_hand_offs)()
        results.append(module.handler(event, Context(f"bench-{scenario}-{i}")))
        mark()
    for result in results:
        if not _did_its_work(scenario, result, expected):
            raise SystemExit(f"{scenario}: did not settle or hand off all {expected}: {result}")
    if mode == "time":
        spans = list(zip(PHASES, marks[:-1], marks[1:], strict=True))
        print(
            json.dumps(
                {
                    "wall": {p: round((b[0] - a[0]) * 1000, 3) for p, a, b in spans},
                    "cpu": {p: round((b[1] - a[1]) * 1000, 3) for p, a, b in spans},
                }
            )
        )


def _did_its_work(scenario: str, result: dict[str, object], expected: int) -> bool:
    if scenario == "worker":
        return result.get("batchItemFailures") == []
    if scenario == "hand-off":
        return result.get("handed_off") == expected
    return result.get("delivered") == expected


if __name__ == "__main__":
    main(*sys.argv[1:4])
