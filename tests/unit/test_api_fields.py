"""Every root field maps what its use case raises the same way (api/errors.DomainErrors):
a field declared without it would let a refusal through as a masked "Unexpected error"."""

from __future__ import annotations

import pytest
from strawberry.types.base import StrawberryObjectDefinition

from inmail.api.errors import DomainErrors
from inmail.api.schema import schema


def root_fields(name: str) -> list[tuple[str, DomainErrors | None]]:
    definition = schema.get_type_by_name(name)
    assert isinstance(definition, StrawberryObjectDefinition)
    found = []
    for field in definition.fields:
        mapped = [e for e in field.extensions if isinstance(e, DomainErrors)]
        found.append((field.name, mapped[0] if len(mapped) == 1 else None))
    return found


@pytest.mark.parametrize("name", ["Query", "Mutation"])
def test_every_root_field_maps_domain_errors(name: str) -> None:
    fields = root_fields(name)
    assert fields
    assert [f for f, mapped in fields if mapped is None] == []


def test_every_mutation_refuses_through_its_payload() -> None:
    """A mutation's refusals are its payload's userErrors, never a GraphQL error."""
    assert [f for f, mapped in root_fields("Mutation") if mapped is None or mapped.payload is None] == []


def test_queries_have_no_payload() -> None:
    assert [f for f, mapped in root_fields("Query") if mapped is not None and mapped.payload is not None] == []


def test_strawberry_type_modules_annotate_without_postponed_evaluation() -> None:
    """Postponed annotations make Strawberry compile each field's annotation string on every
    cold start (api/types/__init__.py)."""
    from pathlib import Path

    import inmail.api

    api = Path(inmail.api.__file__).parent
    modules = [*sorted((api / "types").glob("*.py")), api / "queries.py", api / "mutations.py"]
    postponed = [p.name for p in modules if "from __future__ import annotations" in p.read_text()]
    assert len(modules) > 3
    assert postponed == []
