"""Sending to many (R90-R92) as a user does it, through the committed operations: shared by
the rule tests (in-memory store) and the DynamoDB tests (moto)."""

from __future__ import annotations

from typing import Any

from gql import Caller, GraphQLClient


def candidates(api: GraphQLClient, n: int, prefix: str = "k", **profile: Any) -> list[str]:
    """n candidates `k01`...; each named Kim-01..., with first and last names unless given."""
    ids = []
    for i in range(1, n + 1):
        cid = f"{prefix}{i:02d}"
        names = {"firstName": f"Kim{i:02d}", "lastName": "Lee", **profile}
        p = api.operator.mutate("UpsertCandidate", candidateId=cid, name=f"Kim-{i:02d} Lee", **names)
        assert p["userErrors"] == [], p
        ids.append(cid)
    return ids


def send_many(caller: Caller, candidate_ids: list[str], **input: Any) -> dict[str, Any]:
    """sendInMails' payload; subject and body default to a plain text unless a template or
    the test gives them."""
    if "templateId" not in input:
        input.setdefault("subject", "A role for you")
        input.setdefault("body", "Hello {firstName|there}")
    return caller.mutate("SendInMails", candidateIds=candidate_ids, **input)


def outcomes(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(candidateId, SENT or the refusal's code), in the order of the results."""
    out = []
    for r in payload["results"]:
        codes = [e["code"] for e in r["userErrors"]]
        assert len(codes) <= 1, r
        out.append((r["candidateId"], codes[0] if codes else "SENT"))
    return out


def sent(payload: dict[str, Any]) -> list[str]:
    return [cid for cid, outcome in outcomes(payload) if outcome == "SENT"]


def request_errors(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


def recruiter(api: GraphQLClient, rid: str = "r1", contract: str = "c1", admin: bool = False) -> Caller:
    roles = ("RECRUITER", "CONTRACT_ADMIN") if admin else ("RECRUITER",)
    return api.as_(rid, *roles, contract=contract)


def remaining(caller: Caller) -> int:
    value: int = caller.data("Contract")["contract"]["creditsRemaining"]
    return value


def sent_today(caller: Caller) -> int:
    value: int = caller.data("Viewer")["viewer"]["seat"]["sentToday"]
    return value


def ledger(caller: Caller) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    after = None
    while True:
        page = caller.data("CreditLedger", first=100, after=after)["creditLedger"]
        entries += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return entries
        after = page["pageInfo"]["endCursor"]
