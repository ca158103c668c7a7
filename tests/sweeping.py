"""Run the sweeper Lambda handler on the test's store (in memory or moto), and make
in-process moto requests atomic for the race tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from inmail.services.deps import Deps
from support import LambdaContext, serialize_moto_requests


def sweep_handler(deps: Deps, at: datetime, request_id: str = "sweep-1", remaining_ms: int = 60_000) -> dict[str, Any]:
    from inmail.handlers import sweeper

    sweeper.deps = deps
    context = LambdaContext(remaining_ms)
    context.aws_request_id = request_id
    result: dict[str, Any] = sweeper.handler({"time": at.isoformat().replace("+00:00", "Z")}, context)
    return result


@contextmanager
def atomic_moto() -> Iterator[None]:
    """Each in-process moto request atomic, as on DynamoDB, for the duration."""
    undo = serialize_moto_requests()
    try:
        yield
    finally:
        undo()
