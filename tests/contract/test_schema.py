"""The committed GraphQL schema is the one the code serves, and keeps the shared contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema, find_breaking_changes
from strawberry.printer import print_schema

from inmail.api.schema import schema

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "graphql" / "schema.graphql"
CONTRACT = Path(__file__).resolve().parents[2].parent / "shared" / "contract" / "schema.graphql"
# The contract's additions (../shared/contract/<part>.graphql) this project has brought in:
# each part's issue adds its file here once resolved.
PARTS = ["inmail-report.graphql", "send-windows.graphql", "bulk-and-templates.graphql"]


def exported() -> str:
    """What `make schema` (strawberry export-schema ... --output) writes."""
    return print_schema(schema) + "\n"


def test_committed_schema_is_the_exported_one():
    assert COMMITTED.exists(), "graphql/schema.graphql is missing: run `make schema` and commit it"
    assert COMMITTED.read_text() == exported(), "graphql/schema.graphql is stale: run `make schema` and commit it"


def test_exported_schema_breaks_nothing_of_the_shared_contract():
    if not CONTRACT.exists():
        pytest.skip(f"the shared contract is not beside the repo ({CONTRACT})")
    changes = find_breaking_changes(build_schema(CONTRACT.read_text()), build_schema(exported()))
    assert changes == [], "\n".join(f"{c.type.name}: {c.description}" for c in changes)


def test_committed_schema_breaks_nothing_of_the_shared_contract():
    if not CONTRACT.exists():
        pytest.skip(f"the shared contract is not beside the repo ({CONTRACT})")
    changes = find_breaking_changes(build_schema(CONTRACT.read_text()), build_schema(COMMITTED.read_text()))
    assert changes == [], "\n".join(f"{c.type.name}: {c.description}" for c in changes)


def test_the_check_would_catch_a_dropped_field():
    """find_breaking_changes is pointed the right way: removing a contract field is caught."""
    if not CONTRACT.exists():
        pytest.skip(f"the shared contract is not beside the repo ({CONTRACT})")
    trimmed = exported().replace(
        '  """Credits left in the current calendar month (UTC)."""\n  creditsRemaining: Int!\n', "", 1
    )
    assert trimmed != exported()
    changes = find_breaking_changes(build_schema(CONTRACT.read_text()), build_schema(trimmed))
    assert [c.description for c in changes] == ["Field Contract.creditsRemaining was removed."]


@pytest.mark.parametrize("part", PARTS)
def test_exported_schema_holds_every_name_of_each_contract_part(part: str):
    """schema.graphql with the part's additions (types, fields, arguments, enum values) is
    kept by the served schema and the committed one: nothing of it missing or changed."""
    path = CONTRACT.parent / part
    if not path.exists():
        pytest.skip(f"the shared contract is not beside the repo ({path})")
    extended = build_schema(CONTRACT.read_text() + "\n" + path.read_text())
    for served in (exported(), COMMITTED.read_text()):
        changes = find_breaking_changes(extended, build_schema(served))
        assert changes == [], "\n".join(f"{c.type.name}: {c.description}" for c in changes)


def test_the_part_check_would_catch_a_dropped_report_field():
    path = CONTRACT.parent / "inmail-report.graphql"
    if not path.exists():
        pytest.skip(f"the shared contract is not beside the repo ({path})")
    trimmed = exported().replace("  repliesAfterFollowUp: Int!\n", "", 1)
    assert trimmed != exported()
    changes = find_breaking_changes(build_schema(CONTRACT.read_text() + "\n" + path.read_text()), build_schema(trimmed))
    assert [c.description for c in changes] == ["Field InMailReportRow.repliesAfterFollowUp was removed."]


def test_the_part_check_would_catch_a_dropped_send_window_name():
    path = CONTRACT.parent / "send-windows.graphql"
    if not path.exists():
        pytest.skip(f"the shared contract is not beside the repo ({path})")
    dropped = exported().replace("  SATURDAY\n", "", 1)
    assert dropped != exported()
    changes = find_breaking_changes(build_schema(CONTRACT.read_text() + "\n" + path.read_text()), build_schema(dropped))
    assert [c.description for c in changes] == ["Enum value Weekday.SATURDAY was removed."]


def test_the_part_check_would_catch_a_missing_bulk_name():
    path = CONTRACT.parent / "bulk-and-templates.graphql"
    if not path.exists():
        pytest.skip(f"the shared contract is not beside the repo ({path})")
    trimmed = exported().replace("  MISSING_PERSONALIZATION\n", "", 1)
    assert trimmed != exported()
    changes = find_breaking_changes(build_schema(CONTRACT.read_text() + "\n" + path.read_text()), build_schema(trimmed))
    assert [c.description for c in changes] == ["Enum value UserErrorCode.MISSING_PERSONALIZATION was removed."]
