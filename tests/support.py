"""Plumbing shared by the tests and the benchmarks (bench/ puts this folder on its path):
a settable clock, ids, API Gateway v2 events and claims, the committed operations, and
moto made to behave like DynamoDB where the tests and benchmarks rely on it."""

from __future__ import annotations

import base64
import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    at: datetime = T0

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at = self.at + timedelta(**delta)
        return self.at


@dataclass
class SeqIds:
    prefix: str = "t"
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def new_id(self) -> str:
        return f"{self.prefix}{next(self.counter):05d}"


class LambdaContext:
    function_name = "test"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "req-1"

    def __init__(self, remaining_ms: int = 300_000):
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def http_event(
    method: str = "POST",
    body: str | None = None,
    claims: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    path: str = "/graphql",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, as the JWT authorizer passes it."""
    request_context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "api",
        "domainName": "api.example.com",
        "domainPrefix": "api",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "test",
        },
        "requestId": "rid-1",
        "routeKey": f"{method} {path}",
        "stage": "$default",
        "time": "27/Nov/2026:09:00:00 +0000",
        "timeEpoch": 1795770000000,
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "accept": "application/json", **(headers or {})},
        "requestContext": request_context,
        "body": body,
        "isBase64Encoded": False,
    }


def claims_for(sub: str, *roles: str, contract: str | None = None) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": sub, "roles": "[" + " ".join(roles) + "]"}
    if contract:
        claims["contract_id"] = contract
    return claims


def decode_body(response: dict[str, Any]) -> Any:
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return json.loads(body) if body else None


# ---- the committed operations ---------------------------------------------------------

OPERATIONS = Path(__file__).resolve().parent.parent / "graphql" / "operations"


@cache
def operation(name: str) -> str:
    """graphql/operations/<name>.graphql as a client sends it: it carries its fragments."""
    return (OPERATIONS / f"{name}.graphql").read_text()


# ---- moto --------------------------------------------------------------------------------

_sessions = threading.local()


def thread_botocore_session() -> Any:
    """One botocore session per thread: its loader caches the service models, so the clients
    PynamoDB creates again and again (configure() drops them) take milliseconds, not ~150 ms."""
    import botocore.session

    session = getattr(_sessions, "session", None)
    if session is None:
        session = _sessions.session = botocore.session.get_session()
    return session


def serialize_moto_requests() -> Callable[[], None]:
    """moto applies a request in several Python steps; DynamoDB applies each request
    atomically. Serialise in-process moto requests, so races test our conditions and not
    moto's internals. Returns the undo."""
    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.RLock()
    original = BotocoreStubber.__call__

    def locked(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = locked  # type: ignore[method-assign]

    def undo() -> None:
        BotocoreStubber.__call__ = original  # type: ignore[method-assign]

    return undo


def fast_moto_sqs_clock() -> Callable[[], None]:
    """moto's SQS reads the clock through datetime conversions, twice per queued message on
    every receive: ~2 s a ReceiveMessage with 2,000 messages queued. The same clock, read
    directly (milliseconds and seconds since the epoch). Returns the undo."""
    import time

    import moto.sqs.models as sqs_models

    saved = sqs_models.unix_time_millis, sqs_models.unix_time
    sqs_models.unix_time_millis = lambda dt=None: time.time() * 1000  # type: ignore[assignment]
    sqs_models.unix_time = lambda dt=None: time.time()  # type: ignore[assignment]

    def undo() -> None:
        sqs_models.unix_time_millis, sqs_models.unix_time = saved  # type: ignore[assignment]

    return undo
