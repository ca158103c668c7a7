"""Profiles stored in DynamoDB (moto): what the rule tests prove on the in-memory store,
read back by DynamoStore through the GraphQL API (tests/store/test_store_contract.py checks
every field of both stores)."""

from __future__ import annotations

from gql import GraphQLClient


def test_profile_names_round_trip_through_dynamodb(api: GraphQLClient) -> None:
    """The names R91 substitutes are stored and read back by DynamoStore, not only the fake."""
    api.contract()
    ops = api.operator
    seat = ops.raw(
        'mutation { addSeat(input: {contractId: "c1", recruiterId: "r1", name: "Ada Byron"}) { seat { name } } }'
    )
    assert seat.data["addSeat"]["seat"] == {"name": "Ada Byron"}
    upsert = 'mutation { upsertCandidate(input: {candidateId: "k1", name: "K", firstName: "Kim"}) { candidate { id }} }'
    assert not ops.raw(upsert).errors
    recruiter = api.as_("r1", "RECRUITER", contract="c1")
    assert recruiter.raw("{ viewer { seat { name } } }").data == {"viewer": {"seat": {"name": "Ada Byron"}}}
    stored = api.deps.store.get_candidate("k1")
    assert stored is not None and (stored.first_name, stored.last_name) == ("Kim", None)
