"""Hostile requests get a clear 4xx or GraphQL error, quickly, and write nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gql import GraphQLClient
from support import LambdaContext, claims_for, decode_body, http_event

OPERATOR = claims_for("ops", "OPERATOR")


def call(
    api: GraphQLClient,
    body: str,
    headers: dict[str, str] | None = None,
    method: str = "POST",
    claims: dict[str, Any] | None = OPERATOR,
) -> tuple[int, Any]:
    response = api.handler(http_event(method, body, claims, headers), LambdaContext())
    raw = response.get("body") or ""
    try:
        return response["statusCode"], decode_body(response)
    except ValueError:
        return response["statusCode"], raw


def nothing_written(api: GraphQLClient) -> None:
    assert api.deps.store.get_contract("evil") is None


CREATE = 'createContract(input: {id: "evil", name: "x", monthlyCredits: 1, maxDailyLimit: 1}) { contract { id } }'


def test_deepest_real_query_passes(api: GraphQLClient) -> None:
    """The schema has no cycles: its deepest path (7) is within the limit (8)."""
    deep = "{ sentThreads { edges { node { followUp { decision { checks { rule } } } } } } }"
    status, body = call(api, json.dumps({"query": deep}), claims=claims_for("nobody", "RECRUITER"))
    assert status == 200 and "depth" not in json.dumps(body)


def test_recursive_introspection_is_refused(api: GraphQLClient) -> None:
    """`__Type.fields -> type -> fields` nests without end; graphql-core bounds it."""
    nested = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    status, body = call(api, json.dumps({"query": nested}))
    assert status == 200 and body["data"] is None
    assert "introspection depth" in body["errors"][0]["message"]


def test_playground_introspection_is_allowed(api: GraphQLClient) -> None:
    from graphql import get_introspection_query

    status, body = call(api, json.dumps({"query": get_introspection_query(descriptions=True)}))
    assert status == 200 and "errors" not in body and body["data"]["__schema"]["queryType"]["name"] == "Query"


def test_thousands_of_aliases_are_refused(api: GraphQLClient) -> None:
    query = "mutation { " + " ".join(f"a{i}: {CREATE}" for i in range(1000)) + " }"
    status, body = call(api, json.dumps({"query": query}))
    assert status == 413  # over 64 KiB: refused before parsing
    small = (
        "mutation { " + " ".join(f"a{i}: createContract(input: $i) {{ contract {{ id }} }}" for i in range(300)) + " }"
    )
    status, body = call(
        api,
        json.dumps(
            {
                "query": small.replace("mutation {", "mutation($i: CreateContractInput!) {"),
                "variables": {"i": {"id": "evil", "name": "x", "monthlyCredits": 1, "maxDailyLimit": 1}},
            }
        ),
    )
    assert status == 200 and body["data"] is None
    nothing_written(api)


def test_twenty_one_aliases_are_refused_twenty_pass(api: GraphQLClient) -> None:
    ok = "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(20)) + " }"
    assert "errors" not in call(api, json.dumps({"query": ok}))[1]
    refused = "mutation { " + " ".join(f"a{i}: {CREATE}" for i in range(21)) + " }"
    _, body = call(api, json.dumps({"query": refused}))
    assert body["data"] is None and "aliases" in body["errors"][0]["message"]
    nothing_written(api)


def test_a_refused_document_is_refused_each_time_it_is_sent(api: GraphQLClient) -> None:
    """Validation results are cached per document: a refusal stays a refusal, and a
    document that passes keeps passing, however often either is sent."""
    refused = "mutation { " + " ".join(f"a{i}: {CREATE}" for i in range(21)) + " }"
    pages = "{ " + " ".join(f"p{i}: awaitingReply(first: 1) {{ edges {{ cursor }} }}" for i in range(6)) + " }"
    ok = "{ viewer { id } }"
    for _ in range(3):
        _, body = call(api, json.dumps({"query": refused}))
        assert body["data"] is None and "aliases" in body["errors"][0]["message"]
        _, body = call(api, json.dumps({"query": pages}), claims=claims_for("nobody", "RECRUITER"))
        assert body["data"] is None and "listings" in body["errors"][0]["message"]
        _, body = call(api, json.dumps({"query": ok}))
        assert "errors" not in body and body["data"]["viewer"]["id"] == "ops"
    nothing_written(api)


def test_too_many_tokens_are_refused(api: GraphQLClient) -> None:
    query = "mutation { " + CREATE.replace("{ contract { id } }", "{ contract { " + "id " * 3000 + "} }") + " }"
    status, body = call(api, json.dumps({"query": query}))
    assert status == 200 and body["data"] is None and "token" in body["errors"][0]["message"].lower()
    nothing_written(api)


def test_huge_body_is_413_before_parsing(api: GraphQLClient) -> None:
    status, body = call(api, json.dumps({"query": "mutation { " + CREATE + " }", "variables": {"pad": "x" * 70_000}}))
    assert status == 413 and body["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    nothing_written(api)


@pytest.mark.parametrize(
    ("body", "headers", "method"),
    [
        (json.dumps([{"query": "mutation { " + CREATE + " }"}] * 2), None, "POST"),  # batching is off
        ("{not json", None, "POST"),
        ("query=mutation", {"content-type": "text/plain"}, "POST"),
        (json.dumps({"query": "mutation { " + CREATE + " }"}), None, "GET"),  # no operations over GET
        (json.dumps({"query": 42}), None, "POST"),
        (json.dumps({"query": "mutation { " + CREATE + " }", "variables": "not an object"}), None, "POST"),
        (json.dumps("mutation { " + CREATE + " }"), None, "POST"),  # JSON, but a string
        ("null", None, "POST"),
        ("[5]", None, "POST"),
    ],
    ids=[
        "batched",
        "malformed-json",
        "wrong-content-type",
        "get-operation",
        "query-not-string",
        "bad-variables",
        "body-a-json-string",
        "body-null",
        "body-a-list-of-numbers",
    ],
)
def test_malformed_requests_get_a_clear_4xx(
    api: GraphQLClient, body: str, headers: dict[str, str] | None, method: str
) -> None:
    status, _ = call(api, body, headers, method)
    assert 400 <= status < 500
    nothing_written(api)


def test_unknown_path_is_404(api: GraphQLClient) -> None:
    response = api.handler(http_event("POST", "{}", OPERATOR, path="/admin"), LambdaContext())
    assert response["statusCode"] == 404


def test_unexpected_errors_are_masked_and_carry_no_stack_trace(
    api: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(*_: Any, **__: Any) -> None:
        raise RuntimeError("secret internal detail at /var/task/inmail/x.py line 3")

    monkeypatch.setattr(api.deps.store, "commit", boom)
    status, body = call(api, json.dumps({"query": "mutation { " + CREATE + " }"}))
    text = json.dumps(body)
    assert status == 200 and "secret internal detail" not in text and "Traceback" not in text
    assert body["errors"][0]["message"] == "Unexpected error. It was logged."
    logged = [r for r in caplog.records if "unexpected error" in r.getMessage()]
    assert logged and "rid-1" in logged[0].getMessage()  # the API Gateway request id, to find it
    assert logged[0].exc_info is not None  # the stack trace stays in the logs
