"""R90: sendInMails sends one InMail (and follow-up) to 1-25 distinct candidates, each an
independent send under R01-R14 and R40-R45, results in input order, partial success; one
idempotency key for the batch. Through the GraphQL/HTTP path on the in-memory store."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bulk import candidates, ledger, outcomes, recruiter, remaining, request_errors, send_many, sent, sent_today
from gql import Caller, GraphQLClient
from inmail.domain.model import Changes
from invariants import assert_invariants, threads_of
from support import FakeClock, LambdaContext, decode_body, http_event, operation

FOLLOW_UP = {"body": "Still keen, {firstName|there}?", "delayDays": 3}


@pytest.fixture
def r1(api: GraphQLClient) -> Caller:
    """Contract c1 (40 credits, daily cap 25) with r1, its admin, allowed 15 messages a day."""
    api.contract("c1", credits=40, max_daily=25)
    api.seat("r1", "c1", admin=True, daily=15)
    return recruiter(api, admin=True)


def delete(api: GraphQLClient, cid: str) -> None:
    p = api.operator.mutate("UpsertCandidate", candidateId=cid, name="Gone", deleted=True)
    assert p["userErrors"] == [], p


def test_r90_a_batch_of_25_with_mixed_outcomes_then_credits_running_out_balances(
    api: GraphQLClient, r1: Caller, clock: FakeClock
) -> None:
    """Day 1: 25 candidates, one deleted profile early and one late, one without the first
    name the body needs, one whose name makes the body too long; the daily maximum (15) is
    met midway. Day 2: the credits (10 left, 2 per send with its follow-up) run out midway."""
    ids = candidates(api, 25)
    delete(api, "k03")
    delete(api, "k24")
    api.operator.mutate("UpsertCandidate", candidateId="k05", name="K5", firstName=None)
    api.operator.mutate("UpsertCandidate", candidateId="k07", name="K7", firstName="N" * 200)
    body = "Hello {firstName}, " + "x" * 1695  # 1,703 + the name: over 1,900 only for k07

    day1 = send_many(r1, ids, body=body, followUp=FOLLOW_UP)

    assert day1["userErrors"] == []
    assert [r["candidateId"] for r in day1["results"]] == ids  # input order
    expected = {cid: "SENT" for cid in ids}
    expected |= {"k03": "CANDIDATE_NOT_FOUND", "k24": "CANDIDATE_NOT_FOUND"}
    expected |= {"k05": "MISSING_PERSONALIZATION", "k07": "INVALID_INPUT"}
    # 15 sent (k01-k18 but k03, k05, k07), then the daily maximum for every later one; a
    # deleted profile after it still says why it could not be sent.
    expected |= dict.fromkeys(["k19", "k20", "k21", "k22", "k23", "k25"], "DAILY_LIMIT_REACHED")
    assert dict(outcomes(day1)) == expected
    by_id = {r["candidateId"]: r for r in day1["results"]}
    assert by_id["k05"]["userErrors"][0]["field"] == ["input", "body"]
    assert by_id["k07"]["userErrors"][0]["field"] == ["input", "body"]
    assert by_id["k03"]["userErrors"][0]["field"] == ["input", "candidateIds", "2"]
    first = by_id["k01"]["thread"]
    assert first["initial"]["body"] == body.replace("{firstName}", "Kim01")  # stored filled in
    assert first["followUp"]["body"] == "Still keen, Kim01?"
    assert (first["creditsCharged"], first["followUp"]["status"]) == (2, "SCHEDULED")
    assert len({r["thread"]["initial"]["sentAt"] for r in day1["results"] if r["thread"]}) == 1  # one instant
    assert sent_today(r1) == 15
    assert remaining(r1) == 10

    clock.advance(days=1)
    day2 = send_many(r1, ids[:10], followUp=FOLLOW_UP)
    assert dict(outcomes(day2)) == {
        **dict.fromkeys(["k01", "k02", "k04", "k05", "k06"], "SENT"),  # k05 has a fallback here
        "k03": "CANDIDATE_NOT_FOUND",
        **dict.fromkeys(["k07", "k08", "k09", "k10"], "INSUFFICIENT_CREDITS"),
    }
    assert remaining(r1) == 0
    assert sent_today(r1) == 5

    # The ledger and counters balance: 20 InMails, 2 credits each, nothing refunded.
    entries = ledger(r1)
    assert [e["kind"] for e in entries].count("CHARGE") == 40 and len(entries) == 40
    assert len(threads_of(api.deps)) == 20
    assert_invariants(api.deps)


def test_r90_a_duplicate_id_refuses_the_batch_up_front_naming_it(api: GraphQLClient, r1: Caller) -> None:
    ids = candidates(api, 25)
    ids[12] = ids[4]
    p = send_many(r1, ids)
    assert request_errors(p) == [("INVALID_INPUT", ["input", "candidateIds", "12"])]
    assert "k05" in p["userErrors"][0]["message"]
    assert p["results"] == []
    assert (remaining(r1), ledger(r1), threads_of(api.deps)) == (40, [], [])


@pytest.mark.parametrize("count", [0, 26])
def test_r90_one_to_25_candidates(api: GraphQLClient, r1: Caller, count: int) -> None:
    ids = candidates(api, 26)[:count]
    p = send_many(r1, ids)
    assert request_errors(p) == [("INVALID_INPUT", ["input", "candidateIds"])]
    assert (p["results"], remaining(r1)) == ([], 40)


def _restrict(api: GraphQLClient) -> None:
    api.operator.mutate("SetRecruiterRestricted", recruiterId="r1", restricted=True)


def _disable(api: GraphQLClient) -> None:
    recruiter(api, admin=True).mutate("SetFollowUpsEnabled", enabled=False)


@pytest.mark.parametrize(
    ("change", "extra", "error"),
    [
        (_restrict, {}, ("RECRUITER_RESTRICTED", None)),
        (_disable, {"followUp": FOLLOW_UP}, ("FOLLOW_UPS_DISABLED", ["input", "followUp"])),
        (None, {"followUp": {"body": "x", "delayDays": 2}}, ("FOLLOW_UP_WINDOW", ["input", "followUp", "delayDays"])),
        (None, {"templateId": "nope"}, ("NOT_FOUND", ["input", "templateId"])),
        (None, {"subject": None}, ("INVALID_INPUT", ["input", "subject"])),
        (None, {"body": "Hi {firstname}"}, ("INVALID_INPUT", ["input", "body"])),
        (None, {"followUp": {"delayDays": 3}}, ("INVALID_INPUT", ["input", "followUp", "body"])),
        (None, {"idempotencyKey": ""}, ("INVALID_INPUT", ["input", "idempotencyKey"])),
    ],
    ids=["r43", "r14", "r11", "r92-template", "subject", "r91-placeholder", "follow-up-body", "key"],
)
def test_r90_what_refuses_every_candidate_refuses_the_request_and_sends_nothing(
    api: GraphQLClient, r1: Caller, change: Any, extra: dict[str, Any], error: tuple[str, Any]
) -> None:
    ids = candidates(api, 5)
    if change is not None:
        change(api)
    p = send_many(r1, ids, **extra)
    assert request_errors(p) == [error]
    assert p["results"] == []
    assert (remaining(r1), ledger(r1), threads_of(api.deps)) == (40, [], [])


def test_r90_forbidden_to_candidates_and_operators(api: GraphQLClient, r1: Caller) -> None:
    ids = candidates(api, 2)
    for caller in (api.as_("k01", "CANDIDATE"), api.operator):
        r = caller.op("SendInMails", input={"candidateIds": ids, "subject": "s", "body": "b"})
        assert r.error_codes == ["FORBIDDEN"]
    assert remaining(r1) == 40


# ---- one idempotency key for the batch -----------------------------------------------------


def test_r90_a_retry_returns_the_same_results_and_charges_nothing_more(
    api: GraphQLClient, r1: Caller, clock: FakeClock
) -> None:
    ids = candidates(api, 20)
    delete(api, "k02")
    first = send_many(r1, ids, idempotencyKey="bulk-1")
    assert outcomes(first)[16:] == [(cid, "DAILY_LIMIT_REACHED") for cid in ids[16:]] and len(sent(first)) == 15
    before = (remaining(r1), ledger(r1))

    again = send_many(r1, ids, idempotencyKey="bulk-1")
    assert again == first
    # The next day the daily maximum would let them go: a retry still returns what the
    # batch decided, and sends nobody.
    clock.advance(days=1)
    assert send_many(r1, ids, idempotencyKey="bulk-1") == first
    assert (remaining(r1), ledger(r1)) == before
    assert sent_today(r1) == 0
    assert_invariants(api.deps)


def test_r90_the_same_key_for_another_batch_is_conflict(api: GraphQLClient, r1: Caller) -> None:
    ids = candidates(api, 3)
    send_many(r1, ids, idempotencyKey="bulk-1")
    for other in ({"candidateIds": ids[:2]}, {"subject": "Another"}, {"candidateIds": list(reversed(ids))}):
        input = {"candidateIds": ids, "subject": "A role for you", "body": "Hello {firstName|there}", **other}
        p = r1.mutate("SendInMails", idempotencyKey="bulk-1", **input)
        assert request_errors(p) == [("CONFLICT", ["input", "idempotencyKey"])] and p["results"] == []
    assert remaining(r1) == 37


def test_r90_a_batch_key_and_a_send_key_are_apart(api: GraphQLClient, r1: Caller) -> None:
    """The same key string on sendInMail and sendInMails names two different requests."""
    ids = candidates(api, 2)
    single = r1.mutate("SendInMail", candidateId="k01", subject="s", body="b", idempotencyKey="same")
    assert single["userErrors"] == []
    bulk = send_many(r1, ids, idempotencyKey="same")
    assert sent(bulk) == ids
    assert bulk["results"][0]["thread"]["id"] != single["thread"]["id"]
    assert remaining(r1) == 37


class Killed(BaseException):
    """The function died mid-request: nothing after this point ran."""


def _post(caller: Caller, input: dict[str, Any]) -> dict[str, Any] | None:
    """sendInMails as the client sees it: its payload, or None when the process died."""
    body = json.dumps({"query": operation("SendInMails"), "variables": {"input": input}})
    try:
        raw = caller.client.handler(http_event("POST", body, caller.claims), LambdaContext())
    except Killed:
        return None
    payload: dict[str, Any] = decode_body(raw)["data"]["sendInMails"]
    return payload


def test_r90_a_retry_after_a_crash_halfway_sends_the_rest_and_charges_nobody_twice(
    api: GraphQLClient, r1: Caller
) -> None:
    ids = candidates(api, 12)
    delete(api, "k11")
    commits: list[Changes] = []

    def die_at_the_sixth_send(changes: Changes) -> None:
        if changes.threads:
            commits.append(changes)
            if len(commits) == 6:
                raise Killed

    api.deps.store.before_commit = die_at_the_sixth_send  # type: ignore[attr-defined]
    input = {"candidateIds": ids, "subject": "A role", "body": "Hi {firstName}", "idempotencyKey": "bulk-1"}
    assert _post(r1, input) is None
    api.deps.store.before_commit = None  # type: ignore[attr-defined]
    assert len(threads_of(api.deps)) == 5 and remaining(r1) == 35
    # Meanwhile someone edits... nothing the batch recorded: the retry sends the same text.
    retried = _post(r1, input)
    assert retried is not None and retried["userErrors"] == []
    assert outcomes(retried) == [(cid, "CANDIDATE_NOT_FOUND" if cid == "k11" else "SENT") for cid in ids]
    assert [r["thread"]["initial"]["body"] for r in retried["results"][:3]] == ["Hi Kim01", "Hi Kim02", "Hi Kim03"]
    assert len(threads_of(api.deps)) == 11 and remaining(r1) == 29
    assert _post(r1, input) == retried  # and once more: the same
    assert_invariants(api.deps)


def test_r90_a_retry_sends_the_texts_the_batch_recorded_even_if_its_template_changed(
    api: GraphQLClient, r1: Caller
) -> None:
    ids = candidates(api, 4)
    saved = r1.mutate("SaveTemplate", name="Intro", subject="Hello {firstName}", body="Version one")
    tid = saved["template"]["id"]

    def die_at_the_third_send(changes: Changes) -> None:
        if changes.threads and len(threads_of(api.deps)) == 2:
            raise Killed

    api.deps.store.before_commit = die_at_the_third_send  # type: ignore[attr-defined]
    input = {"candidateIds": ids, "templateId": tid, "idempotencyKey": "bulk-1"}
    assert _post(r1, input) is None
    api.deps.store.before_commit = None  # type: ignore[attr-defined]
    r1.mutate("SaveTemplate", id=tid, name="Intro", subject="Changed", body="Version two")
    retried = _post(r1, input)
    assert retried is not None
    assert [r["thread"]["initial"]["body"] for r in retried["results"]] == ["Version one"] * 4


def test_r90_an_unkeyed_batch_sends_again_when_repeated(api: GraphQLClient, r1: Caller) -> None:
    ids = candidates(api, 3)
    assert sent(send_many(r1, ids)) == ids
    assert sent(send_many(r1, ids)) == ids
    assert remaining(r1) == 34


def test_r90_r44_a_profile_deleted_during_the_batch_is_refused_and_the_batch_goes_on(
    api: GraphQLClient, r1: Caller
) -> None:
    """Each candidate's commit is conditioned on the profile it was decided on: deleted
    between the batch's read and that commit, it is decided again and refused."""
    ids = candidates(api, 4)
    deleted = False

    def delete_k03_before_the_first_commit(changes: Changes) -> None:
        nonlocal deleted
        if changes.threads and not deleted:
            deleted = True
            delete(api, "k03")

    api.deps.store.before_commit = delete_k03_before_the_first_commit  # type: ignore[attr-defined]
    p = send_many(r1, ids, idempotencyKey="bulk-1")
    assert outcomes(p) == [("k01", "SENT"), ("k02", "SENT"), ("k03", "CANDIDATE_NOT_FOUND"), ("k04", "SENT")]
    assert remaining(r1) == 37


def test_r90_the_largest_batch_fits_the_request_limits(api: GraphQLClient, clock: FakeClock) -> None:
    """25 ids of 128 characters, a 200-character subject and two 1,900-character bodies
    with placeholders, every other character an emoji (12 bytes each as json.dumps escapes
    it), a 128-character key: under 64 KiB and 2,000 tokens through the HTTP path, with
    variables or written inline."""
    ids = [f"{i:02d}" + "c" * 126 for i in range(25)]
    for cid in ids:
        api.operator.mutate("UpsertCandidate", candidateId=cid, name="Kim", firstName="Kim")
    api.contract("c2", credits=100, max_daily=25)
    big = api.seat("big", "c2", daily=25)
    body = "{firstName|😀} " + "😀" * 1886
    input = {
        "candidateIds": ids,
        "subject": "{contractName} " + "😀" * 185,
        "body": body,
        "followUp": {"body": body, "delayDays": 3},
        "idempotencyKey": "k" * 128,
    }
    assert (len(input["subject"]), len(body)) == (200, 1900)
    request = json.dumps({"query": operation("SendInMails"), "variables": {"input": input}})
    assert 50_000 < len(request.encode()) < 64 * 1024
    r = big.raw(operation("SendInMails"), {"input": input})
    assert r.status == 200 and not r.errors, r.body
    payload = r.data["sendInMails"]
    assert payload["userErrors"] == [] and len(sent(payload)) == 25
    assert payload["results"][0]["thread"]["initial"]["subject"] == "Contract c2 " + "😀" * 185
    assert remaining(big) == 50

    inline = (
        "mutation { sendInMails(input: "
        + _graphql_object(input)
        + ") { results { candidateId } userErrors { code } } }"
    )
    assert len(inline.encode()) < 64 * 1024
    r = big.raw(inline)  # the same key and request: the same results, nothing charged
    assert r.status == 200 and not r.errors, r.body
    assert [x["candidateId"] for x in r.data["sendInMails"]["results"]] == ids
    assert remaining(big) == 50


def _graphql_object(value: Any) -> str:
    """A GraphQL input literal (object keys unquoted; strings as JSON writes them)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_graphql_object(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_graphql_object(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)
