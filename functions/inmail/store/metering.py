"""Count DynamoDB work through botocore's event hooks, so the figures hold on real
DynamoDB as on moto: requests per operation, items read, items written, time in calls."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Self

from .models import ALL_MODELS

WRITE_OPERATIONS = {"PutItem": 1, "UpdateItem": 1, "DeleteItem": 1}


def app_clients(store: Any | None = None) -> list[Any]:
    """Every botocore client the app's DynamoDB calls go through: each model's, and the
    store's transaction connection."""
    clients = [model._get_connection().connection.client for model in ALL_MODELS]
    if store is not None:
        clients.append(store.transaction_client())
    return list({id(c): c for c in clients}.values())


class DynamoDBHooks:
    """Handlers on botocore's before-call and after-call events of those clients."""

    run_first = False  # before every other before-call handler (to answer instead of AWS)

    def attach(self, store: Any | None = None) -> Self:
        self._hooked = app_clients(store)
        for client in self._hooked:
            events = client.meta.events
            (events.register_first if self.run_first else events.register)("before-call.dynamodb", self._before)
            events.register("after-call.dynamodb", self._after)
        return self

    def detach(self) -> None:
        for client in getattr(self, "_hooked", []):
            client.meta.events.unregister("before-call.dynamodb", self._before)
            client.meta.events.unregister("after-call.dynamodb", self._after)
        self._hooked = []

    def _before(self, **event: Any) -> Any:
        """botocore passes model, params, request_signer, context; a non-None return answers
        the call instead of AWS."""
        return None

    def _after(self, **event: Any) -> None:
        """botocore passes http_response, parsed, model, context."""


@dataclass
class RequestMeter(DynamoDBHooks):
    requests: Counter[str] = field(default_factory=Counter)
    items_read: Counter[str] = field(default_factory=Counter)
    items_written: int = 0
    # Write capacity units as DynamoDB bills them, from the items in each request (see
    # write_units): what a write costs on demand, in units of 1 KB.
    write_units: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.items_read.clear()
            self.items_written = 0
            self.write_units = 0

    def _before(self, **event: Any) -> None:
        name, params = event["model"].name, event["params"]
        written = WRITE_OPERATIONS.get(name, 0)
        units = 0
        if name in WRITE_OPERATIONS or name in ("TransactWriteItems", "BatchWriteItem"):
            request = _api_params(params)
            units = write_units(name, request)
            if name == "TransactWriteItems":
                written = sum(1 for item in request.get("TransactItems", []) if "ConditionCheck" not in item)
            elif name == "BatchWriteItem":
                written = sum(len(v) for v in request.get("RequestItems", {}).values())
        with self._lock:
            self.requests[name] += 1
            self.items_written += written
            self.write_units += units

    def _after(self, **event: Any) -> None:
        name, parsed = event["model"].name, event["parsed"]
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


def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it: each attribute's name plus its value (strings
    in UTF-8 bytes, numbers about one byte per two digits, a list or map 3 bytes plus its
    elements)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        return (len(str(raw).lstrip("-").replace(".", "")) + 1) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + item_size(raw)
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in raw)
    return len(json.dumps(raw).encode())


def write_units(operation: str, request: dict[str, Any]) -> int:
    """Write capacity units a request consumes: 1 per KB of each item written, rounded up
    per item, twice that inside a transaction (prepare and commit), where a condition check
    is billed like a write of the item it checks. An update, a delete or a check is billed
    on the item as stored, which the request does not carry: counted from what it sends, at
    least 1 (counters, contracts, seats and candidates are well under 1 KB)."""
    if operation == "TransactWriteItems":
        ops = [next(iter(item.items())) for item in request.get("TransactItems", [])]
        return 2 * sum(_units(kind, op) for kind, op in ops)
    if operation == "BatchWriteItem":
        return sum(
            _units("Put" if "PutRequest" in r else "Delete", r.get("PutRequest") or r.get("DeleteRequest") or {})
            for requests in request.get("RequestItems", {}).values()
            for r in requests
        )
    return _units({"PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete"}[operation], request)


def _units(kind: str, op: dict[str, Any]) -> int:
    if kind == "Put":
        size = item_size(op.get("Item", {}))
    else:
        size = item_size(op.get("Key", {})) + item_size(op.get("ExpressionAttributeValues", {}))
    return max(1, math.ceil(size / 1024))


def _api_params(params: dict[str, Any]) -> dict[str, Any]:
    """before-call carries the serialized request (its JSON body), not the API's arguments."""
    body = params.get("body")
    if isinstance(body, bytes | str) and body:
        parsed: dict[str, Any] = json.loads(body)
        return parsed
    return params


@dataclass
class TableMeter(DynamoDBHooks):
    """(operation, table, index) of every request: what a piece of work touches (the report
    must never touch the threads or the ledger, R83)."""

    calls: Counter[tuple[str, str, str | None]] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _before(self, **event: Any) -> None:
        request = _api_params(event["params"])
        key = (event["model"].name, str(request.get("TableName", "")), request.get("IndexName"))
        with self._lock:
            self.calls[key] += 1

    @property
    def tables(self) -> set[str]:
        return {table for _, table, _ in self.calls}


@dataclass
class CallTimer(DynamoDBHooks):
    """Wall time spent inside DynamoDB calls (before-call to after-call), across threads."""

    seconds: float = 0.0
    calls: int = 0
    _starts: dict[int, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self._lock:
            self.seconds = 0.0
            self.calls = 0

    def _before(self, **event: Any) -> None:
        self._starts.setdefault(threading.get_ident(), []).append(time.perf_counter())

    def _after(self, **event: Any) -> None:
        start = self._starts[threading.get_ident()].pop()
        with self._lock:
            self.seconds += time.perf_counter() - start
            self.calls += 1
