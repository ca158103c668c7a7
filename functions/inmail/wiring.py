"""Adapters wired once per cold start: what runs locally is what runs on Lambda, with only
the settings changed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .config import Settings
from .services.deps import Deps

if TYPE_CHECKING:
    from .store.work_queue import SqsWorkQueue


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class UuidIds:
    def new_id(self) -> str:
        return str(uuid.uuid4())


def build_deps(settings: Settings) -> Deps:
    from .store.dynamo import DynamoStore, StoreDelivery

    store = DynamoStore(settings)
    return Deps(
        store=store,
        clock=SystemClock(),
        ids=UuidIds(),
        delivery=StoreDelivery(store),
        lease=timedelta(seconds=settings.lease_seconds),
        delivery_attempts=settings.delivery_attempts,
    )


def build_work_queue(settings: Settings, deps: Deps) -> SqsWorkQueue | None:
    """The fan-out queue, when FAN_OUT_QUEUE_URL names one: an SQS client on the store's
    botocore session (built here, in the init phase)."""
    if not settings.fan_out_queue_url:
        return None
    from .store.dynamo import DynamoStore
    from .store.work_queue import SqsWorkQueue

    assert isinstance(deps.store, DynamoStore)
    return SqsWorkQueue.from_settings(settings, deps.store.session)
