"""Capacity units as the benchmarks compute them (store/capacity.py), against cases worked
out by hand from DynamoDB's billing rules (docs/performance.md, "Write units per
follow-up"): item sizes, 1 WCU per started KB (the larger of before and after), twice in a
transaction, condition checks billed as writes of the item checked, and each global
secondary index written when the item enters, leaves, moves within or changes in it."""

from __future__ import annotations

from typing import Any

import pytest

from inmail.store.capacity import (
    IndexSchema,
    TableSchema,
    WriteCost,
    item_size,
    read_units,
    write_cost,
    write_units,
)


def s(text: str) -> dict[str, str]:
    return {"S": text}


def n(number: str) -> dict[str, str]:
    return {"N": number}


# A table shaped like inmail-threads: key thread_id; an ALL index, a KEYS_ONLY index on a
# sparse attribute, an INCLUDE index.
THREADS = TableSchema(
    "threads",
    ("thread_id",),
    (
        IndexSchema("by-recruiter", ("recruiter_id", "created_key"), "ALL"),
        IndexSchema("due", ("due_shard", "due_at"), "KEYS_ONLY"),
        IndexSchema("listing", ("recruiter_id", "created_key"), "INCLUDE", frozenset({"subject"})),
    ),
)


def thread(doc_bytes: int, *, due: bool = True, version: int = 1, subject: str = "Hi") -> dict[str, Any]:
    item = {
        "thread_id": s("t1"),  # 9 + 2
        "recruiter_id": s("r1"),  # 12 + 2
        "created_key": s("k"),  # 11 + 1
        "version": n(str(version)),  # 7 + 2 (one digit: (1 + 1) // 2 + 1)
        "subject": s(subject),  # 7 + len(subject)
        "document": s("x" * doc_bytes),  # 8 + doc_bytes
    }
    if due:
        item["due_shard"] = s("3")  # 9 + 1
        item["due_at"] = s("2026")  # 6 + 4
    return item


FIXED = 11 + 14 + 12 + 9 + 9 + 8  # the attributes above but for the document's text (subject "Hi")
DUE = 10 + 10


def test_item_size_is_names_plus_values() -> None:
    assert item_size(thread(100, due=False)) == FIXED + 100
    assert item_size(thread(100)) == FIXED + DUE + 100
    assert item_size({"é": s("é€")}) == 2 + 5  # UTF-8 bytes, names and values
    # Numbers: 1 byte per two significant digits, plus 1; leading and trailing zeros dropped.
    assert item_size({"n": n("12345")}) == 1 + 4
    assert item_size({"n": n("-0.00120")}) == 1 + 2
    assert item_size({"b": {"BOOL": True}, "z": {"NULL": True}}) == 2 + 2
    # A map: 3 bytes, plus each name, 1 byte and its value; a list: 3 plus 1 and each value.
    assert item_size({"m": {"M": {"a": s("xy")}}}) == 1 + 3 + 1 + 1 + 2
    assert item_size({"l": {"L": [s("xy"), n("7")]}}) == 1 + 3 + (1 + 2) + (1 + 2)


def test_write_units_per_started_kb() -> None:
    assert [write_units(b) for b in (0, 1, 1024, 1025, 2048, 2049)] == [1, 1, 1, 2, 2, 3]
    assert read_units(4096, consistent=True) == 1 and read_units(4097, consistent=True) == 2
    assert read_units(100, consistent=False) == 0.5


def test_a_new_item_puts_its_entry_in_every_index_it_has_keys_for() -> None:
    new = thread(1_000)  # 1,000 + FIXED + DUE = 1,085 bytes: 2 WCU
    cost = write_cost(THREADS, None, new)
    # ALL: the whole item (2); KEYS_ONLY due: thread_id, due_shard, due_at (31 bytes: 1);
    # INCLUDE: keys and subject (11 + 14 + 12 + 9 = 46 bytes: 1).
    assert cost == WriteCost(2, {"by-recruiter": 2, "due": 1, "listing": 1})
    assert cost.total == 6


def test_a_changed_document_rewrites_all_projections_but_not_keys_only() -> None:
    before, after = thread(1_000, version=1), thread(1_000, version=2)
    # The table: the larger of before and after (2). ALL: the entry changed (2). The due
    # and listing entries hold neither version nor document: unchanged, not written.
    assert write_cost(THREADS, before, after) == WriteCost(2, {"by-recruiter": 2})
    # In a transaction the table's units double; the index's do not.
    assert write_cost(THREADS, before, after, transactional=True) == WriteCost(4, {"by-recruiter": 2})
    # A change of an INCLUDEd attribute writes that index (its key unchanged): one write.
    renamed = thread(1_000, version=2, subject="Hello")
    assert write_cost(THREADS, before, renamed).indexes == {"by-recruiter": 2, "listing": 1}


def test_the_larger_item_decides_an_update() -> None:
    small, large = thread(500, due=False), thread(1_500, due=False)
    assert write_cost(THREADS, small, large).table == 2  # 1,585 bytes after
    assert write_cost(THREADS, large, small).table == 2  # 1,585 bytes before


def test_leaving_and_moving_in_a_sparse_index() -> None:
    due = thread(1_000)
    settled = thread(1_000, due=False, version=2)
    # Leaving `due` (due_shard and due_at removed) is a delete of its entry: 1.
    assert write_cost(THREADS, due, settled).indexes == {"by-recruiter": 2, "due": 1}
    # Moving within it (the index key changes: a new due time) is a delete and a put: 2.
    moved = {**thread(1_000, version=2), "due_at": s("2027")}
    assert write_cost(THREADS, due, moved).indexes == {"by-recruiter": 2, "due": 2}
    # A delete of the item: its size on the table, and a delete in each index it was in.
    assert write_cost(THREADS, due, None) == WriteCost(2, {"by-recruiter": 2, "due": 1, "listing": 1})


def test_a_condition_check_is_billed_as_a_write_of_the_checked_item() -> None:
    seat = {"recruiter_id": s("r1"), "version": n("3"), "daily_limit": n("50")}
    assert write_cost(THREADS, seat, seat, transactional=True, check_only=True) == WriteCost(2)
    big = {"k": s("x" * 1_500)}
    assert write_cost(THREADS, big, big, transactional=True, check_only=True) == WriteCost(4)
    # A check of an item that does not exist still costs the minimum.
    assert write_cost(THREADS, None, None, transactional=True, check_only=True) == WriteCost(2)


def test_schema_from_describe_table() -> None:
    described = {
        "TableName": "t",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "g",
                "KeySchema": [
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                    {"AttributeName": "pk", "KeyType": "HASH"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a"]},
            }
        ],
    }
    schema = TableSchema.from_description(described)
    assert schema == TableSchema("t", ("id",), (IndexSchema("g", ("pk", "sk"), "INCLUDE", frozenset({"a"})),))
    assert schema.key_of({"id": s("1"), "x": s("y")}) == {"id": s("1")}


@pytest.mark.parametrize("kind", ["S", "N", "BOOL", "M", "L"])
def test_every_type_the_app_stores_has_a_size(kind: str) -> None:
    value = {"S": "a", "N": "1", "BOOL": False, "M": {}, "L": []}[kind]
    assert item_size({"x": {kind: value}}) >= 2
