"""Write units as the bench counts them (store/metering.py): DynamoDB's billing rule, 1
unit per KB of each item written, rounded up per item, twice inside a transaction."""

from __future__ import annotations

from inmail.store.metering import item_size, write_units


def _item(text_bytes: int) -> dict[str, dict[str, str]]:
    return {"pk": {"S": "k"}, "doc": {"S": "x" * text_bytes}}


def test_an_items_size_is_its_names_and_values() -> None:
    assert item_size(_item(100)) == len("pk") + 1 + len("doc") + 100
    assert item_size({"n": {"N": "12345"}, "b": {"BOOL": True}}) == 1 + 4 + 1 + 1
    assert item_size({"é": {"S": "é"}}) == 4  # UTF-8 bytes


def test_write_units_round_up_per_item_and_double_in_a_transaction() -> None:
    assert write_units("PutItem", {"Item": _item(10)}) == 1
    assert write_units("PutItem", {"Item": _item(1500)}) == 2
    transaction = {
        "TransactItems": [
            {"Put": {"Item": _item(1500)}},  # 2
            {"Put": {"Item": _item(10)}},  # 1
            {"Update": {"Key": {"k": {"S": "credits#c1#2026-11"}}, "ExpressionAttributeValues": {":v": {"N": "1"}}}},
            {"ConditionCheck": {"Key": {"k": {"S": "seat"}}}},  # billed as a write of the seat
        ]
    }
    assert write_units("TransactWriteItems", transaction) == 2 * (2 + 1 + 1 + 1)
    assert write_units("DeleteItem", {"Key": {"k": {"S": "t"}}}) == 1
