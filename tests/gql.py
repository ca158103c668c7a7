"""Run the committed operations (graphql/operations) through the Lambda's HTTP path:
an API Gateway v2 event with authorizer claims -> GraphQLHttp -> Strawberry."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from inmail.api.apigw import handle_event
from inmail.api.http import GraphQLHttp
from inmail.config import Settings
from inmail.services.deps import Deps
from support import LambdaContext, claims_for, decode_body, http_event, operation


@dataclass
class Response:
    status: int
    body: Any

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.body.get("errors") or [])

    @property
    def error_codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.errors]


class Caller:
    def __init__(self, client: GraphQLClient, claims: dict[str, Any] | None):
        self.client = client
        self.claims = claims

    def raw(self, query: str, variables: dict[str, Any] | None = None) -> Response:
        body = json.dumps({"query": query, "variables": variables or {}})
        return self.client.post(body, self.claims)

    def op(self, name: str, /, **variables: Any) -> Response:
        return self.raw(operation(name), variables)

    def data(self, name: str, /, **variables: Any) -> Any:
        """Run an operation that must not fail at the GraphQL level; its data."""
        r = self.op(name, **variables)
        assert not r.errors, r.errors
        return r.data

    def mutate(self, name: str, /, **input: Any) -> dict[str, Any]:
        """A mutation's payload (the one root field)."""
        data = self.data(name, input=input)
        payload: dict[str, Any] = next(iter(data.values()))
        return payload


class GraphQLClient:
    def __init__(self, deps: Deps, settings: Settings):
        self.deps = deps
        self.api = GraphQLHttp(deps, settings)

    def handler(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """What the Lambda handler does with an event, minus its module-level wiring."""
        return handle_event(self.api, event)

    def post(self, body: str, claims: dict[str, Any] | None, headers: dict[str, str] | None = None) -> Response:
        response = self.handler(http_event("POST", body, claims, headers), LambdaContext())
        return Response(response["statusCode"], decode_body(response))

    def as_(self, sub: str, *roles: str, contract: str | None = None) -> Caller:
        return Caller(self, claims_for(sub, *roles, contract=contract))

    def anonymous(self) -> Caller:
        return Caller(self, None)

    # ---- common set-up through the API ----------------------------------------

    @property
    def operator(self) -> Caller:
        return self.as_("ops", "OPERATOR")

    def contract(self, cid: str = "c1", credits: int = 10, max_daily: int = 25, enabled: bool = True) -> None:
        p = self.operator.mutate(
            "CreateContract",
            id=cid,
            name=f"Contract {cid}",
            monthlyCredits=credits,
            maxDailyLimit=max_daily,
            followUpsEnabled=enabled,
        )
        assert not p["userErrors"], p

    def seat(self, rid: str, cid: str = "c1", admin: bool = False, daily: int | None = None) -> Caller:
        p = self.operator.mutate("AddSeat", contractId=cid, recruiterId=rid, admin=admin, dailyLimit=daily)
        assert not p["userErrors"], p
        roles = ("RECRUITER", "CONTRACT_ADMIN") if admin else ("RECRUITER",)
        return self.as_(rid, *roles, contract=cid)

    def candidate(self, cand: str = "k1", deleted: bool = False) -> Caller:
        p = self.operator.mutate("UpsertCandidate", candidateId=cand, name=f"Candidate {cand}", deleted=deleted)
        assert not p["userErrors"], p
        return self.as_(cand, "CANDIDATE")
