"""What a user checks, through the committed GraphQL operations: shared by the rule tests
(in-memory store) and the integration tests (moto); plain functions, no fixtures, so
nothing leaks into other files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gql import Caller, GraphQLClient
from inmail.services.sweep import run_sweep


@dataclass
class World:
    api: GraphQLClient
    r1: Caller  # recruiter on c1
    k1: Caller  # candidate

    @property
    def operator(self) -> Caller:
        return self.api.operator


def world(
    api: GraphQLClient,
    credits: int = 10,
    max_daily: int = 25,
    daily: int | None = None,
    enabled: bool = True,
    admin: bool = False,
) -> World:
    """Contract c1 with recruiter r1 (its admin too, with `admin`) and candidate k1."""
    api.contract("c1", credits=credits, max_daily=max_daily, enabled=enabled)
    r1 = api.seat("r1", "c1", admin=admin, daily=daily)
    k1 = api.candidate("k1")
    return World(api, r1, k1)


# ---- mutations ----------------------------------------------------------------------


def send(
    caller: Caller, candidate: str = "k1", subject: str = "Hello", body: str = "A role for you", **extra: Any
) -> Any:
    """sendInMail's payload (thread and userErrors)."""
    return caller.mutate("SendInMail", candidateId=candidate, subject=subject, body=body, **extra)


def sent(caller: Caller, candidate: str = "k1", **extra: Any) -> dict[str, Any]:
    """A first message that must go through: its thread."""
    p = send(caller, candidate, **extra)
    assert p["userErrors"] == [], p
    assert p["thread"] is not None
    thread: dict[str, Any] = p["thread"]
    return thread


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


def only_error(payload: dict[str, Any]) -> dict[str, Any]:
    errors = payload["userErrors"]
    assert len(errors) == 1, payload
    error: dict[str, Any] = errors[0]
    return error


def sweep(api: GraphQLClient, at: datetime, sweep_id: str = "sweep-1") -> Any:
    """The scheduled sweeper, run in-process (its own rules are tested elsewhere)."""
    return run_sweep(api.deps, at, sweep_id, workers=1)


# ---- what the user looks at -----------------------------------------------------------


def remaining(caller: Caller) -> int:
    value: int = caller.data("Contract")["contract"]["creditsRemaining"]
    return value


def contract(caller: Caller) -> dict[str, Any]:
    c: dict[str, Any] = caller.data("Contract")["contract"]
    return c


def ledger(caller: Caller) -> list[dict[str, Any]]:
    """All of the caller's ledger, newest first."""
    return [e["node"] for e in caller.data("CreditLedger", first=100)["creditLedger"]["edges"]]


def ledger_kinds(caller: Caller, thread_id: str | None = None) -> list[tuple[str, str]]:
    """(kind, messageId) oldest first, optionally for one thread; entries made at the same
    instant (in one mutation) in (kind, messageId) order."""
    entries = sorted(ledger(caller), key=lambda e: (datetime.fromisoformat(e["at"]), e["kind"], e["messageId"]))
    return [(e["kind"], e["messageId"]) for e in entries if thread_id is None or e["threadId"] == thread_id]


def sent_today(caller: Caller) -> int:
    value: int = caller.data("Viewer")["viewer"]["seat"]["sentToday"]
    return value


def sent_threads(caller: Caller, all_recruiters: bool = False) -> list[dict[str, Any]]:
    data = caller.data("SentThreads", first=100, allRecruiters=all_recruiters)
    return [e["node"] for e in data["sentThreads"]["edges"]]


def sent_ids(caller: Caller, all_recruiters: bool = False) -> list[str]:
    return [t["id"] for t in sent_threads(caller, all_recruiters)]


def awaiting(caller: Caller) -> list[dict[str, Any]]:
    return [e["node"] for e in caller.data("AwaitingReply", first=100)["awaitingReply"]["edges"]]


def awaiting_ids(caller: Caller) -> list[str]:
    return [t["id"] for t in awaiting(caller)]


def inbox_ids(caller: Caller) -> list[str]:
    return [e["node"]["id"] for e in caller.data("Inbox", first=100)["inbox"]["edges"]]


def thread(caller: Caller, thread_id: str) -> dict[str, Any] | None:
    t: dict[str, Any] | None = caller.data("Thread", id=thread_id)["thread"]
    return t


def state(caller: Caller) -> dict[str, Any]:
    """Everything a recruiter can see of their money and messages: for "nothing changed"."""
    return {
        "contract": contract(caller),
        "ledger": ledger(caller),
        "sent": sent_threads(caller),
        "awaiting": awaiting_ids(caller),
        "sentToday": sent_today(caller),
    }


# ---- changes another party makes (the racing side of the race tests) ----------------------


def disable_follow_ups(api: GraphQLClient, admin: str = "r1", contract_id: str = "c1") -> None:
    """The contract admin switches automated follow-ups off (R50)."""
    p = api.as_(admin, "RECRUITER", "CONTRACT_ADMIN", contract=contract_id).mutate("SetFollowUpsEnabled", enabled=False)
    assert not p["userErrors"], p


def restrict_recruiter(api: GraphQLClient, recruiter: str = "r1") -> None:
    """The operator flags the recruiter (R22, R43)."""
    p = api.operator.mutate("SetRecruiterRestricted", recruiterId=recruiter, restricted=True)
    assert not p["userErrors"], p


def delete_candidate(api: GraphQLClient, candidate: str = "k1") -> None:
    """The operator marks the candidate's profile deleted (R24, R44)."""
    p = api.operator.mutate("UpsertCandidate", candidateId=candidate, name="Kim", deleted=True)
    assert not p["userErrors"], p
