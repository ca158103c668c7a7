"""Visibility and isolation (SPEC.md R60, R61), through the GraphQL API on the in-memory store.

The isolation matrix: for every query and mutation, callers who must not see or touch
recruiter r1's threads (another contract, another recruiter on the same contract, forged
claims, a candidate the InMail was not sent to) get nothing (null, empty, a NOT_FOUND
userError or a FORBIDDEN error) and change nothing."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from gql import Caller, GraphQLClient, Response
from matrix import Matrix, build
from steps import (
    awaiting,
    awaiting_ids,
    ledger,
    sent,
    sent_ids,
    sweep,
    thread,
)
from support import OPERATIONS, claims_for


@pytest.fixture
def matrix(api: GraphQLClient) -> Matrix:
    return build(api)


def _reveals_nothing_of_r1(m: Matrix, r: Response, why: str) -> None:
    text = json.dumps(r.body)
    for tid in m.r1_threads:
        assert tid not in text, (why, r.body)
    assert '"r1"' not in text or why == "r1's id with a token for c2", (why, r.body)
    assert "SECRET" not in text, (why, r.body)


def _refused(r: Response, why: str, *, allow_not_found: bool = True) -> None:
    """A FORBIDDEN error, or a payload with nothing but a NOT_FOUND userError."""
    if r.errors:
        assert r.error_codes == ["FORBIDDEN"], (why, r.body)
        assert r.data is None, (why, r.body)
        return
    payload = next(iter(r.data.values()))
    assert allow_not_found, (why, r.body)
    assert [e["code"] for e in payload["userErrors"]] == ["NOT_FOUND"], (why, r.body)
    assert all(v is None for k, v in payload.items() if k != "userErrors"), (why, r.body)


# ---- the matrix: one row per operation -------------------------------------------------


def _viewer(m: Matrix, who: str, c: Caller) -> None:
    r = c.op("Viewer")
    assert not r.errors, (who, r.body)
    seat = r.data["viewer"]["seat"]
    assert seat is None or seat["contractId"] == r.data["viewer"]["contractId"]


def _contract(m: Matrix, who: str, c: Caller) -> None:
    r = c.op("Contract")
    if r.errors:
        assert r.error_codes == ["FORBIDDEN"], (who, r.body)
    elif who != "recruiter on the same contract" and "same-contract" not in who:
        assert r.data["contract"]["id"] == "c2", (who, r.body)  # only their own contract
    _reveal(m, r, who)


def _listing(name: str, **variables: Any) -> Any:
    def check(m: Matrix, who: str, c: Caller) -> None:
        r = c.op(name, **variables)
        if r.errors:
            assert r.error_codes == ["FORBIDDEN"], (who, r.body)
        _reveal(m, r, who)

    return check


def _thread(m: Matrix, who: str, c: Caller) -> None:
    for tid in m.r1_threads:
        r = c.op("Thread", id=tid)
        assert not r.errors, (who, r.body)
        assert r.data["thread"] is None, (who, tid)


def _inbox(m: Matrix, who: str, c: Caller) -> None:
    r = c.op("Inbox")
    if who == "candidate it was not sent to":
        assert [e["node"]["id"] for e in r.data["inbox"]["edges"]] == [m.r2_thread]
    else:
        assert r.error_codes == ["FORBIDDEN"], (who, r.body)
    _reveal(m, r, who)


def _send(m: Matrix, who: str, c: Caller) -> None:
    """Sending is the caller's own business: never charged to or seen by c1/r1 (unless on c1)."""
    r = c.op("SendInMail", input={"candidateId": "k1", "subject": "Mine", "body": "Mine"})
    if r.errors:
        assert r.error_codes == ["FORBIDDEN"], (who, r.body)
    else:
        t = r.data["sendInMail"]["thread"]
        assert t is not None, (who, r.body)
        assert t["recruiterId"] != "r1"
    _reveal(m, r, who)


def _send_many(m: Matrix, who: str, c: Caller) -> None:
    """R90: the caller's own batch; r1's template is NOT_FOUND outside c1 (R92)."""
    r = c.op("SendInMails", input={"candidateIds": ["k1", "k2"], "subject": "Mine", "body": "Mine"})
    if r.errors:
        assert r.error_codes == ["FORBIDDEN"], (who, r.body)
    else:
        threads = [x["thread"] for x in r.data["sendInMails"]["results"]]
        assert threads and all(t is not None and t["recruiterId"] != "r1" for t in threads), (who, r.body)
        used = c.op("SendInMails", input={"candidateIds": ["k1"], "templateId": m.template})
        payload = used.data["sendInMails"]
        assert [e["code"] for e in payload["userErrors"]] == ["NOT_FOUND"] and payload["results"] == [], who
    _reveal(m, r, who)


def _same_contract(who: str) -> bool:
    return who in ("recruiter on the same contract", "same-contract recruiter whose token claims CONTRACT_ADMIN")


def _templates(m: Matrix, who: str, c: Caller) -> None:
    """A contract's templates are its recruiters', and nobody else's (R92)."""
    r = c.op("Templates")
    if r.errors:
        assert r.error_codes == ["FORBIDDEN"], (who, r.body)
        return
    ids = [t["id"] for t in r.data["templates"]]
    assert ids == ([m.template] if _same_contract(who) else []), (who, r.body)


def _on_r1_template(operation: str, /, **extra: Any) -> Any:
    """Changing r1's template: another recruiter of c1 may not (FORBIDDEN); outside c1 it
    does not exist (NOT_FOUND)."""

    def check(m: Matrix, who: str, c: Caller) -> None:
        r = c.op(operation, input={"id": m.template, **extra})
        _refused(r, who, allow_not_found=not _same_contract(who))
        assert "SECRET" not in json.dumps(r.body), (who, r.body)

    return check


def _on_r1_thread(name: str, thread_attr: str, **extra: Any) -> Any:
    def check(m: Matrix, who: str, c: Caller) -> None:
        r = c.op(name, input={"threadId": getattr(m, thread_attr), **extra})
        _refused(r, who)
        _reveal(m, r, who)

    return check


def _reply(m: Matrix, who: str, c: Caller) -> None:
    for tid in m.r1_threads:
        r = c.op("ReplyToInMail", input={"threadId": tid, "body": "Hijack"})
        _refused(r, who)
        _reveal(m, r, who)


def _toggle(m: Matrix, who: str, c: Caller) -> None:
    r = c.op("SetFollowUpsEnabled", input={"enabled": False})
    if who == "admin of another contract":
        assert r.data["setFollowUpsEnabled"]["contract"]["id"] == "c2"
        c.op("SetFollowUpsEnabled", input={"enabled": True})
    else:
        _refused(r, who, allow_not_found=False)


def _admin_setting(operation: str, field: str, value: Any, undo: Any) -> Any:
    """A contract admin's setting (R71, R74): another contract's admin sets it on c2 only
    (then undoes it); everyone else is FORBIDDEN."""
    root = operation[0].lower() + operation[1:]

    def check(m: Matrix, who: str, c: Caller) -> None:
        r = c.op(operation, input={field: value})
        if who == "admin of another contract":
            assert r.data[root]["contract"]["id"] == "c2", (who, r.body)
            c.op(operation, input={field: undo})
        else:
            _refused(r, who, allow_not_found=False)

    return check


def _daily_limit(m: Matrix, who: str, c: Caller) -> None:
    r = c.op("SetDailyLimit", input={"dailyLimit": 1})
    if r.errors:
        assert r.error_codes == ["FORBIDDEN"], (who, r.body)
    else:
        assert r.data["setDailyLimit"]["seat"]["recruiterId"] != "r1"
    _reveal(m, r, who)


def _operator_only(operation: str, **input: Any) -> Any:
    def check(m: Matrix, who: str, c: Caller) -> None:
        if who == "operator":
            return
        r = c.op(operation, input=input)
        _refused(r, who, allow_not_found=False)

    return check


def _report(m: Matrix, who: str, c: Caller) -> None:
    """R80: a report of the caller's own contract (their own row, or its rows for its admin),
    or FORBIDDEN; never r1's row to anyone outside."""
    r = c.op("InMailReport", **{"from": "2026-01-01", "to": "2026-12-31"})
    if r.errors:
        assert r.error_codes == ["FORBIDDEN"], (who, r.body)
    else:
        shown = {row["recruiterId"] for row in r.data["inMailReport"]["rows"]}
        assert shown == ({"x1", "xa"} if who == "admin of another contract" else {c.claims["sub"]}), (who, shown)
    _reveal(m, r, who)


def _reveal(m: Matrix, r: Response, who: str) -> None:
    _reveals_nothing_of_r1(m, r, who)


ROWS: dict[str, Any] = {
    "Viewer": _viewer,
    "Contract": _contract,
    "AwaitingReply": _listing("AwaitingReply", first=100),
    "SentThreads": _listing("SentThreads", first=100),
    "SentThreads(allRecruiters)": _listing("SentThreads", first=100, allRecruiters=True),
    "Thread": _thread,
    "Inbox": _inbox,
    "CreditLedger": _listing("CreditLedger", first=100),
    "InMailReport": _report,
    "SendInMail": _send,
    "SendInMails": _send_many,
    "Templates": _templates,
    "SaveTemplate": _on_r1_template("SaveTemplate", name="Hijack", subject="Hijack", body="Hijack"),
    "DeleteTemplate": _on_r1_template("DeleteTemplate"),
    "ScheduleFollowUp": _on_r1_thread("ScheduleFollowUp", "plain", body="Hijack"),
    "RescheduleFollowUp": _on_r1_thread("RescheduleFollowUp", "cancelled"),
    "CancelFollowUp": _on_r1_thread("CancelFollowUp", "scheduled"),
    "ReplyToInMail": _reply,
    "SetFollowUpsEnabled": _toggle,
    "SetSendWindow": _admin_setting(
        "SetSendWindow", "window", {"startHour": 9, "endHour": 10, "days": ["MONDAY"]}, None
    ),
    "SetRescheduleOnDailyLimit": _admin_setting("SetRescheduleOnDailyLimit", "enabled", True, False),
    "SetDailyLimit": _daily_limit,
    "CreateContract": _operator_only(
        "CreateContract", id="c1", name="Hijack", monthlyCredits=0, maxDailyLimit=1, followUpsEnabled=False
    ),
    "AddSeat": _operator_only("AddSeat", contractId="c1", recruiterId="r1", admin=True),
    "UpsertCandidate": _operator_only("UpsertCandidate", candidateId="k1", name="Gone", deleted=True),
    "SetRecruiterRestricted": _operator_only("SetRecruiterRestricted", recruiterId="r1", restricted=True),
}


def test_the_matrix_covers_every_operation():
    files = {p.stem for p in OPERATIONS.glob("*.graphql")} - {"fragments"}
    assert {name.split("(")[0] for name in ROWS} == files


def test_r60_isolation_matrix(matrix):
    """Every row for every outsider on one world; after each row nothing of c1 moved (checked
    in the store, to name the row), and at the end everything r1, c1's admin and the
    recipient see through the API is as it was."""
    m = matrix
    before = m.c1_view()
    for row, check in ROWS.items():
        stored = m.stored()
        for who, caller in m.outsiders().items():
            if row in ("SendInMail", "SendInMails") and caller.claims and caller.claims["sub"] == "r2":
                continue  # r2's own InMail, paid by c1 as it should be: not r1's business
            check(m, who, caller)
        assert m.stored() == stored, row
    assert m.c1_view() == before


def test_r60_contract_admin_reads_but_does_not_act_on_others_threads(matrix):
    m = matrix
    before = m.c1_view()
    for name, tid, extra in (
        ("ScheduleFollowUp", m.plain, {"body": "x"}),
        ("RescheduleFollowUp", m.cancelled, {}),
        ("CancelFollowUp", m.scheduled, {}),
    ):
        _refused(m.a1.op(name, input={"threadId": tid, **extra}), f"admin {name}")
    assert m.a1.op("ReplyToInMail", input={"threadId": m.plain, "body": "x"}).error_codes == ["FORBIDDEN"]
    assert m.c1_view() == before


# ---- R60: who sees what --------------------------------------------------------------


def test_r60_recruiter_sees_only_own_threads(matrix):
    m = matrix
    assert sorted(sent_ids(m.r1)) == sorted(m.r1_threads)
    assert sent_ids(m.r2) == [m.r2_thread]
    assert thread(m.r1, m.r2_thread) is None
    assert thread(m.r1, m.x_thread) is None
    assert {e["recruiterId"] for e in ledger(m.r1)} == {"r1"}
    assert {e["threadId"] for e in ledger(m.r1)} == set(m.r1_threads)


def test_r60_plain_recruiter_asking_all_recruiters_is_forbidden(matrix):
    m = matrix
    for caller in (m.r1, m.api.as_("r2", "RECRUITER", "CONTRACT_ADMIN", contract="c1")):
        r = caller.op("SentThreads", allRecruiters=True)
        assert r.error_codes == ["FORBIDDEN"]
        assert r.data is None


def test_r60_seat_marked_admin_needs_the_admin_role_in_the_token_too(matrix):
    m = matrix
    without_role = m.api.as_("a1", "RECRUITER", contract="c1")
    assert without_role.op("SentThreads", allRecruiters=True).error_codes == ["FORBIDDEN"]
    assert thread(without_role, m.plain) is None
    assert ledger(without_role) == []


def test_r60_contract_admin_sees_the_whole_contract(matrix):
    m = matrix
    everyone = sent_ids(m.a1, all_recruiters=True)
    assert sorted(everyone) == sorted([*m.r1_threads, m.r2_thread])
    assert sent_ids(m.a1) == []  # without allRecruiters: the admin's own threads
    for tid in [*m.r1_threads, m.r2_thread]:
        seen = thread(m.a1, tid)
        assert seen is not None
        assert seen["id"] == tid
    assert thread(m.a1, m.x_thread) is None
    entries = ledger(m.a1)
    assert {e["recruiterId"] for e in entries} == {"r1", "r2"}
    assert {e["threadId"] for e in entries} == {*m.r1_threads, m.r2_thread}
    # The admin of c2 sees c2 only.
    assert sent_ids(m.xa, all_recruiters=True) == [m.x_thread]
    assert {e["threadId"] for e in ledger(m.xa)} == {m.x_thread}


def test_r60_candidate_sees_only_threads_sent_to_them(matrix):
    m = matrix
    assert sorted(e["node"]["id"] for e in m.k1.data("Inbox")["inbox"]["edges"]) == sorted([*m.r1_threads, m.x_thread])
    assert [e["node"]["id"] for e in m.k2.data("Inbox")["inbox"]["edges"]] == [m.r2_thread]
    assert thread(m.k1, m.plain)["id"] == m.plain
    assert thread(m.k1, m.r2_thread) is None
    assert thread(m.k2, m.plain) is None


def test_r60_candidate_never_sees_a_scheduled_follow_up(matrix):
    m = matrix
    for seen in (thread(m.k1, m.scheduled), _inbox_node(m.k1, m.scheduled)):
        assert seen["followUp"] is None
        assert seen["creditsCharged"] == 0
        assert seen["initial"]["failure"] is None
    assert "SECRET" not in json.dumps(m.k1.op("Inbox").body)
    assert "SECRET" not in json.dumps(m.k1.op("Thread", id=m.scheduled).body)
    # Nor a cancelled one.
    assert thread(m.k1, m.cancelled)["followUp"] is None


def test_r60_candidate_sees_a_follow_up_once_delivered(api, clock):
    m = build(api)
    clock.advance(days=7)
    sweep(api, clock.now())
    seen = thread(m.k1, m.scheduled)
    assert seen["followUp"]["status"] == "SENT"
    assert seen["followUp"]["body"] == "SECRET follow-up body"
    assert seen["followUp"]["scheduledFor"] is None
    assert seen["followUp"]["creditCharged"] is False


def test_r60_recruiter_who_is_also_a_candidate_sees_the_follow_up_of_an_inmail_to_them_hidden(api, clock):
    """A member can hold a seat and receive InMail: as the recipient, the sender's
    scheduled follow-up stays hidden."""
    m = build(api)
    both = api.as_("x1", "RECRUITER", "CANDIDATE", contract="c2")
    api.candidate("x1")
    t = sent(m.r1, "x1", subject="To a recruiter", followUp={"body": "SECRET to x1"})
    seen = thread(both, t["id"])
    assert seen is not None
    assert seen["followUp"] is None
    assert seen["creditsCharged"] == 0
    assert "SECRET" not in json.dumps(both.op("Thread", id=t["id"]).body)
    # Their own sent threads are still theirs in full.
    own = thread(both, m.x_thread)
    assert own is not None
    assert own["creditsCharged"] == 1


def _inbox_node(c: Caller, tid: str) -> dict[str, Any]:
    return next(e["node"] for e in c.data("Inbox")["inbox"]["edges"] if e["node"]["id"] == tid)


def test_r60_candidate_has_no_recruiter_views(matrix):
    for name in ("Contract", "AwaitingReply", "SentThreads", "CreditLedger"):
        r = matrix.k1.op(name)
        assert r.error_codes == ["FORBIDDEN"], name
        assert r.data is None, name


def test_r60_candidate_viewer_has_no_seat(matrix):
    viewer = matrix.k1.data("Viewer")["viewer"]
    assert viewer == {"id": "k1", "contractId": None, "roles": ["CANDIDATE"], "seat": None}


def test_r60_operator_sees_no_threads(matrix):
    m = matrix
    for tid in [*m.r1_threads, m.x_thread]:
        assert thread(m.api.operator, tid) is None
    for name in ("Contract", "AwaitingReply", "SentThreads", "CreditLedger", "Inbox"):
        assert m.api.operator.op(name).error_codes == ["FORBIDDEN"], name


def test_r60_operator_cannot_overwrite_an_existing_contract_or_seat(matrix):
    m = matrix
    before = m.c1_view()
    p = m.api.operator.mutate("CreateContract", id="c1", name="Again", monthlyCredits=0, maxDailyLimit=1)
    assert [e["code"] for e in p["userErrors"]] == ["CONFLICT"]
    p = m.api.operator.mutate("AddSeat", contractId="c2", recruiterId="r1", admin=True)
    assert [e["code"] for e in p["userErrors"]] == ["CONFLICT"]
    assert m.c1_view() == before


# ---- identity ---------------------------------------------------------------------------

GARBAGE_CLAIMS: dict[str, dict[str, Any] | None] = {
    "no claims": None,
    "empty claims": {},
    "no subject": {"roles": "[RECRUITER]", "contract_id": "c1"},
    "empty subject": {"sub": "", "roles": "[RECRUITER]", "contract_id": "c1"},
    "subject not a string": {"sub": 42, "roles": "[RECRUITER]"},
    "no roles": {"sub": "r1", "contract_id": "c1"},
    "empty roles": {"sub": "r1", "roles": "[]", "contract_id": "c1"},
    "unknown role": {"sub": "r1", "roles": "[SUPERUSER]", "contract_id": "c1"},
    "roles not a list": {"sub": "r1", "roles": 7},
}

ALL_OPERATIONS = {
    "Viewer": {},
    "Contract": {},
    "AwaitingReply": {},
    "SentThreads": {},
    "Thread": {"id": "t00001"},
    "Inbox": {},
    "CreditLedger": {},
    "InMailReport": {"from": "2026-11-01", "to": "2026-11-30"},
    "SendInMail": {"input": {"candidateId": "k1", "subject": "s", "body": "b"}},
    "SendInMails": {"input": {"candidateIds": ["k1"], "subject": "s", "body": "b"}},
    "Templates": {},
    "SaveTemplate": {"input": {"name": "n", "subject": "s", "body": "b"}},
    "DeleteTemplate": {"input": {"id": "t00001"}},
    "ScheduleFollowUp": {"input": {"threadId": "t00001", "body": "b"}},
    "RescheduleFollowUp": {"input": {"threadId": "t00001"}},
    "CancelFollowUp": {"input": {"threadId": "t00001"}},
    "ReplyToInMail": {"input": {"threadId": "t00001", "body": "b"}},
    "SetFollowUpsEnabled": {"input": {"enabled": False}},
    "SetSendWindow": {"input": {"window": None}},
    "SetRescheduleOnDailyLimit": {"input": {"enabled": True}},
    "SetDailyLimit": {"input": {"dailyLimit": 1}},
    "CreateContract": {"input": {"id": "c9", "name": "n", "monthlyCredits": 1, "maxDailyLimit": 1}},
    "AddSeat": {"input": {"contractId": "c1", "recruiterId": "z"}},
    "UpsertCandidate": {"input": {"candidateId": "k1", "name": "n", "deleted": True}},
    "SetRecruiterRestricted": {"input": {"recruiterId": "r1", "restricted": True}},
}


def test_unauthenticated_table_covers_every_operation():
    files = {p.stem for p in OPERATIONS.glob("*.graphql")} - {"fragments"}
    assert set(ALL_OPERATIONS) == files


def test_r60_missing_or_garbage_claims_are_unauthenticated(matrix):
    m = matrix
    before = m.c1_view()
    for case, claims in GARBAGE_CLAIMS.items():
        caller = Caller(m.api, claims)
        for name, variables in ALL_OPERATIONS.items():
            r = caller.op(name, **variables)
            assert r.error_codes == ["UNAUTHENTICATED"], (case, name, r.body)
            assert r.status == 401, (case, name)
            assert r.data is None, (case, name)
    assert m.c1_view() == before


def test_r60_claims_for_a_seat_that_does_not_exist_are_forbidden(matrix):
    ghost = Caller(matrix.api, claims_for("ghost", "RECRUITER", "CONTRACT_ADMIN", contract="c1"))
    for name in ("Contract", "AwaitingReply", "SentThreads", "CreditLedger"):
        assert ghost.op(name).error_codes == ["FORBIDDEN"], name
    assert ghost.op("InMailReport", **{"from": "2026-11-01", "to": "2026-11-30"}).error_codes == ["FORBIDDEN"]
    r = ghost.op("SendInMail", input={"candidateId": "k1", "subject": "s", "body": "b"})
    assert r.error_codes == ["FORBIDDEN"]
    assert ghost.data("Viewer")["viewer"]["seat"] is None


# ---- R61: Awaiting Reply ------------------------------------------------------------------


def test_r61_awaiting_reply_lists_unreplied_threads_newest_first(api, clock):
    api.contract("c1", credits=20)
    r1 = api.seat("r1", "c1")
    k1 = api.candidate("k1")
    ids = []
    for i in range(4):
        ids.append(sent(r1, subject=f"Number {i}")["id"])
        clock.advance(minutes=5)
    k1.mutate("ReplyToInMail", threadId=ids[1], body="Replied")
    assert awaiting_ids(r1) == [ids[3], ids[2], ids[0]]
    for t in awaiting(r1):
        assert t["status"] == "AWAITING_REPLY"
        assert t["repliedAt"] is None
    created = [datetime.fromisoformat(t["createdAt"]) for t in awaiting(r1)]
    assert created == sorted(created, reverse=True)


def test_r61_awaiting_reply_pages_with_cursors(api, clock):
    api.contract("c1", credits=20)
    r1 = api.seat("r1", "c1")
    api.candidate("k1")
    ids = []
    for i in range(5):
        ids.append(sent(r1, subject=f"Number {i}")["id"])
        clock.advance(minutes=1)
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = r1.data("AwaitingReply", first=2, after=after)["awaitingReply"]
        seen += [e["node"]["id"] for e in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == list(reversed(ids))
    assert pages == 3


def test_r61_awaiting_reply_shows_follow_up_status_and_failures_with_remedy(api, clock):
    api.contract("c1", credits=20)
    r1 = api.seat("r1", "c1", daily=5)
    api.candidate("k1")
    api.candidate("k2")
    none = sent(r1, subject="No follow-up")["id"]
    clock.advance(minutes=1)
    scheduled = sent(r1, subject="Scheduled", followUp={"body": "Ping", "delayDays": 10})["id"]
    clock.advance(minutes=1)
    cancelled = sent(r1, subject="Cancelled", followUp={"body": "Ping"})["id"]
    r1.mutate("CancelFollowUp", threadId=cancelled)
    clock.advance(minutes=1)
    failed = sent(r1, "k2", subject="Profile goes away", followUp={"body": "Ping", "delayDays": 3})["id"]
    api.candidate("k2", deleted=True)
    clock.advance(minutes=1)
    limited = sent(r1, subject="Daily maximum", followUp={"body": "Ping", "delayDays": 3})["id"]

    clock.advance(days=3)
    r1.mutate("SetDailyLimit", dailyLimit=1)
    sent(r1, subject="Uses today's only send")
    sweep(api, clock.now())

    rows = {t["id"]: t for t in awaiting(r1)}
    assert set(rows) >= {none, scheduled, cancelled, failed, limited}
    assert rows[none]["followUp"] is None
    assert rows[scheduled]["followUp"]["status"] == "SCHEDULED"
    assert rows[scheduled]["followUp"]["failure"] is None
    assert rows[cancelled]["followUp"]["status"] == "CANCELLED"  # by the recruiter: no failure
    fu = rows[failed]["followUp"]
    assert fu["status"] == "FAILED"
    assert fu["failure"]["code"] == "CANDIDATE_NOT_FOUND"
    assert fu["failure"]["message"] == (
        "The message cannot be delivered to the candidate because the candidate's profile cannot be found. "
        "The credit has been refunded to you."
    )
    assert "profile" in fu["failure"]["remedy"]
    fu = rows[limited]["followUp"]
    assert fu["status"] == "CANCELLED"
    assert fu["failure"]["code"] == "DAILY_LIMIT_REACHED"
    assert fu["failure"]["message"] == (
        "The message cannot be delivered to the candidate. The credit has been refunded to you."
    )
    assert "daily maximum" in fu["failure"]["remedy"]
    assert fu["failure"]["at"]


def test_r61_awaiting_reply_is_the_callers_own(matrix):
    m = matrix
    assert sorted(awaiting_ids(m.r1)) == sorted(m.r1_threads)
    assert awaiting_ids(m.a1) == []  # an admin's folder is their own, too
    assert awaiting_ids(m.x1) == [m.x_thread]


def test_r61_awaiting_reply_page_size_is_bounded(matrix):
    for first in (0, -1, 101):
        r = matrix.r1.op("AwaitingReply", first=first)
        assert r.errors and r.data is None, first
