"""Adapters wired once per cold start: what runs locally is what runs on Lambda, with only
the settings changed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from .config import Settings
from .services.deps import Deps


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
