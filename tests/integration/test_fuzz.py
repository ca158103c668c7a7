"""Schemathesis fuzzes every query and mutation of the GraphQL API, in-process through the
ASGI app `inmail serve` runs (local HS256 tokens), as each role, on a seeded world (two
contracts, seats, candidates, threads with follow-ups, a reply, a cancellation).

Every response must be: no 5xx; valid GraphQL (schemathesis' response_schema_conformance:
JSON object, no null in a non-null field); every error either a validation error (no path)
or coded UNAUTHENTICATED / FORBIDDEN / BAD_USER_INPUT, and no "Unexpected error" at all
(nothing logged as unexpected either); no stack trace or file path. After the run, and
after a sweep a month later, the money invariants hold (R04).

Bounded for `make test` (FUZZ_EXAMPLES per operation per role, default 12, fixed seed);
`make fuzz` runs 100 with a random seed and prints the table (FUZZ_SEED=... replays one).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import graphql
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import checks as schemathesis_checks
from schemathesis.core.failures import FailureGroup
from schemathesis.graphql import nodes

from gql import GraphQLClient
from inmail.api.auth import issue_local_token, load_or_create_secret
from inmail.config import AuthMode, Settings
from inmail.domain.model import LedgerKind
from inmail.local.asgi import create_app
from inmail.services.deps import Deps
from inmail.services.recount import recount_report
from inmail.services.sweep import run_sweep
from inmail.store.dynamo import _thread_from
from inmail.store.models import CounterModel, LedgerModel, ThreadModel
from support import T0

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
SEED = os.environ.get("FUZZ_SEED")  # unset: derandomized (the same cases every run)
MASKED = "Unexpected error. It was logged."
ALLOWED_CODES = {"UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT"}
REPO = str(Path(__file__).resolve().parents[2])
LEAKS = re.compile(
    r"Traceback|File \"|site-packages|\.py\b[\"', :]|" + re.escape(REPO) + "|" + re.escape(sys.prefix),
)

# Who fuzzes: (label, sub, roles, contract). Recruiters first, the operator last, so that
# its provisioning (restricting seats, deleting candidates) does not starve the others.
ROLES: list[tuple[str, str, list[str], str | None]] = [
    ("RECRUITER", "r2", ["RECRUITER"], "c1"),
    ("CONTRACT_ADMIN+RECRUITER", "r1", ["RECRUITER", "CONTRACT_ADMIN"], "c1"),
    ("CANDIDATE", "k1", ["CANDIDATE"], None),
    ("OPERATOR", "ops", ["OPERATOR"], None),
]

# ---- values worth more than random text ---------------------------------------------------

KNOWN_IDS = ["c1", "c2", "r1", "r2", "r3", "k1", "k2", "k3", "ops", "nobody"]
THREAD_IDS = [f"t{i:05d}" for i in range(1, 400)]  # SeqIds: seeded threads, then the fuzzed ones
HOSTILE = [
    "",
    " ",
    "   ",
    "#",
    "t00001#x",
    " t00001",
    "t00001 ",
    "\t",
    "\n",
    "\x00",
    "\u202e",
    "😀" * 3,
    "x" * 129,
    "x" * 201,
    "x" * 1901,
    "null",
    "0",
    "-1",
    "' OR 1=1 --",
    "${jndi:ldap://x}",
    "../../etc/passwd",
]
CURSORS = [
    base64.urlsafe_b64encode(raw.encode()).decode()
    for raw in (
        "{}",
        "[]",
        "null",
        '{"thread_id": "t00001"}',
        '{"thread_id": {"S": "t00001"}}',
        '{"x": {"S": "y"}, "created_key": {"N": "1"}}',
        "not json",
    )
] + ["!!!", "====", "eyJ"]
DATES = [
    (T0 + delta).isoformat()
    for delta in (
        timedelta(0),
        timedelta(days=3),
        timedelta(days=3, seconds=1),
        timedelta(days=7),
        timedelta(days=28),
        timedelta(days=29),
        timedelta(days=-1),
        timedelta(days=90),
    )
] + [
    (T0 + timedelta(days=5)).replace(tzinfo=None).isoformat(),  # naive
    (T0 + timedelta(days=5)).isoformat().replace("+00:00", "+14:00"),
    (T0 + timedelta(days=5)).isoformat().replace("+00:00", "-12:00"),
    "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59+00:00",
    "2026-11-05",
    "2026-13-45T99:99:99Z",
    "yesterday",
    "",
]

# inMailReport's from and to (R80): the days with threads, range edges, what is no date.
REPORT_DATES = [
    "2026-11-02",
    "2026-11-01",
    "2025-11-01",
    "2027-11-03",
    "2027-11-04",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "20261102",
    "2026-11-02T09:00:00Z",
    "yesterday",
    "",
]


def _register_scalars() -> None:
    """IDs, strings, dates and ints: half the time what exists or is valid (so that sends,
    replies and cancellations go through), else what breaks parsers, else random."""
    known_ids = st.sampled_from(KNOWN_IDS[:8] + THREAD_IDS[:16])
    hostile = st.sampled_from(HOSTILE)
    schemathesis.graphql.scalar("ID", st.one_of(known_ids, known_ids, hostile, st.text(max_size=40)).map(nodes.String))
    plain = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=60)
    schemathesis.graphql.scalar(
        "String",
        st.one_of(plain, plain, st.sampled_from(HOSTILE + CURSORS), st.text(max_size=300)).map(nodes.String),
    )
    schemathesis.graphql.scalar(
        "DateTime", st.one_of(st.sampled_from(DATES), st.datetimes().map(lambda d: d.isoformat())).map(nodes.String)
    )
    schemathesis.graphql.scalar(
        "Date", st.one_of(st.sampled_from(REPORT_DATES), st.dates().map(lambda d: d.isoformat())).map(nodes.String)
    )
    edges = [-(2**31), -1, 0, 1, 2, 3, 7, 28, 29, 50, 99, 100, 101, 10_000, 10_001, 1_000_000, 1_000_001, 2**31 - 1]
    schemathesis.graphql.scalar(
        "Int",
        st.one_of(st.integers(3, 28), st.sampled_from(edges), st.integers(-(2**31), 2**31 - 1)).map(nodes.Int),
    )


# ---- the world ------------------------------------------------------------------------------


def seed_world(api: GraphQLClient) -> None:
    """c1: admin r1, recruiter r2; c2: r3 with 3 credits. Candidates k1, k2 and deleted k3.
    Threads with follow-ups, one replied to, one cancelled, one on the other contract."""
    api.contract("c1", credits=500, max_daily=100)
    api.contract("c2", credits=3, max_daily=5)
    r1 = api.seat("r1", "c1", admin=True)
    r2 = api.seat("r2", "c1")
    r3 = api.seat("r3", "c2")
    k1 = api.candidate("k1")
    api.candidate("k2")
    api.candidate("k3", deleted=True)

    def send(caller: Any, cand: str, follow_up: bool) -> str:
        extra: dict[str, Any] = {"followUp": {"body": "ping", "delayDays": 3}} if follow_up else {}
        p = caller.mutate("SendInMail", candidateId=cand, subject="Hello", body="A role", **extra)
        assert not p["userErrors"], p
        tid: str = p["thread"]["id"]
        return tid

    send(r1, "k1", True)
    replied = send(r1, "k1", True)
    cancelled = send(r2, "k1", True)
    send(r2, "k2", False)
    send(r3, "k1", True)
    send(r2, "k2", True)
    assert not k1.mutate("ReplyToInMail", threadId=replied, body="Interested")["userErrors"]
    assert not r2.mutate("CancelFollowUp", threadId=cancelled)["userErrors"]


# Half the time an argument naming an entity names one that exists: schemathesis generates the
# shape of every query, this steers it towards the world so that writes go through.
STEER: dict[str, list[str]] = {
    "candidateId": ["k1", "k2", "k3"],
    "threadId": THREAD_IDS[:12],
    "id": [*THREAD_IDS[:12], "c1", "c2"],
    "recruiterId": ["r1", "r2", "r3"],
    "contractId": ["c1", "c2"],
}
NULLED = {"after", "sendAt", "idempotencyKey"}  # optional: absent half the time, so the rest can pass
STEER_INT: dict[str, tuple[int, int]] = {"first": (1, 100), "delayDays": (3, 28), "dailyLimit": (1, 100)}
USER_ERRORS = graphql.parse("{ userErrors { code field message } }").definitions[0].selection_set.selections[0]  # type: ignore[attr-defined]


class Steer(graphql.Visitor):
    def __init__(self, rnd: random.Random):
        super().__init__()
        self.rnd = rnd

    def _steered(self, node: Any) -> Any:
        name, value = node.name.value, node.value
        if self.rnd.random() < 0.5:
            return None
        if name in STEER and isinstance(value, graphql.StringValueNode):
            return copy(node, value=graphql.StringValueNode(value=self.rnd.choice(STEER[name])))
        if name in NULLED:
            return copy(node, value=graphql.NullValueNode())
        if name in STEER_INT and isinstance(value, graphql.IntValueNode):
            return copy(node, value=graphql.IntValueNode(value=str(self.rnd.randint(*STEER_INT[name]))))
        return None

    def enter_object_field(self, node: graphql.ObjectFieldNode, *_: Any) -> Any:
        return self._steered(node)

    def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> Any:
        return self._steered(node)

    def enter_operation_definition(self, node: graphql.OperationDefinitionNode, *_: Any) -> Any:
        """Mutations always select userErrors, so that every refusal is seen and judged."""
        if node.operation is not graphql.OperationType.MUTATION:
            return None
        root = node.selection_set.selections[0]
        assert isinstance(root, graphql.FieldNode) and root.selection_set is not None
        kept = [
            s for s in root.selection_set.selections if getattr(getattr(s, "name", None), "value", "") != "userErrors"
        ]
        selections = (*kept, USER_ERRORS)
        root = copy(root, selection_set=graphql.SelectionSetNode(selections=selections))
        return copy(node, selection_set=graphql.SelectionSetNode(selections=(root,)))


def copy(node: Any, **changes: Any) -> Any:
    fields = {k: getattr(node, k) for k in node.keys if k != "loc"}
    return type(node)(**{**fields, **changes})


def steer(body: str, rnd: random.Random) -> str:
    return graphql.print_ast(graphql.visit(graphql.parse(body), Steer(rnd)))


# ---- checks on each response ----------------------------------------------------------------


@dataclass
class Tally:
    requests: int = 0
    examples: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    failing_operations: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)

    def fail(self, role: str, label: str, why: str, query: str, body: str) -> None:
        self.failing_operations[f"{role} {label}"] += 1
        if len(self.failures) < 20:
            self.failures.append(f"[{role}] {label}: {why}\n  query: {query[:600]}\n  response: {body[:600]}")


def judge(payload: Any) -> tuple[str, str | None]:
    """(outcome, why-it-fails or None) for one GraphQL response body."""
    if not isinstance(payload, dict):
        return "not-an-object", "response is not a JSON object"
    errors = payload.get("errors") or []
    if not errors:
        data = payload.get("data") or {}
        root = next(iter(data.values()), None) if isinstance(data, dict) else None
        if isinstance(root, dict) and root.get("userErrors"):
            return "userError:" + str(root["userErrors"][0].get("code", "?")), None
        return "ok", None
    for error in errors:
        message = error.get("message", "")
        code = (error.get("extensions") or {}).get("code")
        if message == MASKED:
            return "unexpected", f"unexpected error at {error.get('path')}"
        if code in ALLOWED_CODES:
            continue
        if code is None and "path" not in error:
            continue  # parse / validation / limits: refused before any resolver ran
        return "unmasked", f"unmasked error {code!r}: {message!r}"
    first = errors[0]
    code = (first.get("extensions") or {}).get("code")
    return (code or "validation"), None


class UnexpectedLog(logging.Handler):
    """The API logs every masked error: any record at ERROR is a finding."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def unexpected_log() -> Iterator[UnexpectedLog]:
    handler = UnexpectedLog()
    logger = logging.getLogger("inmail")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def fuzz_role(schema: Any, app: Any, role: str, token: str, tally: Tally, log: UnexpectedLog) -> None:
    for result in schema.get_all_operations():
        fuzz_operation(result.ok(), app, role, token, tally, log)


def fuzz_operation(operation: Any, app: Any, role: str, token: str, tally: Tally, log: UnexpectedLog) -> None:
    conformance = schemathesis_checks.response_schema_conformance
    headers = {"Authorization": f"Bearer {token}"}
    label = operation.label

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=SEED is None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), rnd=st.randoms())
    def run(case: Any, rnd: random.Random) -> None:
        logged = len(log.records)
        case.body = steer(case.body, rnd)
        response = case.call(app=app, headers=headers)
        tally.requests += 1
        tally.examples[f"{role} {label}"] += 1
        text = response.text
        query = str(case.body)
        if response.status_code >= 500:
            tally.outcomes["5xx"] += 1
            tally.fail(role, label, f"HTTP {response.status_code}", query, text)
            return
        if LEAKS.search(text):
            tally.fail(role, label, "stack trace or file path in the response", query, text)
        try:
            case.validate_response(response, checks=[conformance])
        except FailureGroup as group:
            tally.fail(role, label, "; ".join(str(f.title) for f in group.exceptions), query, text)
        try:
            payload = json.loads(text)
        except ValueError:
            tally.fail(role, label, "body is not JSON", query, text)
            return
        outcome, why = judge(payload)
        tally.outcomes[outcome] += 1
        if outcome == "ok":
            tally.accepted[label] += 1
        if os.environ.get("FUZZ_DEBUG") and os.environ["FUZZ_DEBUG"] in label:
            print(role, query.replace("\n", " ")[:300], "=>", text[:300])
        if why:
            tally.fail(role, label, why, query, text)
        if len(log.records) > logged:
            record = log.records[-1]
            tally.fail(role, label, f"logged: {record.getMessage()} {record.exc_info!r}", query, text)

    if SEED is not None:
        run = seed(int(SEED))(run)
    run()


# ---- money invariants (R04), read straight from the tables ---------------------------------


def money_invariants(deps: Deps) -> dict[str, int]:
    entries = list(LedgerModel.scan())
    assert len({e.entry_id for e in entries}) == len(entries)
    net: Counter[str] = Counter()
    per_message: dict[str, Counter[str]] = {}
    for e in entries:
        sign = 1 if e.kind == LedgerKind.CHARGE.value else -1
        net[e.contract_id] += sign * int(e.amount)
        per_message.setdefault(e.message_id, Counter())[e.kind] += int(e.amount)
    used: Counter[str] = Counter()
    for c in CounterModel.scan():
        if c.counter_key.startswith("credits#"):
            _, contract, _month = c.counter_key.split("#")
            used[contract] += int(c.used)
    # charges - refunds == what the contract's credit counters say is used
    assert {k: v for k, v in net.items() if v} == {k: v for k, v in used.items() if v}, (net, used)
    # each message: refunds <= charges
    for message_id, kinds in per_message.items():
        assert kinds[LedgerKind.REFUND.value] <= kinds[LedgerKind.CHARGE.value], (message_id, kinds)
    # no thread without its charge; every message's ledger matches what it records
    threads = [_thread_from(m) for m in ThreadModel.scan()]
    for t in threads:
        assert per_message.get(t.initial.message_id, Counter())[LedgerKind.CHARGE.value] >= 1, t.thread_id
        for m in filter(None, (t.initial, t.follow_up)):
            kinds = per_message.get(m.message_id, Counter())
            assert kinds[LedgerKind.CHARGE.value] == m.charges, (t.thread_id, m.message_id, kinds, m.charges)
            assert kinds[LedgerKind.REFUND.value] == m.refunds, (t.thread_id, m.message_id, kinds, m.refunds)
    # R82: the report's counters, kept commit by commit, are the recount.
    recounted = recount_report(deps.store)  # type: ignore[arg-type]
    assert recounted.exact and not recounted.disagreements, recounted.to_dict()
    return {"threads": len(threads), "ledger entries": len(entries), "report cohorts": recounted.cohorts}


# ---- the test -------------------------------------------------------------------------------


def print_table(tally: Tally, seconds: float, facts: dict[str, int]) -> None:
    per_op: dict[str, list[int]] = {}
    for key, n in tally.examples.items():
        _role, label = key.rsplit(" ", 1)
        per_op.setdefault(label, []).append(n)
    lines = [
        "",
        f"GraphQL fuzzing (schemathesis {schemathesis.__version__}), "
        f"{'seed ' + SEED if SEED else 'derandomized'}, {EXAMPLES} examples/operation/role",
        f"{'operation':<34} {'examples (4 roles)':>18} {'accepted':>9} {'failures':>9}",
    ]
    for label in sorted(per_op):
        fails = sum(n for k, n in tally.failing_operations.items() if k.endswith(" " + label))
        lines.append(f"{label:<34} {sum(per_op[label]):>18} {tally.accepted[label]:>9} {fails:>9}")
    lines += [
        f"requests: {tally.requests}, operations: {len(per_op)}, roles: {len(ROLES)}, "
        f"failures: {sum(tally.failing_operations.values())}, {seconds:.1f} s "
        f"({1000 * seconds / max(tally.requests, 1):.0f} ms/request)",
        "outcomes: " + ", ".join(f"{k} {v}" for k, v in tally.outcomes.most_common()),
        "after the run and a sweep: " + ", ".join(f"{k} {v}" for k, v in facts.items()) + ", ledger balanced",
    ]
    print("\n".join(lines))


def test_fuzz_every_operation_as_every_role(dynamo_deps: Deps, tmp_path: Path, unexpected_log: UnexpectedLog) -> None:
    started = time.perf_counter()
    api = GraphQLClient(dynamo_deps, Settings(due_shards=4))
    seed_world(api)
    secret_file = tmp_path / "jwt-secret"
    secret = load_or_create_secret(secret_file)
    app = create_app(
        dynamo_deps,
        Settings(due_shards=4, auth_mode=AuthMode.LOCAL, local_secret_file=str(secret_file), graphiql=False),
    )
    ops_token = issue_local_token(secret, "ops", ["OPERATOR"])
    # The schema the running app publishes (introspection), not the file.
    schema = schemathesis.graphql.from_asgi("/graphql", app, headers={"Authorization": f"Bearer {ops_token}"})
    _register_scalars()

    tally = Tally()
    for role, sub, roles, contract in ROLES:
        token = issue_local_token(secret, sub, roles, contract)
        fuzz_role(schema, app, role, token, tally, unexpected_log)

    facts = money_invariants(dynamo_deps)
    dynamo_deps.clock.advance(days=31)  # type: ignore[attr-defined]
    summary = run_sweep(dynamo_deps, dynamo_deps.clock.now(), "fuzz-sweep", workers=1)
    facts = {**money_invariants(dynamo_deps), "follow-ups due at the sweep": summary.due}
    print_table(tally, time.perf_counter() - started, facts)

    assert tally.requests >= EXAMPLES * len(ROLES), tally.requests
    assert not tally.failures, "\n\n".join(tally.failures)


def test_the_checks_catch_what_they_must() -> None:
    """The judge itself: a masked error, an uncoded error from a resolver and a trace all fail."""
    masked = {"data": None, "errors": [{"message": MASKED, "path": ["viewer"]}]}
    uncoded = {"data": None, "errors": [{"message": "KeyError: 'x'", "path": ["thread"]}]}
    assert judge(masked)[1] and judge(uncoded)[1] and judge([])[1]
    assert judge({"data": None, "errors": [{"message": "Syntax Error", "locations": []}]}) == ("validation", None)
    assert (
        judge({"data": None, "errors": [{"message": "no", "path": ["x"], "extensions": {"code": "FORBIDDEN"}}]})[1]
        is None
    )
    refused = {"data": {"sendInMail": {"thread": None, "userErrors": [{"code": "NOT_FOUND"}]}}}
    assert judge(refused) == ("userError:NOT_FOUND", None)
    assert LEAKS.search('Traceback (most recent call last):\n  File "/x/app.py", line 3')
    assert LEAKS.search(f"{REPO}/functions/inmail/api/schema.py")
    assert not LEAKS.search('{"data": {"viewer": {"id": "ops"}}}')
