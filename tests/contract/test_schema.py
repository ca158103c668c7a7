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
