"""Security bugs an audit found (2026-11-27), each fixed; these keep them fixed. Through the
public path: an API Gateway v2 event with authorizer claims -> GraphQLHttp -> Strawberry."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from gql import Caller, GraphQLClient
from support import LambdaContext, claims_for, decode_body, http_event

# ---- identity: roles from a user-writable attribute ------------------------------------


@pytest.mark.parametrize(
    "claims",
    [
        # A Cognito ID token: the admin put mallory in the CANDIDATE group; mallory set her
        # own custom attribute with UpdateUserAttributes (app clients may write custom
        # attributes unless the deployer restricts them).
        {"sub": "mallory", "cognito:groups": "[CANDIDATE]", "custom:roles": "OPERATOR"},
        {"sub": "mallory", "custom:roles": "[OPERATOR]"},
    ],
    ids=["groups-plus-custom-attribute", "custom-attribute-only"],
)
def test_user_writable_custom_roles_attribute_grants_no_operator_powers(
    api: GraphQLClient, claims: dict[str, Any]
) -> None:
    mallory = Caller(api, claims)
    r = mallory.op("CreateContract", input={"id": "evil", "name": "x", "monthlyCredits": 1_000_000, "maxDailyLimit": 1})
    assert api.deps.store.get_contract("evil") is None, "a self-assigned custom:roles made the caller an operator"
    assert r.error_codes in (["FORBIDDEN"], ["UNAUTHENTICATED"]), r.body


# ---- limits: introspection is outside the depth limit; aliases multiply it -------------

_INTROSPECTION_FRAGMENTS = """
fragment L on __Type {
  name kind description specifiedByURL ofType { name kind ofType { name kind ofType { name kind } } }
}
fragment V on __InputValue { name description defaultValue isDeprecated deprecationReason type { ...L } }
fragment F on __Field { name description isDeprecated deprecationReason args { ...V } type { ...L } }
fragment T2 on __Type {
  ...L enumValues { name description isDeprecated deprecationReason } inputFields { ...V }
  fields { ...F } interfaces { ...L } possibleTypes { ...L }
}
fragment T1 on __Type {
  ...L enumValues { name description } inputFields { ...V type { ...T2 } }
  fields { ...F type { ...T2 } args { type { ...T2 } } }
}
"""


def test_aliased_introspection_cannot_amplify_a_small_request_into_megabytes(api: GraphQLClient) -> None:
    """Strawberry's depth limit ignores `__` fields and graphql-core only bounds list nesting,
    so 20 aliases of `__schema` (within the alias and token limits) turned ~2 KB into ~4 MB
    and seconds of CPU, for any caller with any role (now: one `__schema` per operation)."""
    one = "__schema { types { ...T1 } directives { name args { ...V type { ...T2 } } } }"
    query = "{ " + " ".join(f"a{i}: {one}" for i in range(20)) + " }" + _INTROSPECTION_FRAGMENTS
    body = json.dumps({"query": query})
    assert len(body) < 3_000
    started = time.monotonic()
    r = api.as_("k9", "CANDIDATE").raw(query)
    elapsed = time.monotonic() - started
    size = len(json.dumps(r.body))
    refused = r.data is None and bool(r.errors)
    assert refused or size < 1_000_000, f"{len(body)} B request -> {size} B response in {elapsed:.1f} s"


# ---- masking: an exception during validation reaches the client unmasked --------------


@pytest.mark.parametrize("query", ["{ ...Nope }", "{ viewer { ...Nope } }", "mutation { ...Nope }"])
def test_unknown_fragment_is_a_validation_error_not_a_raw_python_exception(api: GraphQLClient, query: str) -> None:
    """Strawberry's depth limit does `fragments[name]` and raised KeyError, which reached the
    client as the raw exception text ("'Nope'"); now graphql-core's own rule answers."""
    r = api.operator.raw(query)
    message = r.errors[0]["message"]
    assert "Unknown fragment 'Nope'" in message, r.body


# ---- hostile bodies: JSON the decoder chokes on is a 400 (it was a 500) ----------------


@pytest.mark.parametrize(
    "raw",
    [
        b'{"query":"{ viewer { id } }","variables":{"a":' + b"[" * 20_000 + b"]" * 20_000 + b"}}",
        b'{"query":"{ viewer { id } }","variables":{"a":"\xff\xfe"}}',
        b'{"query":"{ viewer { id } }","variables":{"a":1' + b"0" * 5_000 + b"}}",
    ],
    ids=["nested-20000-deep", "invalid-utf8", "5000-digit-number"],
)
def test_json_the_decoder_rejects_is_a_400_not_a_500(api: GraphQLClient, raw: bytes) -> None:
    assert len(raw) < 64 * 1024
    event = http_event("POST", base64.b64encode(raw).decode(), claims_for("ops", "OPERATOR"))
    event["isBase64Encoded"] = True
    response = api.handler(event, LambdaContext())
    assert response["statusCode"] == 400, (response["statusCode"], decode_body(response))


# ---- bad variables explain themselves (they were masked as "Unexpected error") -------


@pytest.mark.parametrize(
    "query, variables, said",
    [
        ("query($n: Int!) { awaitingReply(first: $n) { edges { cursor } } }", {"n": "abc"}, "Int cannot represent"),
        (
            'mutation($t: DateTime!) { rescheduleFollowUp(input: {threadId: "t", sendAt: $t}) { thread { id } } }',
            {"t": "next tuesday"},
            "cannot represent a DateTime",
        ),
    ],
    ids=["int", "datetime"],
)
def test_a_variable_of_the_wrong_type_gets_a_clear_error(
    api: GraphQLClient, query: str, variables: dict[str, Any], said: str, caplog: pytest.LogCaptureFixture
) -> None:
    r = api.as_("r1", "RECRUITER").raw(query, variables)
    assert r.data is None and len(r.errors) == 1, r.body
    assert said in r.errors[0]["message"] and "Unexpected error" not in r.errors[0]["message"]
    assert "unexpected error" not in caplog.text  # the client's mistake is not logged as ours


# ---- aliased listings: each page reads up to 100 items -------------------------------


def test_listings_are_bounded_per_operation_through_aliases_and_fragments(api: GraphQLClient) -> None:
    """20 aliases of `sentThreads(first: 100)` would read 2,000 threads in one request;
    at most 5 pages per operation are allowed (500 items at most)."""
    page = "sentThreads(first: 100) { edges { cursor } }"
    five = "{ " + " ".join(f"p{i}: {page}" for i in range(5)) + " }"
    recruiter = api.as_("r1", "RECRUITER")
    assert not any("listings" in e["message"] for e in recruiter.raw(five).errors)
    six = (
        "{ ...Pages p5: " + page + " } fragment Pages on Query { " + " ".join(f"p{i}: {page}" for i in range(5)) + " }"
    )
    r = recruiter.raw(six)
    assert r.data is None and "At most 5 listings" in r.errors[0]["message"], r.body


def test_the_listing_limit_knows_every_paginated_field() -> None:
    """Every Query field returning many items: a connection, or a list (templates)."""
    from inmail.api.limits import LISTINGS
    from inmail.api.schema import schema

    query = schema._schema.query_type
    assert query is not None
    many = {
        name
        for name, field in query.fields.items()
        if str(field.type).rstrip("!").endswith("Connection") or str(field.type).startswith("[")
    }
    assert many == LISTINGS
