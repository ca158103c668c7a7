"""R92: a contract's templates, shared by its recruiters. Any recruiter of the contract
lists and uses one; only its author or a contract admin changes or deletes it; names are
unique within the contract; another contract's template is NOT_FOUND and unusable (R60)."""

from __future__ import annotations

from typing import Any

import pytest

from bulk import candidates, ledger, outcomes, recruiter, remaining, send_many
from gql import Caller, GraphQLClient
from inmail.domain import rules

INTRO = {
    "name": "Intro",
    "subject": "A role for you, {firstName|there}",
    "body": "Hello {firstName|there}, I'm {recruiterName|a recruiter} at {contractName}.",
    "followUpBody": "Any thoughts, {firstName|there}?",
}


@pytest.fixture
def world(api: GraphQLClient) -> dict[str, Caller]:
    """c1: admin a1, recruiters r1 and r2; c2: its recruiter x1. Candidates k01, k02."""
    api.contract("c1", credits=20, max_daily=25)
    api.contract("c2", credits=20, max_daily=25)
    api.seat("a1", "c1", admin=True)
    api.seat("r1", "c1")
    api.seat("r2", "c1")
    api.seat("x1", "c2")
    candidates(api, 2)
    return {
        "a1": recruiter(api, "a1", admin=True),
        "r1": recruiter(api, "r1"),
        "r2": recruiter(api, "r2"),
        "x1": recruiter(api, "x1", "c2"),
    }


def save(caller: Caller, **input: Any) -> dict[str, Any]:
    return caller.mutate("SaveTemplate", **{**INTRO, **input})


def saved(caller: Caller, **input: Any) -> dict[str, Any]:
    p = save(caller, **input)
    assert p["userErrors"] == [], p
    template: dict[str, Any] = p["template"]
    return template


def names(caller: Caller) -> list[str]:
    return [t["name"] for t in caller.data("Templates")["templates"]]


def errors(payload: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


def test_r92_a_template_is_saved_for_the_contract_and_listed_by_name(world: dict[str, Caller]) -> None:
    t = saved(world["r1"])
    assert {k: t[k] for k in INTRO} == INTRO and t["authorId"] == "r1"
    saved(world["r2"], name="apology")
    saved(world["a1"], name="Birthday")
    for who in ("r1", "r2", "a1"):  # every recruiter of the contract sees them all, by name
        assert names(world[who]) == ["apology", "Birthday", "Intro"]
    assert names(world["x1"]) == []


@pytest.mark.parametrize("taken", ["Intro", "intro", "  INTRO ", "Intro"])
def test_r92_names_are_unique_within_the_contract_whatever_the_case(world: dict[str, Caller], taken: str) -> None:
    saved(world["r1"])
    assert errors(save(world["r2"], name=taken)) == [("CONFLICT", ["input", "name"])]
    assert names(world["r1"]) == ["Intro"]
    saved(world["x1"], name=taken)  # another contract: its own names


def test_r92_renaming_frees_the_old_name_and_claims_the_new(world: dict[str, Caller]) -> None:
    intro = saved(world["r1"])
    other = saved(world["r1"], name="Other")
    assert errors(save(world["r1"], id=other["id"], name="INTRO")) == [("CONFLICT", ["input", "name"])]
    renamed = saved(world["r1"], id=intro["id"], name="Welcome")
    assert renamed["id"] == intro["id"]
    saved(world["r2"], name="Intro")  # free again
    assert names(world["r1"]) == ["Intro", "Other", "Welcome"]
    assert saved(world["r1"], id=intro["id"], name="welcome")["name"] == "welcome"  # its own name, recased


def test_r92_only_the_author_or_a_contract_admin_changes_or_deletes(world: dict[str, Caller]) -> None:
    t = saved(world["r1"])
    r = world["r2"].op("SaveTemplate", input={**INTRO, "id": t["id"], "subject": "Mine now"})
    assert r.error_codes == ["FORBIDDEN"]
    assert world["r2"].op("DeleteTemplate", input={"id": t["id"]}).error_codes == ["FORBIDDEN"]
    assert saved(world["r1"], id=t["id"], subject="Edited by its author")["subject"] == "Edited by its author"
    edited = saved(world["a1"], id=t["id"], subject="Edited by the admin")
    assert (edited["subject"], edited["authorId"]) == ("Edited by the admin", "r1")
    assert world["a1"].mutate("DeleteTemplate", id=t["id"]) == {"deletedId": t["id"], "userErrors": []}
    assert names(world["r1"]) == []
    assert errors(world["r1"].mutate("DeleteTemplate", id=t["id"])) == [("NOT_FOUND", ["input", "id"])]


def test_r92_any_recruiter_of_the_contract_uses_it(world: dict[str, Caller]) -> None:
    t = saved(world["r1"])
    p = send_many(world["r2"], ["k01", "k02"], templateId=t["id"], followUp={"delayDays": 4})
    assert outcomes(p) == [("k01", "SENT"), ("k02", "SENT")]
    thread = p["results"][0]["thread"]
    assert thread["recruiterId"] == "r2"
    assert thread["initial"]["subject"] == "A role for you, Kim01"
    assert thread["initial"]["body"] == "Hello Kim01, I'm a recruiter at Contract c1."
    assert thread["followUp"]["body"] == "Any thoughts, Kim01?"
    single = world["a1"].mutate("SendInMail", candidateId="k02", templateId=t["id"])
    assert single["userErrors"] == [] and single["thread"]["initial"]["subject"] == "A role for you, Kim02"


def test_r92_fields_given_in_the_input_win(world: dict[str, Caller]) -> None:
    t = saved(world["r1"])
    p = world["r1"].mutate(
        "SendInMail",
        candidateId="k01",
        templateId=t["id"],
        subject="My own subject, {firstName}",
        followUp={"body": "My own follow-up", "delayDays": 3},
    )
    assert p["userErrors"] == []
    initial, follow_up = p["thread"]["initial"], p["thread"]["followUp"]
    assert (initial["subject"], initial["body"]) == (
        "My own subject, Kim01",
        "Hello Kim01, I'm a recruiter at Contract c1.",
    )
    assert follow_up["body"] == "My own follow-up"
    # Without followUp, no follow-up is scheduled (nor charged), whatever the template holds.
    plain = world["r1"].mutate("SendInMail", candidateId="k02", templateId=t["id"])
    assert plain["thread"]["followUp"] is None and plain["thread"]["creditsCharged"] == 1


def test_r92_a_template_without_follow_up_body_needs_one_in_the_input(world: dict[str, Caller]) -> None:
    t = saved(world["r1"], followUpBody=None)
    p = world["r1"].mutate("SendInMail", candidateId="k01", templateId=t["id"], followUp={"delayDays": 3})
    assert errors(p) == [("INVALID_INPUT", ["input", "followUp", "body"])]
    assert remaining(world["r1"]) == 20


def test_r92_another_contracts_template_is_invisible_and_unusable(world: dict[str, Caller]) -> None:
    """Like threads (R60): the id of c2's template is NOT_FOUND for c1 in every use, and
    nothing is sent or charged; c2's list never shows c1's."""
    theirs = saved(world["x1"], name="Theirs")
    ours = world["a1"]  # even c1's admin
    assert names(ours) == []
    assert errors(ours.mutate("SendInMail", candidateId="k01", templateId=theirs["id"])) == [
        ("NOT_FOUND", ["input", "templateId"])
    ]
    p = send_many(ours, ["k01", "k02"], templateId=theirs["id"])
    assert errors(p) == [("NOT_FOUND", ["input", "templateId"])] and p["results"] == []
    assert errors(save(ours, id=theirs["id"])) == [("NOT_FOUND", ["input", "id"])]
    assert errors(ours.mutate("DeleteTemplate", id=theirs["id"])) == [("NOT_FOUND", ["input", "id"])]
    assert (remaining(ours), ledger(ours)) == (20, [])
    assert [t["subject"] for t in world["x1"].data("Templates")["templates"]] == [INTRO["subject"]]  # unchanged
    saved(ours, name="Theirs")  # and its name means nothing here


def test_r92_r91_a_template_is_checked_as_any_text_is(world: dict[str, Caller]) -> None:
    for input, field in [
        ({"body": "Hi {firstname}"}, ["input", "body"]),
        ({"subject": "x" * 201}, ["input", "subject"]),
        ({"followUpBody": "Closing } brace"}, ["input", "followUpBody"]),
        ({"name": " "}, ["input", "name"]),
    ]:
        assert errors(save(world["r1"], **input)) == [("INVALID_INPUT", field)]
    assert names(world["r1"]) == []


def test_r92_a_contract_keeps_at_most_so_many_templates(
    world: dict[str, Caller], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rules, "TEMPLATES_MAX", 2)
    saved(world["r1"], name="One")
    two = saved(world["r2"], name="Two")
    refused = save(world["r1"], name="Three")
    assert [e["code"] for e in refused["userErrors"]] == ["INVALID_INPUT"] and "at most 2" in refused["userErrors"][0][
        "message"
    ]
    world["r2"].mutate("DeleteTemplate", id=two["id"])
    saved(world["r1"], name="Three")
    assert names(world["r1"]) == ["One", "Three"]


def test_r92_only_recruiters_and_admins_touch_templates(api: GraphQLClient, world: dict[str, Caller]) -> None:
    t = saved(world["r1"])
    for caller in (api.as_("k01", "CANDIDATE"), api.operator):
        assert caller.op("Templates").error_codes == ["FORBIDDEN"]
        assert caller.op("SaveTemplate", input=INTRO).error_codes == ["FORBIDDEN"]
        assert caller.op("DeleteTemplate", input={"id": t["id"]}).error_codes == ["FORBIDDEN"]
    assert api.anonymous().op("Templates").error_codes == ["UNAUTHENTICATED"]
