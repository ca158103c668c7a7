"""The committed operations (graphql/operations/*.graphql), the ones frontends copy: each
parses, validates against the served schema, and runs through the Lambda's HTTP path."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse, print_ast, validate

from gql import Caller
from inmail.api.schema import schema
from support import OPERATIONS, operation

NAMES = sorted(p.stem for p in OPERATIONS.glob("*.graphql"))
FRAGMENTS = OPERATIONS.parent / "fragments.graphql"
GENERATOR = OPERATIONS.parents[1] / "scripts" / "gen_operations.py"


def test_there_is_an_operation_for_every_root_field():
    """One named operation per query and mutation of the schema."""
    roots = {
        **schema._schema.query_type.fields,  # type: ignore[union-attr]
        **schema._schema.mutation_type.fields,  # type: ignore[union-attr]
    }
    used = set()
    for name in NAMES:
        for definition in parse(operation(name)).definitions:
            if isinstance(definition, OperationDefinitionNode):
                used |= {s.name.value for s in definition.selection_set.selections}  # type: ignore[attr-defined]
    assert used == set(roots)


@pytest.mark.parametrize("name", NAMES)
def test_operation_file_validates_alone(name):
    """The file as a client sends it (gql, Apollo, codegen, curl): every rule of the spec
    holds, NoUnusedFragments and KnownFragmentNames included, with nothing appended."""
    document = parse((OPERATIONS / f"{name}.graphql").read_text())
    assert validate(schema._schema, document) == []
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert len(ops) == 1
    assert ops[0].name is not None and ops[0].name.value == name  # the file is named after it


def test_fragment_copies_equal_their_source():
    """graphql/fragments.graphql is where fragments are edited; `make operations` copies them.
    Every copy is that source, so the copies of one name are identical across files (what
    graphql-codegen and graphql-tag require of a folder)."""
    source = {d.name.value: print_ast(d) for d in parse(FRAGMENTS.read_text()).definitions}
    copies = [
        (name, d.name.value, print_ast(d))
        for name in NAMES
        for d in parse((OPERATIONS / f"{name}.graphql").read_text()).definitions
        if isinstance(d, FragmentDefinitionNode)
    ]
    assert copies, "no operation uses a fragment"
    assert [c for c in copies if source.get(c[1]) != c[2]] == []
    assert set(source) == {c[1] for c in copies}, "a fragment of fragments.graphql is used by no operation"
    check = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr


def test_an_unused_fragment_fails_validation():
    """What the issue saw when a client appended fragments.graphql to an operation: the rule
    the per-file test relies on is on."""
    document = parse(operation("Contract") + "\n" + FRAGMENTS.read_text())
    messages = [e.message for e in validate(schema._schema, document)]
    assert "Fragment 'MessageFields' is never used." in messages


class Recording:
    """Runs operations as one caller, each must succeed; adds the names to `ran`."""

    def __init__(self, caller: Caller, ran: set[str]):
        self.caller = caller
        self.ran = ran

    def __call__(self, name: str, /, **variables: Any) -> Any:
        r = self.caller.op(name, **variables)
        assert r.status == 200, (name, r.body)
        assert not r.errors, (name, r.errors)
        self.ran.add(name)
        data = next(iter(r.data.values()))
        if isinstance(data, dict) and "userErrors" in data:
            assert data["userErrors"] == [], (name, data)
        return data


def test_every_operation_runs_the_playground_session(api, clock):
    """The README's playground session and the rest of the operations, each once at least:
    provision as operator, send with a follow-up, reply as the candidate, see the refund."""
    ran: set[str] = set()
    ops = Recording(api.operator, ran)
    ops("CreateContract", input={"id": "c1", "name": "Acme", "monthlyCredits": 10, "maxDailyLimit": 25})
    ops("AddSeat", input={"contractId": "c1", "recruiterId": "r1", "admin": True})
    ops("AddSeat", input={"contractId": "c1", "recruiterId": "r2", "dailyLimit": 5})
    ops("UpsertCandidate", input={"candidateId": "k1", "name": "Kim", "timeZone": "Europe/Berlin"})
    ops("SetRecruiterRestricted", input={"recruiterId": "r2", "restricted": True})

    r1 = Recording(api.as_("r1", "RECRUITER", "CONTRACT_ADMIN", contract="c1"), ran)
    k1 = Recording(api.as_("k1", "CANDIDATE"), ran)
    assert r1("Viewer")["seat"]["admin"] is True
    assert r1("Contract")["creditsRemaining"] == 10
    with_fu = r1(
        "SendInMail",
        input={"candidateId": "k1", "subject": "Hi", "body": "A role", "followUp": {"body": "Ping", "delayDays": 5}},
    )["thread"]
    plain = r1("SendInMail", input={"candidateId": "k1", "subject": "Hi", "body": "Another role"})["thread"]
    r1("ScheduleFollowUp", input={"threadId": plain["id"], "body": "Ping", "idempotencyKey": "k-1"})
    r1("CancelFollowUp", input={"threadId": plain["id"]})
    r1("RescheduleFollowUp", input={"threadId": plain["id"], "delayDays": 4})
    r1("SetDailyLimit", input={"dailyLimit": 20})
    assert r1("SetFollowUpsEnabled", input={"enabled": False})["contract"]["followUpsEnabled"] is False
    r1("SetFollowUpsEnabled", input={"enabled": True})
    window = {"startHour": 9, "endHour": 17, "days": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]}
    assert r1("SetSendWindow", input={"window": window})["contract"]["sendWindow"] == window
    assert r1("SetRescheduleOnDailyLimit", input={"enabled": True})["contract"]["rescheduleOnDailyLimit"] is True
    assert len(r1("AwaitingReply", first=10)["edges"]) == 2
    assert len(r1("SentThreads", first=10, allRecruiters=True)["edges"]) == 2
    assert r1("Thread", id=with_fu["id"])["followUp"]["status"] == "SCHEDULED"
    assert len(k1("Inbox", first=10)["edges"]) == 2
    replied = k1("ReplyToInMail", input={"threadId": with_fu["id"], "body": "Interested"})["thread"]
    assert replied["status"] == "REPLIED"
    entries = [e["node"] for e in r1("CreditLedger", first=50)["edges"]]
    refunds = {e["messageId"] for e in entries if e["kind"] == "REFUND" and e["threadId"] == with_fu["id"]}
    assert refunds == {with_fu["initial"]["id"], with_fu["followUp"]["id"]}
    # Charged 5 (2 + 1 + 1 + 1 rescheduled), refunded 3 (the cancel, both by the reply).
    assert r1("Contract")["creditsRemaining"] == 8
    # The admin's report of the day (R80, R81): r1's row, r2's (nothing sent) and the total.
    today = with_fu["createdAt"][:10]
    report = r1("InMailReport", **{"from": today, "to": today})
    assert [row["recruiterId"] for row in report["rows"]] == ["r1", "r2"]
    assert (report["total"]["inMailsSent"], report["total"]["replies"], report["total"]["creditsCharged"]) == (2, 1, 5)

    # R90-R92: a template, used for a bulk send, then deleted.
    ops("UpsertCandidate", input={"candidateId": "k2", "name": "Lee Park", "firstName": "Lee"})
    saved = r1("SaveTemplate", input={"name": "Intro", "subject": "Hi {firstName|there}", "body": "A role"})
    assert [t["name"] for t in r1("Templates")] == ["Intro"]
    bulk = r1("SendInMails", input={"candidateIds": ["k1", "k2"], "templateId": saved["template"]["id"]})
    assert [r["thread"]["initial"]["subject"] for r in bulk["results"]] == ["Hi there", "Hi Lee"]
    assert r1("DeleteTemplate", input={"id": saved["template"]["id"]})["deletedId"] == saved["template"]["id"]
    assert r1("Contract")["creditsRemaining"] == 6

    assert ran == set(NAMES), set(NAMES) - ran
