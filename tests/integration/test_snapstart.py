"""SnapStart (template.yaml `ApiSnapStart`): the API handler's runtime hooks, run in process
as Lambda's runtime runs them, from `snapshot_restore_py`'s registries: before the snapshot
in reverse order of registration, after a restore in order.

The handler module is imported afresh with the environment template.yaml gives it; the
registries are emptied first and put back after. These tests build real botocore sessions
(not the suite's one per thread), since which credentials a session holds is the point."""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
import snapshot_restore_py
from botocore.httpsession import URLLib3Session

from inmail.config import Settings
from inmail.store.models import ALL_MODELS, configure
from inmail.store.tables import ensure_tables
from support import LambdaContext, claims_for, decode_body, http_event, operation

LAMBDA_ENV = {
    "CONTRACTS_TABLE": "snap-contracts",
    "SEATS_TABLE": "snap-seats",
    "CANDIDATES_TABLE": "snap-candidates",
    "THREADS_TABLE": "snap-threads",
    "LEDGER_TABLE": "snap-ledger",
    "COUNTERS_TABLE": "snap-counters",
    "AUTH_MODE": "apigw",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "AWS_ACCESS_KEY_ID": "KEY-AT-SNAPSHOT",
    "AWS_SECRET_ACCESS_KEY": "secret-at-snapshot",
}
RECRUITER = claims_for("r1", "RECRUITER", contract="acme")


@pytest.fixture
def registries() -> Iterator[None]:
    """The runtime's hook registries, empty for this test, as they were after it."""
    before, after = snapshot_restore_py.get_before_snapshot(), snapshot_restore_py.get_after_restore()
    saved = before[:], after[:]
    before.clear()
    after.clear()
    yield
    before[:], after[:] = saved


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Iterator[Settings]:
    for key, value in LAMBDA_ENV.items():
        monkeypatch.setenv(key, value)
    yield Settings.from_env()
    configure(settings)  # the models back on the other tests' tables


def import_api(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """inmail.handlers.api imported afresh (its init runs now); the old module back after."""
    import inmail.handlers

    monkeypatch.delitem(sys.modules, "inmail.handlers.api", raising=False)
    monkeypatch.setattr(inmail.handlers, "api", None, raising=False)
    return importlib.import_module("inmail.handlers.api")


def before_snapshot() -> None:
    for func, args, kwargs in reversed(snapshot_restore_py.get_before_snapshot()):
        func(*args, **kwargs)


def after_restore() -> None:
    for func, args, kwargs in snapshot_restore_py.get_after_restore():
        func(*args, **kwargs)


def post(api: ModuleType, name: str, variables: dict[str, Any], claims: dict[str, Any]) -> Any:
    body = json.dumps({"query": operation(name), "variables": variables})
    response = api.handler(http_event("POST", body, claims), LambdaContext())
    decoded = decode_body(response)
    assert response["statusCode"] == 200 and not decoded.get("errors"), decoded
    return decoded["data"]


def seed(api: ModuleType) -> None:
    operator = claims_for("ops", "OPERATOR")
    post(
        api,
        "CreateContract",
        {"input": {"id": "acme", "name": "Acme", "monthlyCredits": 10, "maxDailyLimit": 5}},
        operator,
    )
    post(api, "AddSeat", {"input": {"contractId": "acme", "recruiterId": "r1"}}, operator)
    post(api, "UpsertCandidate", {"input": {"candidateId": "k1", "name": "Kim"}}, operator)


def test_the_api_registers_one_hook_before_the_snapshot_and_one_after_a_restore(
    registries: None, lambda_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_api(monkeypatch)

    assert [f.__name__ for f, _, _ in snapshot_restore_py.get_before_snapshot()] == ["prime"]
    assert [f.__name__ for f, _, _ in snapshot_restore_py.get_after_restore()] == ["after_restore"]


def test_the_prime_runs_a_query_and_a_committing_mutation_and_sends_nothing(
    registries: None, lambda_env: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """No table exists and no request may leave the process: the prime answers DynamoDB
    itself, yet runs each request to the end (the mutation's transaction included)."""
    sent: list[Any] = []

    def no_network(self: URLLib3Session, request: Any) -> Any:
        sent.append(request.url)
        raise AssertionError(f"the prime sent a request to {request.url}")

    monkeypatch.setattr(URLLib3Session, "send", no_network)
    import_api(monkeypatch)

    with caplog.at_level(logging.INFO, logger="inmail.snapstart"):
        before_snapshot()

    assert sent == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == []  # every prime request did its work: no refusal, no error
    done = next(r for r in caplog.records if r.getMessage() == "SnapStart prime done")
    calls = done.dynamodb_calls  # type: ignore[attr-defined]
    assert calls["TransactWriteItems"] == 1  # sendInMail committed: the charge, the thread, the counters
    assert calls["GetItem"] >= 4  # the viewer's seat and count; the sender's seat, contract and candidate


def test_after_a_restore_requests_sign_with_the_credentials_of_the_restore_on_a_new_client(
    registries: None, lambda_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snapshot holds whatever the init resolved: credentials (the prime signed its
    requests) and the client with its connection pool. After a restore, requests must use
    the environment's credentials of that moment, on a client made after the restore."""
    from moto import mock_aws

    with mock_aws():
        ensure_tables(lambda_env)
        api = import_api(monkeypatch)
        seed(api)
        store = api._deps.store
        snapshot_client = store.transaction_client()
        before_snapshot()

        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "KEY-AFTER-RESTORE")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-after-restore")
        after_restore()
        client = store.transaction_client()
        signed: list[str] = []
        client.meta.events.register(
            "before-send.dynamodb", lambda request, **_: signed.append(request.headers["Authorization"])
        )

        send = {"candidateId": "k1", "subject": "A role", "body": "Hello"}
        payload = post(api, "SendInMail", {"input": send}, RECRUITER)["sendInMail"]

    assert payload["userErrors"] == [] and payload["thread"]["status"] == "AWAITING_REPLY", payload
    assert client is not snapshot_client
    assert {model._get_connection().connection.client for model in ALL_MODELS} == {client}  # one, shared
    assert signed and all(b"Credential=KEY-AFTER-RESTORE/" in _bytes(h) for h in signed), signed


def test_restored_copies_of_one_snapshot_draw_their_own_random_numbers_and_ids(
    registries: None, lambda_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two children forked from one process are two environments restored from one
    snapshot: the same memory. (Python re-seeds `random` in a forked child by itself, which
    a restore does not: each child puts back the state of the moment, as a restore would.)
    botocore's retry jitter draws from that generator: without the hook, every restored
    copy would draw the same numbers."""
    import random

    from inmail.wiring import UuidIds

    monkeypatch.setattr(URLLib3Session, "send", lambda self, request: pytest.fail("no request expected"))
    import_api(monkeypatch)
    before_snapshot()
    snapshot = random.getstate()

    def restored(run_hooks: bool) -> tuple[float, str]:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: one restored environment; it never returns into pytest
            try:
                os.close(read)
                random.setstate(snapshot)
                if run_hooks:
                    after_restore()
                os.write(write, json.dumps([random.random(), UuidIds().new_id()]).encode())
            finally:
                os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            drawn, new_id = json.loads(pipe.read())
        os.waitpid(pid, 0)
        return drawn, new_id

    without = [restored(run_hooks=False) for _ in range(2)]
    with_hooks = [restored(run_hooks=True) for _ in range(2)]

    assert without[0][0] == without[1][0]  # what the hook is for: the same "random" numbers
    assert with_hooks[0][0] != with_hooks[1][0]
    ids = [new_id for _, new_id in without + with_hooks]
    assert len(set(ids)) == 4 and all(uuid.UUID(i).version == 4 for i in ids)  # uuid4: from the OS


def test_without_the_runtime_library_the_handler_imports_and_registers_nothing(
    registries: None, lambda_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside Lambda's runtime (a bare venv, `inmail serve`) snapshot_restore_py may be
    missing: nothing takes a snapshot there, and the handler works as before."""
    import inmail.snapstart

    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails
    try:
        importlib.reload(inmail.snapstart)
        import_api(monkeypatch)
        assert snapshot_restore_py.get_before_snapshot() == []
        assert snapshot_restore_py.get_after_restore() == []
    finally:
        monkeypatch.undo()
        importlib.reload(inmail.snapstart)


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode()
