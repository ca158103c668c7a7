from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "InMailTest")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)

from inmail.config import Settings
from inmail.services.deps import Deps
from support import FakeClock, SeqIds, thread_botocore_session


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings() -> Settings:
    return Settings(due_shards=4)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import pynamodb.connection.base
    from moto import mock_aws

    # After importing moto: sessions made from now on carry its request interceptor.
    monkeypatch.setattr(pynamodb.connection.base, "get_session", thread_botocore_session)
    with mock_aws():
        yield


@pytest.fixture
def dynamo_deps(aws: None, settings: Settings, clock: FakeClock) -> Deps:
    from inmail.store.dynamo import DynamoStore, StoreDelivery
    from inmail.store.tables import ensure_tables

    ensure_tables(settings)
    store = DynamoStore(settings)
    return Deps(
        store=store,
        clock=clock,
        ids=SeqIds(),
        delivery=StoreDelivery(store),
        sleep=lambda _: None,
    )


@pytest.fixture
def memory_deps(settings: Settings, clock: FakeClock) -> Deps:
    """The in-memory store (tests/fakes.py): DynamoStore's semantics, checked against it by
    tests/store/test_store_contract.py, at a fraction of moto's cost."""
    from fakes import MemoryStore, StoreDelivery

    store = MemoryStore(due_shards=settings.due_shards)
    return Deps(store=store, clock=clock, ids=SeqIds(), delivery=StoreDelivery(store), sleep=lambda _: None)


@pytest.fixture
def api(dynamo_deps: Deps, settings: Settings) -> Any:
    """The Lambda's HTTP path on DynamoStore (moto); tests/rules overrides it with the
    in-memory store."""
    from gql import GraphQLClient

    return GraphQLClient(dynamo_deps, settings)
