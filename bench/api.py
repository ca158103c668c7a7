"""Work per request (DynamoDB requests, items read and written) and in-process latency of
the Lambda handler (API Gateway v2 event -> GraphQLHttp -> Strawberry -> services -> moto)."""

from __future__ import annotations

import math
import statistics
import time
from typing import Any

from bench.env import (
    AWAITING,
    OPERATOR,
    REPLY,
    SCHEDULE,
    SEND,
    SEND_MANY,
    UPSERT_CANDIDATE,
    VIEWER,
    Stack,
    claims,
    provision,
    recruiter_claims,
)
from inmail.store.metering import CallTimer

CONTRACTS = 1
BATCH = 25  # R90's largest batch
BATCHES = 3  # samples of each batch operation (their counts do not vary)
# A realistic InMail: placeholders in the subject and a body of some 600 characters.
BULK_SUBJECT = "{firstName|Hello}, a role at {contractName}"
BULK_BODY = "Hi {firstName|there}, " + "I came across your profile and think you would be a great fit. " * 9


def _send(api: Any, who: dict[str, Any], kid: str, follow_up: bool) -> str:
    extra: dict[str, Any] = {"followUp": {"body": "Just checking in", "delayDays": 3}} if follow_up else {}
    payload = api.mutate(SEND, who, candidateId=kid, subject="A role for you", body="Hello", **extra)
    thread_id: str = payload["thread"]["id"]
    return thread_id


def work_per_request(samples: int = 20) -> dict[str, Any]:
    """Each operation `samples` times on its own thread; the mean per request."""
    with Stack() as stack:
        api = stack.api()
        rids, kids = provision(api, CONTRACTS, 1, samples)
        who = recruiter_claims(rids[0], CONTRACTS)
        plain = [_send(api, who, kid, False) for kid in kids]
        scheduled = [_send(api, who, kid, True) for kid in kids]
        out: dict[str, Any] = {}

        def metered(name: str, calls: list[dict[str, Any]]) -> None:
            events = [api.event(*call) for call in calls]  # built outside the meter
            with stack.metered() as meter:
                for event in events:
                    api.call(event)
            n = len(calls)
            out[name] = {
                "samples": n,
                "requests": round(sum(meter.requests.values()) / n, 2),
                "requests_by_operation": {k: round(v / n, 2) for k, v in sorted(meter.requests.items())},
                "items_read": round(meter.total_read / n, 2),
                "items_written": round(meter.items_written / n, 2),
                "write_units": round(meter.write_units / n, 2),
            }

        follow_up = {"body": "Just checking in", "delayDays": 3}
        metered(
            "sendInMail",
            [(SEND, {"input": {"candidateId": kid, "subject": "Hi", "body": "Hello"}}, who) for kid in kids],
        )
        metered(
            "sendInMail+followUp",
            [
                (SEND, {"input": {"candidateId": kid, "subject": "Hi", "body": "Hello", "followUp": follow_up}}, who)
                for kid in kids
            ],
        )
        metered(
            "scheduleFollowUp",
            [(SCHEDULE, {"input": {"threadId": tid, "body": "Ping", "delayDays": 3}}, who) for tid in plain],
        )
        metered(
            "replyToInMail",  # with a scheduled follow-up: the reply deletes it and refunds (R05)
            [
                (REPLY, {"input": {"threadId": tid, "body": "Interested!"}}, claims(kid, "CANDIDATE"))
                for tid, kid in zip(scheduled, kids, strict=True)
            ],
        )
        # R90: batches of 25 with an idempotency key, each on candidates of its own; then the
        # same batches again (a retry: the results replayed, nothing written).
        bulk_kids = [f"b{i}" for i in range(BATCHES * BATCH)]
        for kid in bulk_kids:
            api.mutate(UPSERT_CANDIDATE, OPERATOR, candidateId=kid, name=f"Candidate {kid}", firstName="Kim")
        batches = [bulk_kids[i * BATCH : (i + 1) * BATCH] for i in range(BATCHES)]

        def bulk(tag: str, follow_up: bool) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
            extra: dict[str, Any] = {"followUp": {"body": BULK_BODY, "delayDays": 3}} if follow_up else {}
            return [
                (
                    SEND_MANY,
                    {
                        "input": {
                            "candidateIds": ids,
                            "subject": BULK_SUBJECT,
                            "body": BULK_BODY,
                            "idempotencyKey": f"{tag}-{i}",
                            **extra,
                        }
                    },
                    who,
                )
                for i, ids in enumerate(batches)
            ]

        metered(f"sendInMails({BATCH})", bulk("plain", False))
        metered(f"sendInMails({BATCH})+followUp", bulk("fu", True))
        metered(f"sendInMails({BATCH}) retried", bulk("plain", False))
    return out


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[index]


def latency(samples: int = 150, threads: int = 40) -> dict[str, Any]:
    """p50/p95 of the handler per operation, and handler time over DynamoDB call time."""
    with Stack() as stack:
        api = stack.api()
        rids, kids = provision(api, CONTRACTS, 1, 50)
        who = recruiter_claims(rids[0], CONTRACTS)
        for i in range(threads):
            _send(api, who, kids[i % len(kids)], i % 2 == 0)
        timer = CallTimer().attach(stack.store)
        counter = iter(range(10**9))

        def send_event() -> dict[str, Any]:
            kid = kids[next(counter) % len(kids)]
            return api.event(SEND, {"input": {"candidateId": kid, "subject": "Hi", "body": "Hello"}}, who)

        cases = {
            "viewer": lambda: api.event(VIEWER, {}, who),
            "sendInMail": send_event,
            "awaitingReply(first: 20)": lambda: api.event(AWAITING, {"first": 20}, who),
        }
        out: dict[str, Any] = {}
        try:
            for name, make in cases.items():
                for _ in range(5):  # warm up (first-call caches) outside the figures
                    api.call(make())
                times: list[float] = []
                timer.reset()
                for _ in range(samples):
                    event = make()
                    start = time.perf_counter()
                    api.call(event)
                    times.append(time.perf_counter() - start)
                handler_s = sum(times)
                out[name] = {
                    "samples": samples,
                    "p50_ms": round(_percentile(times, 0.50) * 1000, 2),
                    "p95_ms": round(_percentile(times, 0.95) * 1000, 2),
                    "mean_ms": round(statistics.fmean(times) * 1000, 2),
                    "dynamodb_calls_per_request": round(timer.calls / samples, 2),
                    "dynamodb_ms_per_request": round(timer.seconds / samples * 1000, 2),
                    "handler_over_dynamodb": round(handler_s / timer.seconds, 2) if timer.seconds else None,
                }
        finally:
            timer.detach()
    return out
