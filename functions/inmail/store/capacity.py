"""Capacity units as DynamoDB bills them, computed from the items a request reads or writes
and the tables' key schemas (moto reports none; real DynamoDB would, with
ReturnConsumedCapacity=INDEXES, which no code of ours asks for). Used by the benchmarks
(`CapacityMeter`) and tested against hand-computed cases (tests/unit/test_capacity.py).

The rules (docs/performance.md, "Write units per follow-up"):

- An item's size is the sum, over its attributes, of the name's UTF-8 bytes and the
  value's size: a string its UTF-8 bytes, a number 1 byte per two significant digits plus
  1, a boolean or null 1, a list or map 3 plus its elements (each 1 more), binary its bytes.
- Writing an item costs 1 WCU per started KB (1,024 bytes) of the item, at least 1: a put
  or an update the larger of the item before and after, a delete the item deleted, a
  condition check (inside a transaction) the item checked. Inside TransactWriteItems every
  one of these counts twice (prepare and commit).
- Each global secondary index is written too, at 1 WCU per started KB of its entry (the
  table's key, the index's key and the projected attributes), not doubled in a transaction
  (index propagation is not part of the two-phase commit): nothing when the item is in the
  index neither before nor after, nor when its entry is unchanged (a KEYS_ONLY index whose
  keys stay); a put when it enters a (sparse) index, a delete when it leaves, both when the
  index key changes, one write when only projected attributes change.
- Reads: 1 RCU per started 4 KB, strongly consistent; half of it eventually consistent (every
  index query). A GetItem costs at least one unit, found or not; a Query sums the sizes of
  the items it returns before rounding; a BatchGetItem rounds each item.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .metering import DynamoDBHooks, _api_params

Item = Mapping[str, Any]  # DynamoDB JSON: {"name": {"S": "text"}, ...}

WRITE_UNIT = 1024
READ_UNIT = 4096
TRANSACTION_FACTOR = 2


# ---- sizes ------------------------------------------------------------------------------


def item_size(item: Item | None) -> int:
    """Bytes DynamoDB counts for an item (0 for no item)."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def value_size(value: Mapping[str, Any]) -> int:
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        return _number_size(str(raw))
    if kind == "B":
        return len(raw) if isinstance(raw, bytes) else math.ceil(len(str(raw)) * 3 / 4)  # base64 text
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + value_size(v) for k, v in raw.items())
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind == "SS":
        return sum(len(str(s).encode()) for s in raw)
    if kind == "NS":
        return sum(_number_size(str(n)) for n in raw)
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").split("e")[0].split("E")[0].strip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT))


def read_units(size: int, *, consistent: bool) -> float:
    units = float(max(1, math.ceil(size / READ_UNIT)))
    return units if consistent else units / 2


# ---- schemas ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexSchema:
    name: str
    keys: tuple[str, ...]  # hash key, then range key if any
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    included: frozenset[str] = frozenset()

    def entry(self, item: Item | None, table_keys: tuple[str, ...]) -> dict[str, Any] | None:
        """This index's copy of `item`; None when the item is not in it (a key attribute
        missing: the index is sparse)."""
        if item is None or any(k not in item for k in self.keys):
            return None
        if self.projection == "ALL":
            return dict(item)
        wanted = set(table_keys) | set(self.keys)
        if self.projection == "INCLUDE":
            wanted |= self.included
        return {k: v for k, v in item.items() if k in wanted}


@dataclass(frozen=True)
class TableSchema:
    name: str
    keys: tuple[str, ...]
    indexes: tuple[IndexSchema, ...] = ()

    @classmethod
    def from_description(cls, table: Mapping[str, Any]) -> TableSchema:
        """From DescribeTable's `Table`."""

        def keys(schema: list[dict[str, str]]) -> tuple[str, ...]:
            ordered = sorted(schema, key=lambda k: k["KeyType"] != "HASH")
            return tuple(k["AttributeName"] for k in ordered)

        indexes = tuple(
            IndexSchema(
                index["IndexName"],
                keys(index["KeySchema"]),
                index["Projection"]["ProjectionType"],
                frozenset(index["Projection"].get("NonKeyAttributes", [])),
            )
            for index in table.get("GlobalSecondaryIndexes", [])
        )
        return cls(table["TableName"], keys(table["KeySchema"]), indexes)

    def key_of(self, item: Item) -> dict[str, Any]:
        return {k: item[k] for k in self.keys}


# ---- what one write costs -------------------------------------------------------------------


@dataclass(frozen=True)
class WriteCost:
    """WCU of one item written (or checked): on the table, and on each index it touched."""

    table: int
    indexes: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.table + sum(self.indexes.values())


def index_write_units(before: Item | None, after: Item | None) -> int:
    """WCU of one index entry going from `before` to `after` (None: not in the index), its
    key unchanged: a put when it enters, a delete when it leaves, one write when only its
    projected attributes change, nothing when it is the same."""
    if before is None and after is None:
        return 0
    if before is None or after is None:
        return write_units(item_size(before if after is None else after))
    if dict(before) == dict(after):
        return 0
    return write_units(max(item_size(before), item_size(after)))


def write_cost(
    schema: TableSchema,
    before: Item | None,
    after: Item | None,
    *,
    transactional: bool = False,
    check_only: bool = False,
) -> WriteCost:
    """What writing `after` over `before` costs (None: no item). A condition check writes
    nothing: it is billed as a write of the item checked, on the table only."""
    factor = TRANSACTION_FACTOR if transactional else 1
    if check_only:
        return WriteCost(factor * write_units(item_size(before)))
    table = factor * write_units(max(item_size(before), item_size(after)))
    indexes: dict[str, int] = {}
    for index in schema.indexes:
        old = index.entry(before, schema.keys)
        new = index.entry(after, schema.keys)
        if old is not None and new is not None and any(old.get(k) != new.get(k) for k in index.keys):
            units = write_units(item_size(old)) + write_units(item_size(new))  # moved: a delete and a put
        else:
            units = index_write_units(old, new)
        if units:
            indexes[index.name] = units
    return WriteCost(table, indexes)


# ---- the meter ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Write:
    """One item of a write request: which table, which key, and what it stores."""

    table: str
    key: dict[str, Any]
    kind: str  # Put, Update, Delete, ConditionCheck
    item: dict[str, Any] | None  # a put's new item
    transactional: bool


Images = Callable[[str, Mapping[str, Any]], dict[str, Any] | None]


@dataclass
class CapacityMeter(DynamoDBHooks):
    """Write and read units of the app's DynamoDB requests, computed by `write_cost` and
    the read rules from the items themselves: each write's item before (read just before
    the request, through `images`, a reader the meter does not count) and after (a put's
    item, a delete's nothing, an update's item read back). Items in a transaction are taken
    from the request as sent, so whatever a commit carries is counted. Reads are counted
    from what each answer returns.

    `images(table, key)` returns the stored item or None; `schemas(table)` its schema.
    Concurrent writers of one item (two workers' daily counter) may each see the other's
    before-image: a counter's size moves by a byte, so the units do not."""

    images: Images
    schemas: Callable[[str], TableSchema]
    write_units: int = 0
    read_units: float = 0.0
    by_table: Counter[str] = field(default_factory=Counter)  # table (or table/index) -> WCU
    by_operation: Counter[str] = field(default_factory=Counter)  # request name -> WCU
    # Per thread, between a request's before-call and after-call: the request as sent and
    # each item it writes with the item's image before.
    _pending: dict[int, tuple[dict[str, Any], list[tuple[_Write, dict[str, Any] | None]]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self._lock:
            self.write_units = 0
            self.read_units = 0.0
            self.by_table.clear()
            self.by_operation.clear()

    def _before(self, **event: Any) -> None:
        name = event["model"].name
        request = _api_params(event["params"])
        writes = _writes(name, request, self.schemas)
        self._pending[threading.get_ident()] = (request, [(w, self.images(w.table, w.key)) for w in writes])

    def _after(self, **event: Any) -> None:
        name, parsed = event["model"].name, event["parsed"]
        request, pending = self._pending.pop(threading.get_ident(), ({}, []))
        status = getattr(event.get("http_response"), "status_code", 200)
        if status != 200 or "Error" in parsed:
            return  # refused: not counted (the bench measures runs without contention)
        if pending:
            self._count_writes(name, pending)
        reads = _read_units(name, request, parsed)
        if reads:
            with self._lock:
                self.read_units += reads

    def _count_writes(self, name: str, pending: list[tuple[_Write, dict[str, Any] | None]]) -> None:
        for write, before in pending:
            schema = self.schemas(write.table)
            if write.kind == "ConditionCheck":
                cost = write_cost(schema, before, before, transactional=True, check_only=True)
            else:
                after = (
                    write.item
                    if write.kind == "Put"
                    else None
                    if write.kind == "Delete"
                    else self.images(write.table, write.key)
                )
                cost = write_cost(schema, before, after, transactional=write.transactional)
            with self._lock:
                self.write_units += cost.total
                self.by_operation[name] += cost.total
                self.by_table[write.table] += cost.table
                for index, units in cost.indexes.items():
                    self.by_table[f"{write.table}/{index}"] += units


def _writes(name: str, request: Mapping[str, Any], schemas: Callable[[str], TableSchema]) -> list[_Write]:
    def one(kind: str, op: Mapping[str, Any], transactional: bool) -> _Write:
        table = op["TableName"]
        item = op.get("Item")
        key = schemas(table).key_of(item) if item is not None else dict(op["Key"])
        return _Write(table, key, kind, dict(item) if item is not None else None, transactional)

    if name == "TransactWriteItems":
        return [one(kind, op, True) for entry in request.get("TransactItems", []) for kind, op in entry.items()]
    if name == "BatchWriteItem":
        out = []
        for table, requests in request.get("RequestItems", {}).items():
            for r in requests:
                if "PutRequest" in r:
                    out.append(one("Put", {"TableName": table, **r["PutRequest"]}, False))
                else:
                    out.append(one("Delete", {"TableName": table, **r["DeleteRequest"]}, False))
        return out
    kind = {"PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete"}.get(name)
    return [one(kind, request, False)] if kind else []


def _read_units(name: str, request: Mapping[str, Any], parsed: Mapping[str, Any]) -> float:
    if name == "GetItem":
        return read_units(item_size(parsed.get("Item")), consistent=bool(request.get("ConsistentRead", False)))
    if name in ("Query", "Scan"):
        size = sum(item_size(i) for i in parsed.get("Items", []))
        consistent = bool(request.get("ConsistentRead", False)) and "IndexName" not in request
        return read_units(size, consistent=consistent)
    if name == "BatchGetItem":
        consistent_by_table = {
            t: bool(r.get("ConsistentRead", False)) for t, r in request.get("RequestItems", {}).items()
        }
        return sum(
            read_units(item_size(i), consistent=consistent_by_table.get(t, False))
            for t, items in parsed.get("Responses", {}).items()
            for i in items
        )
    return 0.0


def table_reader(client: Any) -> tuple[Images, Callable[[str], TableSchema]]:
    """`images` and `schemas` for a CapacityMeter, through `client` (a botocore DynamoDB
    client the meter is not attached to, so its reads are not counted)."""
    schemas: dict[str, TableSchema] = {}
    lock = threading.Lock()

    def schema(table: str) -> TableSchema:
        with lock:
            if table not in schemas:
                schemas[table] = TableSchema.from_description(client.describe_table(TableName=table)["Table"])
            return schemas[table]

    def image(table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        found: dict[str, Any] | None = client.get_item(TableName=table, Key=dict(key), ConsistentRead=True).get("Item")
        return found

    return image, schema
