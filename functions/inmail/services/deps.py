"""What every use case takes: the ports and a few tunables, wired once per cold start."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from ..domain.ports import Clock, Delivery, IdGenerator, Store


@dataclass
class Deps:
    store: Store
    clock: Clock
    ids: IdGenerator
    delivery: Delivery
    lease: timedelta = timedelta(minutes=15)
    delivery_attempts: int = 3
    backoff_seconds: float = 0.05
    sleep: Callable[[float], None] = field(default=time.sleep)
