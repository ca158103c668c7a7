"""Names on profiles and seats (for R91's placeholders), set by the operator's provisioning
mutations, through the GraphQL/HTTP path on the in-memory store."""

from __future__ import annotations

from typing import Any

import pytest

from gql import Caller, GraphQLClient
from inmail.config import Settings
from world import World

UPSERT = """mutation($input: UpsertCandidateInput!) { upsertCandidate(input: $input) {
  candidate { id name deleted firstName lastName } userErrors { code field message } } }"""
ADD_SEAT = """mutation($input: AddSeatInput!) { addSeat(input: $input) {
  seat { recruiterId name } userErrors { code field message } } }"""


@pytest.fixture
def ops() -> Caller:
    return GraphQLClient(World().deps, Settings()).operator


def upsert(ops: Caller, **input: Any) -> dict[str, Any]:
    r = ops.raw(UPSERT, {"input": {"candidateId": "k1", "name": "Kim Lee", **input}})
    assert not r.errors, r.errors
    payload: dict[str, Any] = r.data["upsertCandidate"]
    return payload


def test_first_and_last_name_kept_when_left_out_and_cleared_by_null(ops: Caller) -> None:
    created = upsert(ops, firstName="Kim", lastName="Lee")
    assert created["candidate"] == {
        "id": "k1",
        "name": "Kim Lee",
        "deleted": False,
        "firstName": "Kim",
        "lastName": "Lee",
    }
    # The profile service marks it deleted without repeating the names: they stay.
    deleted = upsert(ops, deleted=True)["candidate"]
    assert (deleted["deleted"], deleted["firstName"], deleted["lastName"]) == (True, "Kim", "Lee")
    cleared = upsert(ops, lastName=None)["candidate"]
    assert (cleared["firstName"], cleared["lastName"]) == ("Kim", None)


@pytest.mark.parametrize(("field", "value"), [("firstName", ""), ("lastName", "Lee\x00"), ("firstName", "x" * 201)])
def test_a_bad_name_is_invalid_input_and_changes_nothing(ops: Caller, field: str, value: str) -> None:
    upsert(ops, firstName="Kim", lastName="Lee")
    refused = upsert(ops, **{field: value})
    assert refused["candidate"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [("INVALID_INPUT", ["input", field])]
    again = upsert(ops)["candidate"]
    assert (again["firstName"], again["lastName"]) == ("Kim", "Lee")


def test_a_seat_carries_the_recruiters_display_name(ops: Caller) -> None:
    r = ops.raw(
        'mutation { createContract(input: {id: "c1", name: "Acme", monthlyCredits: 5, maxDailyLimit: 5}) '
        "{ userErrors { code } } }"
    )
    assert r.data["createContract"]["userErrors"] == []
    named = ops.raw(ADD_SEAT, {"input": {"contractId": "c1", "recruiterId": "r1", "name": "Ada Byron"}})
    assert named.data["addSeat"] == {"seat": {"recruiterId": "r1", "name": "Ada Byron"}, "userErrors": []}
    unnamed = ops.raw(ADD_SEAT, {"input": {"contractId": "c1", "recruiterId": "r2"}})
    assert unnamed.data["addSeat"]["seat"] == {"recruiterId": "r2", "name": None}
    blank = ops.raw(ADD_SEAT, {"input": {"contractId": "c1", "recruiterId": "r3", "name": " "}})
    assert [e["code"] for e in blank.data["addSeat"]["userErrors"]] == ["INVALID_INPUT"]
