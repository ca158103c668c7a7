"""What a cold start builds, and when: one botocore session and client for the whole store
(reading botocore's data for DynamoDB only, as botocore would),
in the init phase (a session per model cost each model ~60 ms on the first request); the
collector off while a handler's init runs. How much each saves is measured by `make bench`
(bench/coldstart.py), not here."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from typing import Any

import pytest
from pynamodb.connection import base as pynamodb_base

from inmail.config import Settings
from inmail.handlers import init_phase
from inmail.store.models import ALL_MODELS
from inmail.store.service_data import StoreServicesLoader, store_loader


def test_the_store_builds_one_session_and_client_for_every_model_and_the_transactions(
    aws: None, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inmail.store.dynamo import DynamoStore
    from inmail.store.tables import ensure_tables

    ensure_tables(settings)
    made: list[Any] = []
    get_session = pynamodb_base.get_session  # type: ignore[attr-defined]
    monkeypatch.setattr(pynamodb_base, "get_session", lambda: made.append(get_session()) or made[-1])

    store = DynamoStore(settings)
    built = [model._get_connection().connection._client for model in ALL_MODELS]  # before any request

    assert len(made) == 1
    assert isinstance(made[0].get_component("data_loader"), StoreServicesLoader)
    assert built[0] is not None and all(client is built[0] for client in built)
    assert store.transaction_client() is built[0]
    assert store.get_contract("none") is None  # and it answers
    assert len(made) == 1


def test_the_init_phase_collects_nothing_and_leaves_the_collector_on_with_its_objects_frozen() -> None:
    frozen = gc.get_freeze_count()
    collections = sum(s["collections"] for s in gc.get_stats())
    try:
        with init_phase():
            garbage = [[object()] for _ in range(50_000)]  # far past the first generation's threshold
            assert not gc.isenabled()
        assert sum(s["collections"] for s in gc.get_stats()) == collections
        assert gc.isenabled()
        assert gc.get_freeze_count() >= frozen + len(garbage)
    finally:
        gc.unfreeze()


def test_a_failing_init_leaves_the_collector_on_and_freezes_nothing() -> None:
    frozen = gc.get_freeze_count()
    with pytest.raises(ValueError), init_phase():
        raise ValueError("bad settings")
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_the_api_import_leaves_sending_to_many_and_templates_to_their_first_use() -> None:
    """Their use cases are not loaded by the init phase (bench/check.py's cold-start budget);
    the schema still holds their fields."""
    code = "import sys, inmail.handlers.api\nprint(' '.join(sorted(sys.modules)))"
    env = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    loaded = subprocess.run(
        [sys.executable, "-c", code], env={**env, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "inmail.api.types.templates" in loaded and "inmail.services.send" in loaded
    assert "inmail.services.bulk_send" not in loaded
    assert "inmail.services.templates" not in loaded


@pytest.mark.parametrize("service", ["dynamodb", "sqs"])
@pytest.mark.parametrize("service_file", ["service-2", "endpoint-rule-set-1", "paginators-1", "waiters-2"])
def test_the_store_loader_reads_the_store_services_files_as_botocore_does(service: str, service_file: str) -> None:
    from botocore.exceptions import DataNotFoundError
    from botocore.loaders import Loader

    ours, botocores = store_loader(None), Loader()
    try:
        expected = botocores.load_service_model(service, service_file)
    except DataNotFoundError:  # SQS ships no waiters: ours must have none either
        with pytest.raises(DataNotFoundError):
            ours.load_service_model(service, service_file)
        return
    assert ours.load_service_model(service, service_file) == expected
    assert ours.determine_latest_version(service, service_file) == botocores.determine_latest_version(
        service, service_file
    )


@pytest.mark.parametrize("data", ["endpoints", "partitions", "sdk-default-configuration", "_retry"])
def test_the_store_loader_reads_botocores_shared_data_as_botocore_does(data: str) -> None:
    from botocore.loaders import Loader

    ours, path = store_loader(None).load_data_with_path(data)
    theirs, their_path = Loader().load_data_with_path(data)
    assert (ours, path) == (theirs, their_path)
    assert Loader().is_builtin_path(path)  # so botocore's endpoint rules are trusted as for its own data


def test_the_store_loader_searches_aws_data_path_first_and_knows_only_the_store_services(tmp_path: Any) -> None:
    from botocore.exceptions import UnknownServiceError
    from botocore.loaders import create_loader

    data_path = os.pathsep.join([f"{tmp_path}/a", f"{tmp_path}/b"])
    assert store_loader(data_path).search_paths == create_loader(data_path).search_paths
    assert store_loader(None).list_available_services("service-2") == ["dynamodb", "sqs"]
    with pytest.raises(UnknownServiceError):
        store_loader(None).load_service_model("s3", "service-2")
