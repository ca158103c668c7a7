"""docs/frontend.md's follow-up failure table says what the API says: for every failure code,
the message and the remedy of the delivery table (domain/delivery.py), word for word (R21-R28)."""

from __future__ import annotations

import re
from pathlib import Path

from inmail.domain.delivery import DELIVERY_RULES
from inmail.domain.model import FailureCode

DOC = Path(__file__).resolve().parents[2] / "docs" / "frontend.md"
ROW = re.compile(r"^\| `(\w+)` \| (\w+) \| (.+?) \| (.+?) \|$", re.M)


def test_r28_the_failure_table_is_the_code_s_message_and_remedy() -> None:
    rows = {code: (status, message, remedy) for code, status, message, remedy in ROW.findall(DOC.read_text())}
    assert set(rows) == {code.value for code in FailureCode}
    for row in DELIVERY_RULES:
        if row.code is not None:
            assert rows[row.code.value][1:] == (row.message, row.remedy), row.code
    assert {code for code, row in rows.items() if row[0] == "CANCELLED"} == {"DAILY_LIMIT_REACHED"}  # R25
