"""Count DynamoDB work through botocore's event hooks, so the figures hold on real
DynamoDB as on moto: requests per operation, items read, items written."""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .models import ALL_MODELS

WRITE_OPERATIONS = {"PutItem": 1, "UpdateItem": 1, "DeleteItem": 1}


@dataclass
class RequestMeter:
    requests: Counter[str] = field(default_factory=Counter)
    items_read: Counter[str] = field(default_factory=Counter)
    items_written: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _clients: list[Any] = field(default_factory=list)

    def attach(self, extra_clients: tuple[Any, ...] = ()) -> RequestMeter:
        """Hook every model's client (and any other given, e.g. a transaction's)."""
        clients = {id(c): c for c in (*(_client_of(m) for m in ALL_MODELS), *extra_clients)}
        for client in clients.values():
            client.meta.events.register("before-call.dynamodb", self._before)
            client.meta.events.register("after-call.dynamodb", self._after)
            self._clients.append(client)
        return self

    def detach(self) -> None:
        for client in self._clients:
            client.meta.events.unregister("before-call.dynamodb", self._before)
            client.meta.events.unregister("after-call.dynamodb", self._after)
        self._clients.clear()

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.items_read.clear()
            self.items_written = 0

    def _before(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        name = model.name
        written = WRITE_OPERATIONS.get(name, 0)
        if name in ("TransactWriteItems", "BatchWriteItem"):
            request = _api_params(params)
            if name == "TransactWriteItems":
                written = sum(1 for item in request.get("TransactItems", []) if "ConditionCheck" not in item)
            else:
                written = sum(len(v) for v in request.get("RequestItems", {}).values())
        with self._lock:
            self.requests[name] += 1
            self.items_written += written

    def _after(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        name = model.name
        if name in ("Query", "Scan"):
            read = int(parsed.get("ScannedCount", parsed.get("Count", 0)))
        elif name == "GetItem":
            read = 1 if "Item" in parsed else 0
        elif name in ("BatchGetItem", "TransactGetItems"):
            read = (
                sum(len(v) for v in parsed.get("Responses", {}).values())
                if name == "BatchGetItem"
                else len(parsed.get("Responses", []))
            )
        else:
            return
        with self._lock:
            self.items_read[name] += read

    @property
    def total_read(self) -> int:
        return sum(self.items_read.values())


def _api_params(params: dict[str, Any]) -> dict[str, Any]:
    """before-call carries the serialized request (its JSON body), not the API's arguments."""
    body = params.get("body")
    if isinstance(body, bytes | str) and body:
        parsed: dict[str, Any] = json.loads(body)
        return parsed
    return params


def _client_of(model: Any) -> Any:
    return model._get_connection().connection.client
