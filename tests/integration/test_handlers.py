"""The Lambda entry points as deployed: infra/events/*.json (the events `sam local invoke`
uses) through inmail.handlers.api.handler and inmail.handlers.sweeper.handler, on moto.

Each handler module wires its dependencies at import time from the environment that
template.yaml gives the functions, so the tests set that environment, create the tables,
then import the module afresh (the original module comes back after the test)."""

from __future__ import annotations

import copy
import importlib
import json
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from inmail.config import Settings
from inmail.store.models import configure
from inmail.store.tables import ensure_tables
from support import LambdaContext, claims_for, decode_body, operation

EVENTS = Path(__file__).resolve().parents[2] / "infra" / "events"

# What template.yaml's Globals set, with table names of this test's own.
LAMBDA_ENV = {
    "CONTRACTS_TABLE": "handlers-contracts",
    "SEATS_TABLE": "handlers-seats",
    "CANDIDATES_TABLE": "handlers-candidates",
    "THREADS_TABLE": "handlers-threads",
    "LEDGER_TABLE": "handlers-ledger",
    "COUNTERS_TABLE": "handlers-counters",
    "TEMPLATES_TABLE": "handlers-templates",
    "BATCHES_TABLE": "handlers-batches",
    "DUE_SHARDS": "4",
    "AUTH_MODE": "apigw",
    "POWERTOOLS_SERVICE_NAME": "inmail",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


def load_event(name: str) -> dict[str, Any]:
    """A sample event from infra/events (a fresh copy: tests may change it)."""
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return copy.deepcopy(event)


def fresh_import(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import a module again, running its import-time wiring now; undone after the test."""
    parent_name, _, child = name.rpartition(".")
    parent = importlib.import_module(parent_name)
    monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(parent, child, None, raising=False)
    return importlib.import_module(name)


@pytest.fixture
def lambda_settings(aws: None, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    for key, value in LAMBDA_ENV.items():
        monkeypatch.setenv(key, value)
    deployed = Settings.from_env()
    assert deployed.contracts_table == LAMBDA_ENV["CONTRACTS_TABLE"]
    ensure_tables(deployed)  # CloudFormation creates them in AWS
    yield deployed
    configure(settings)  # the models back on the other tests' tables


@pytest.fixture
def api(lambda_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return fresh_import("inmail.handlers.api", monkeypatch)


@pytest.fixture
def sweeper(lambda_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return fresh_import("inmail.handlers.sweeper", monkeypatch)


def invoke(api: ModuleType, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    response: dict[str, Any] = api.handler(event, LambdaContext())
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    return response["statusCode"], headers, response


def post(api: ModuleType, query: str, variables: dict[str, Any], claims: dict[str, Any] | None) -> Any:
    """The sample POST event with another operation and other claims."""
    event = load_event("api_post")
    event["body"] = json.dumps({"query": query, "variables": variables})
    if claims is None:
        del event["requestContext"]["authorizer"]
    else:
        event["requestContext"]["authorizer"]["jwt"]["claims"] = claims
    status, _, response = invoke(api, event)
    body = decode_body(response)
    assert status == 200 and not body.get("errors"), body
    return body["data"]


def contract_item(settings: Settings, contract_id: str) -> dict[str, Any] | None:
    client = boto3.client("dynamodb", region_name=settings.region)
    item: dict[str, Any] | None = client.get_item(
        TableName=settings.contracts_table, Key={"contract_id": {"S": contract_id}}
    ).get("Item")
    return item


def test_sample_events_are_the_api_gateway_v2_and_scheduler_shapes() -> None:
    get, post_, schedule = load_event("api_get"), load_event("api_post"), load_event("schedule")
    assert (get["version"], get["routeKey"]) == ("2.0", "GET /graphql")
    assert "authorizer" not in get["requestContext"]  # the GET route has no authorizer
    assert (post_["version"], post_["routeKey"]) == ("2.0", "POST /graphql")
    assert post_["requestContext"]["authorizer"]["jwt"]["claims"]["sub"]
    assert set(schedule) == {"time"}


def test_get_serves_graphiql(api: ModuleType) -> None:
    status, headers, response = invoke(api, load_event("api_get"))

    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert "graphiql" in response["body"].lower()


def test_post_runs_the_mutation_with_the_authorizer_claims(api: ModuleType, lambda_settings: Settings) -> None:
    status, headers, response = invoke(api, load_event("api_post"))
    body = decode_body(response)

    assert status == 200, body
    assert headers["content-type"].startswith("application/json")
    assert "errors" not in body
    payload = body["data"]["createContract"]
    assert payload["userErrors"] == []
    assert payload["contract"] == {
        "id": "acme",
        "name": "Acme Corp",
        "monthlyCredits": 100,
        "maxDailyLimit": 25,
        "followUpsEnabled": True,
        "creditsRemaining": 100,
    }
    stored = contract_item(lambda_settings, "acme")  # in the table the environment names
    assert stored is not None and stored["name"] == {"S": "Acme Corp"}


@pytest.mark.parametrize(
    "claims",
    [None, {"sub": "operator-1"}, {"roles": "[OPERATOR]"}],
    ids=["no-authorizer", "no-role", "no-subject"],
)
def test_post_without_verified_identity_is_refused(
    api: ModuleType, lambda_settings: Settings, claims: dict[str, Any] | None
) -> None:
    event = load_event("api_post")
    if claims is None:
        del event["requestContext"]["authorizer"]
    else:
        event["requestContext"]["authorizer"]["jwt"]["claims"] = claims

    status, _, response = invoke(api, event)
    body = decode_body(response)

    assert status == 401, body
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert contract_item(lambda_settings, "acme") is None  # nothing ran


def test_scheduled_sweep_returns_its_summary(sweeper: ModuleType) -> None:
    event = load_event("schedule")

    result = sweeper.handler(event, LambdaContext(remaining_ms=60_000))

    assert result["delivered"] == 0 and result["due"] == 0
    assert result["now"] == "2026-11-27T09:00:00+00:00"  # the scheduled time is the sweep's now
    assert result["sweep_id"] == LambdaContext.aws_request_id
    assert {"failed", "cancelled", "deleted", "error", "out_of_time", "lag_seconds"} <= set(result)


def test_sweeper_delivers_a_follow_up_sent_through_the_api(api: ModuleType, sweeper: ModuleType) -> None:
    """Both functions on the same tables, as deployed: set up and send through the API
    handler, then the scheduled sweep after the follow-up is due delivers it."""
    operator = claims_for("operator-1", "OPERATOR")
    create = {"id": "acme", "name": "Acme", "monthlyCredits": 10, "maxDailyLimit": 25}
    post(api, operation("CreateContract"), {"input": create}, operator)
    post(api, operation("AddSeat"), {"input": {"contractId": "acme", "recruiterId": "r1"}}, operator)
    post(api, operation("UpsertCandidate"), {"input": {"candidateId": "k1", "name": "Kim"}}, operator)
    send = {"candidateId": "k1", "subject": "A role", "body": "Hello", "followUp": {"body": "ping", "delayDays": 3}}
    recruiter = claims_for("r1", "RECRUITER", contract="acme")
    sent = post(api, operation("SendInMail"), {"input": send}, recruiter)["sendInMail"]
    assert not sent["userErrors"], sent
    due_at = datetime.fromisoformat(sent["thread"]["followUp"]["scheduledFor"])

    event = load_event("schedule")
    event["time"] = (due_at + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    result = sweeper.handler(event, LambdaContext(remaining_ms=60_000))

    assert (result["due"], result["delivered"]) == (1, 1), result
    thread_id = sent["thread"]["id"]
    thread = post(api, operation("Thread"), {"id": thread_id}, recruiter)["thread"]
    assert thread["followUp"]["status"] == "SENT", thread["followUp"]
