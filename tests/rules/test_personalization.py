"""R91 through the API: placeholders with and without fallbacks in sendInMail, sendInMails
and scheduleFollowUp; unknown ones and unpaired braces refused before anything is
written; a missing value refuses that candidate's send; R45 after filling in; what is
stored, delivered and shown to the candidate is the text filled in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bulk import candidates, ledger, outcomes, recruiter, remaining, send_many
from gql import Caller, GraphQLClient
from inmail.services.sweep import run_sweep
from support import FakeClock


@pytest.fixture
def r1(api: GraphQLClient) -> Caller:
    api.contract("c1", credits=20, max_daily=25)
    p = api.operator.mutate("AddSeat", contractId="c1", recruiterId="r1", name="Ada Byron")
    assert p["userErrors"] == []
    p = api.operator.mutate("UpsertCandidate", candidateId="kim", name="Kim Lee", firstName="Kim", lastName="Lee")
    p = api.operator.mutate("UpsertCandidate", candidateId="anon", name="A. Nonymous")
    return recruiter(api)


def send(caller: Caller, candidate: str = "kim", **input: Any) -> dict[str, Any]:
    return caller.mutate("SendInMail", candidateId=candidate, **input)


def test_r91_placeholders_are_filled_in_and_stored_filled_in(api: GraphQLClient, r1: Caller, clock: FakeClock) -> None:
    p = send(
        r1,
        subject="{firstName}, a role at {contractName}",
        body="Hi {fullName}, I'm {recruiterName}. {{Literal braces}} stay.",
        followUp={"body": "Still interested, {firstName}?", "delayDays": 3},
    )
    assert p["userErrors"] == []
    thread = p["thread"]
    assert thread["initial"]["subject"] == "Kim, a role at Contract c1"
    assert thread["initial"]["body"] == "Hi Kim Lee, I'm Ada Byron. {Literal braces} stay."
    # The candidate reads the same text; the sweeper delivers the follow-up filled in.
    inbox = api.as_("kim", "CANDIDATE").data("Inbox", first=10)["inbox"]["edges"]
    assert inbox[0]["node"]["initial"]["subject"] == "Kim, a role at Contract c1"
    run_sweep(api.deps, clock.now() + timedelta(days=3), "sweep-1", workers=1)
    delivered = api.as_("kim", "CANDIDATE").data("Thread", id=thread["id"])["thread"]["followUp"]
    assert (delivered["status"], delivered["body"]) == ("SENT", "Still interested, Kim?")


def test_r91_fallbacks_stand_in_for_what_a_profile_lacks(api: GraphQLClient, r1: Caller) -> None:
    p = send(r1, "anon", subject="Hi {firstName|there}", body="Dear {lastName|candidate}, {fullName}")
    assert p["userErrors"] == []
    # No first or last name: fullName is the profile's name.
    assert (p["thread"]["initial"]["subject"], p["thread"]["initial"]["body"]) == (
        "Hi there",
        "Dear candidate, A. Nonymous",
    )


@pytest.mark.parametrize(
    ("input", "field"),
    [
        ({"subject": "Hi {firstName}", "body": "b"}, ["input", "subject"]),
        ({"subject": "s", "body": "Dear {lastName}"}, ["input", "body"]),
        (
            {"subject": "s", "body": "b", "followUp": {"body": "{firstName}?", "delayDays": 3}},
            ["input", "followUp", "body"],
        ),
    ],
)
def test_r91_a_missing_value_without_fallback_refuses_the_send(
    api: GraphQLClient, r1: Caller, input: dict[str, Any], field: list[str]
) -> None:
    p = send(r1, "anon", **input)
    assert [(e["code"], e["field"]) for e in p["userErrors"]] == [("MISSING_PERSONALIZATION", field)]
    assert (p["thread"], remaining(r1), ledger(r1)) == (None, 20, [])


def test_r91_a_seat_without_a_display_name_needs_a_fallback_for_recruiter_name(api: GraphQLClient, r1: Caller) -> None:
    api.seat("r2", "c1")
    r2 = recruiter(api, "r2")
    assert [e["code"] for e in send(r2, subject="From {recruiterName}", body="b")["userErrors"]] == [
        "MISSING_PERSONALIZATION"
    ]
    assert send(r2, subject="From {recruiterName|the team}", body="b")["thread"]["initial"]["subject"] == (
        "From the team"
    )


@pytest.mark.parametrize(
    ("input", "field"),
    [
        ({"subject": "Hi {first_name}", "body": "b"}, ["input", "subject"]),
        ({"subject": "s", "body": "Braces { like this }"}, ["input", "body"]),
        ({"subject": "s", "body": "A lone } brace"}, ["input", "body"]),
        (
            {"subject": "s", "body": "b", "followUp": {"body": "{firstName", "delayDays": 3}},
            ["input", "followUp", "body"],
        ),
    ],
)
def test_r91_unknown_placeholders_and_unpaired_braces_are_invalid_input_before_any_write(
    api: GraphQLClient, r1: Caller, input: dict[str, Any], field: list[str]
) -> None:
    for payload in (send(r1, **input), send_many(r1, ["kim", "anon"], **input)):
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID_INPUT", field)]
    assert (remaining(r1), ledger(r1)) == (20, [])


def test_r91_r45_applies_per_candidate_to_the_text_filled_in(api: GraphQLClient, r1: Caller) -> None:
    api.operator.mutate("UpsertCandidate", candidateId="long", name="L", firstName="L" * 200)
    subject = "{firstName} " + "x" * 180  # 192 as written: 184 for Kim, 381 for the long name
    p = send_many(r1, ["kim", "long"], subject=subject)
    assert outcomes(p) == [("kim", "SENT"), ("long", "INVALID_INPUT")]
    error = p["results"][1]["userErrors"][0]
    assert error["field"] == ["input", "subject"] and "placeholders filled in" in error["message"]
    assert remaining(r1) == 19


def test_r91_a_batch_refuses_only_the_candidates_missing_a_value(api: GraphQLClient, r1: Caller) -> None:
    others = candidates(api, 2)
    p = send_many(r1, ["kim", "anon", *others], subject="Hi {firstName}", body="A role, {lastName|friend}")
    assert outcomes(p) == [("kim", "SENT"), ("anon", "MISSING_PERSONALIZATION"), ("k01", "SENT"), ("k02", "SENT")]
    assert [r["thread"]["initial"]["subject"] for r in p["results"] if r["thread"]] == [
        "Hi Kim",
        "Hi Kim01",
        "Hi Kim02",
    ]
    assert remaining(r1) == 17


def test_r91_a_follow_up_scheduled_later_is_filled_in_too(api: GraphQLClient, r1: Caller) -> None:
    thread = send(r1, subject="s", body="b")["thread"]
    p = r1.mutate("ScheduleFollowUp", threadId=thread["id"], body="{firstName}, {{still}} keen?", delayDays=3)
    assert p["thread"]["followUp"]["body"] == "Kim, {still} keen?"
    plain = send(r1, "anon", subject="s", body="b")["thread"]
    refused = r1.mutate("ScheduleFollowUp", threadId=plain["id"], body="{firstName}?", delayDays=3)
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [("MISSING_PERSONALIZATION", ["input", "body"])]
    assert remaining(r1) == 17  # two InMails and one follow-up
