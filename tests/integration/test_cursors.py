"""Cursors on DynamoDB (moto), where they are decided: a cursor is the adapter's
ExclusiveStartKey, so refusing one from another partition, a forged one or garbage is the
store adapter's job (store/dynamo.py). R60 through the GraphQL API; the in-memory store
keeps the same contract (tests/store/test_store_contract.py)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from gql import Caller, GraphQLClient
from matrix import Matrix, build
from steps import sent


@pytest.fixture
def matrix(api: GraphQLClient) -> Matrix:
    return build(api)


def test_r60_a_cursor_from_another_partition_reveals_nothing(matrix):
    m = matrix
    page = m.r1.data("SentThreads", first=1)["sentThreads"]
    assert page["pageInfo"]["hasNextPage"] is True
    cursor = page["pageInfo"]["endCursor"]
    for c in (m.r2, m.x1):
        r = c.op("SentThreads", first=10, after=cursor)
        text = json.dumps(r.body)
        assert all(tid not in text for tid in m.r1_threads)
        assert r.errors  # a cursor names a position in the caller's own listing only
    for bad in ("garbage", "eyJ9", "e30="):
        r = m.r1.op("SentThreads", first=10, after=bad)
        assert r.errors and r.data is None


# ---- a cursor re-signed with another tenant's partition -------------------------------


def _world(api: GraphQLClient) -> dict[str, Any]:
    api.contract("c1", credits=20)
    api.contract("c2", credits=20)
    w: dict[str, Any] = {
        "r1": api.seat("r1", "c1"),
        "a1": api.seat("a1", "c1", admin=True),
        "x1": api.seat("x1", "c2"),
        "xa": api.seat("xa", "c2", admin=True),
        "k1": api.candidate("k1"),
        "k2": api.candidate("k2"),
    }
    w["victim"] = [sent(w["r1"], subject="SECRET", followUp={"body": "SECRET fu"})["id"], sent(w["r1"])["id"]]
    w["own"] = [sent(w["x1"], "k2")["id"], sent(w["x1"], "k2")["id"]]
    return w


def _forge(cursor: str, **swap: str) -> str:
    raw = json.loads(base64.urlsafe_b64decode(cursor))
    assert set(swap) <= set(raw), raw
    raw.update(swap)
    return base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).decode()


# (attacker, operation, variables, root field, the partition attribute and the victim's value)
FORGERIES = [
    ("x1", "SentThreads", {}, "sentThreads", "recruiter_id", "r1"),
    ("xa", "SentThreads", {"allRecruiters": True}, "sentThreads", "contract_id", "c1"),
    ("x1", "AwaitingReply", {}, "awaitingReply", "awaiting_recruiter_id", "r1"),
    ("x1", "CreditLedger", {}, "creditLedger", "recruiter_id", "r1"),
    ("xa", "CreditLedger", {}, "creditLedger", "contract_id", "c1"),
    ("k2", "Inbox", {}, "inbox", "inbox_candidate_id", "k1"),
]


@pytest.mark.parametrize(("who", "op", "variables", "root", "attr", "victim"), FORGERIES)
def test_a_cursor_re_signed_with_another_tenants_partition_is_refused(
    api: GraphQLClient, who: str, op: str, variables: dict[str, Any], root: str, attr: str, victim: str
) -> None:
    """The attacker takes a cursor from their own listing and rewrites its
    partition key to the victim's: refused, nothing of the victim returned."""
    w = _world(api)
    attacker: Caller = w[who]
    own = attacker.data(op, first=1, **variables)[root]
    cursor = own["edges"][0]["cursor"]
    forged = _forge(cursor, **{attr: victim})
    r = attacker.op(op, first=100, after=forged, **variables)
    text = json.dumps(r.body)
    assert r.errors and r.data is None, r.body
    assert all(t not in text for t in w["victim"]) and "SECRET" not in text
    # and the victim's ids in the other key attributes of an own-partition cursor are harmless
    r = attacker.op(op, first=100, after=own["pageInfo"]["endCursor"], **variables)
    assert all(t not in json.dumps(r.body) for t in w["victim"])
