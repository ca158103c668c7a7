"""The SPEC rules are decided in the domain and services, not in DynamoDB: here they are
proven through the same GraphQL schema and Lambda HTTP path on the in-memory store, which
keeps DynamoStore's semantics (tests/store/test_store_contract.py runs one contract on both)."""

from __future__ import annotations

from typing import Any

import pytest

from inmail.config import Settings
from inmail.services.deps import Deps


@pytest.fixture
def api(memory_deps: Deps, settings: Settings) -> Any:
    from gql import GraphQLClient

    return GraphQLClient(memory_deps, settings)
