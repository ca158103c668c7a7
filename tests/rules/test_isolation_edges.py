"""Isolation and limits at the edges: idempotency keys across tenants, aliases hidden in
fragments, page-size bounds on every listing. (Depth through fragments is moot: the schema
has no cycles, its deepest real path is 7 of 8.) Forged cursors are the store adapter's
to refuse: tests/integration/test_cursors.py, on moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gql import GraphQLClient
from steps import codes, sent


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


def test_send_idempotency_keys_do_not_collide_across_contracts(api: GraphQLClient) -> None:
    """test_idempotency covers two recruiters on one contract; this, two contracts."""
    w = _world(api)
    mine = sent(w["r1"], idempotencyKey="shared", subject="Same", body="Same")
    theirs = sent(w["x1"], idempotencyKey="shared", subject="Same", body="Same")
    assert mine["id"] != theirs["id"]
    assert (theirs["contractId"], theirs["recruiterId"]) == ("c2", "x1")
    assert "SECRET" not in json.dumps(theirs)


def test_a_schedule_idempotency_key_replayed_on_another_tenants_thread_is_not_found(api: GraphQLClient) -> None:
    """The key r1 used on their thread gives an outsider neither a replay
    of r1's thread nor a charge."""
    w = _world(api)
    plain = w["victim"][1]
    p = w["r1"].mutate("ScheduleFollowUp", threadId=plain, body="Mine", idempotencyKey="k-1")
    assert p["userErrors"] == []
    for who in ("x1", "xa", "a1"):
        r = w[who].op("ScheduleFollowUp", input={"threadId": plain, "body": "Mine", "idempotencyKey": "k-1"})
        payload = r.data["scheduleFollowUp"]
        assert codes(payload) == ["NOT_FOUND"] and payload["thread"] is None, (who, r.body)


def test_aliases_hidden_in_fragments_and_inline_fragments_count(api: GraphQLClient) -> None:
    """21 aliases spread over the operation, a named fragment and an
    inline fragment are refused; 20 pass."""

    def doc(n_frag: int) -> str:
        frag = " ".join(f"f{i}: viewer {{ id }}" for i in range(n_frag))
        inline = " ".join(f"i{i}: viewer {{ id }}" for i in range(5))
        root = " ".join(f"r{i}: viewer {{ id }}" for i in range(5))
        return f"query {{ {root} ... on Query {{ {inline} }} ...F }} fragment F on Query {{ {frag} }}"

    ops = api.operator
    assert not ops.raw(doc(10)).errors
    r = ops.raw(doc(11))
    assert r.data is None and "aliases" in r.errors[0]["message"]


@pytest.mark.parametrize("first", [0, -1, 101])
@pytest.mark.parametrize(
    ("who", "op", "root"),
    [
        ("r1", "SentThreads", "sentThreads"),
        ("r1", "CreditLedger", "creditLedger"),
        ("k1", "Inbox", "inbox"),
        ("r1", "AwaitingReply", "awaitingReply"),
    ],
)
def test_every_listing_bounds_first(api: GraphQLClient, who: str, op: str, root: str, first: int) -> None:
    """`first` outside 1..100 is refused on every listing, not only awaitingReply."""
    w = _world(api)
    r = w[who].op(op, first=first)
    assert r.data is None and r.errors and r.errors[0]["extensions"]["code"] == "BAD_USER_INPUT", r.body
