"""The delivery table (domain/delivery.py) is SPEC.md's, row for row: the same rules in the
same order, with the same status, code and sentence; every failure code has one row, and
one remedy (R28)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from inmail.domain.delivery import DELIVERY_RULES, rule_of
from inmail.domain.model import FailureCode, MessageStatus, RuleId

SPEC = Path(__file__).resolve().parents[3] / "shared" / "SPEC.md"


def spec_table() -> list[list[str]]:
    if not SPEC.exists():
        pytest.skip(f"SPEC.md is not beside the repo ({SPEC})")
    rows = [line.split("|")[1:-1] for line in SPEC.read_text().splitlines() if re.match(r"\| R2\d \|", line)]
    return [[cell.strip() for cell in row] for row in rows]


def test_r20_to_r27_rows_are_spec_order() -> None:
    assert [row.rule for row in DELIVERY_RULES] == list(RuleId)
    assert [row.rule.value for row in DELIVERY_RULES] == [f"R{n}" for n in range(20, 28)]


def test_r20_to_r27_rows_say_what_spec_says() -> None:
    for ours, (rule, _condition, status, code, message) in zip(DELIVERY_RULES, spec_table(), strict=True):
        assert ours.rule.value == rule
        assert ours.status is MessageStatus(status)
        assert (ours.code.value if ours.code else None) == (code if code.isupper() else None), rule
        assert ours.message == (message if ours.code else None), rule


def test_r28_every_failure_code_is_one_row_with_a_remedy() -> None:
    coded = [row for row in DELIVERY_RULES if row.code is not None]
    assert sorted(row.code for row in coded if row.code) == sorted(FailureCode)
    for code in FailureCode:
        assert rule_of(code).code is code and rule_of(code).remedy


def test_only_r26_is_left_to_the_delivery() -> None:
    assert [row.rule for row in DELIVERY_RULES if row.check is None] == [RuleId.R26]
