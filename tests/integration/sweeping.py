"""Run the sweeper Lambda handler against the test's moto tables."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from inmail.services.deps import Deps
from support import LambdaContext


def sweep_handler(deps: Deps, at: datetime, request_id: str = "sweep-1", remaining_ms: int = 60_000) -> dict[str, Any]:
    from inmail.handlers import sweeper

    sweeper.deps = deps
    context = LambdaContext(remaining_ms)
    context.aws_request_id = request_id
    result: dict[str, Any] = sweeper.handler({"time": at.isoformat().replace("+00:00", "Z")}, context)
    return result


@contextmanager
def atomic_moto() -> Iterator[None]:
    """moto applies a request in several Python steps; DynamoDB applies each request
    atomically. Serialise requests so races test our conditions, not moto's internals."""
    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.RLock()
    original = BotocoreStubber.__call__

    def locked(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = locked  # type: ignore[method-assign]
    try:
        yield
    finally:
        BotocoreStubber.__call__ = original  # type: ignore[method-assign]
