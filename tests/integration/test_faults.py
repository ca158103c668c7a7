"""DynamoDB faults at every write of sendInMail, scheduleFollowUp, replyToInMail and the
sweep, on moto through the real DynamoStore (R04, R30).

Faults are injected at botocore's level (`before-call.dynamodb.*` answers with an error
response; `after-call` raises once the write has landed), so PynamoDB's exceptions and
DynamoStore's mapping to Conflict / LimitExceeded / TransientStoreError are what runs.
Kinds: throttling (ProvisionedThroughputExceededException, ThrottlingException), a 500,
a conditional-check failure, a transaction cancelled by a TransactionConflict, a timeout
after the write landed (the caller never saw DynamoDB's answer), and the process killed
right after a write landed.

After each: the client got a clean answer (a payload, or the userError TECHNICAL_ISSUE or
CONFLICT; never a 5xx or a masked error), every R04/R30 invariant holds, and the same
request again (or a later sweep, after the lease) finishes the work exactly once."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

from gql import Caller, GraphQLClient, Response
from inmail.config import Settings
from inmail.domain import rules
from inmail.domain.model import LedgerKind, MessageStatus
from inmail.services.sweep import run_sweep
from inmail.store.metering import DynamoDBHooks
from invariants import assert_invariants, ledger_of, threads_of
from support import T0, LambdaContext, decode_body, http_event, operation
from sweeping import atomic_moto, sweep_handler

# A sweep killed mid-way never publishes its metrics: Powertools warns, as it should.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

DUE = T0 + timedelta(days=3)
WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
CLEAN_CODES = {"TECHNICAL_ISSUE", "CONFLICT"}


class Kind(StrEnum):
    PROVISIONED = "ProvisionedThroughputExceeded"
    THROTTLING = "Throttling"
    INTERNAL = "InternalServerError"
    CONDITION = "ConditionalCheckFailed"
    TX_CONFLICT = "TransactionConflict"
    TIMEOUT_AFTER_COMMIT = "timeout-after-commit"
    KILLED_AFTER_COMMIT = "killed-after-commit"


AFTER_COMMIT = (Kind.TIMEOUT_AFTER_COMMIT, Kind.KILLED_AFTER_COMMIT)


class Killed(BaseException):
    """The process died right after a write landed: nothing below this point ran."""


def _error(status: int, code: str, message: str, **extra: Any) -> tuple[AWSResponse, dict[str, Any]]:
    parsed = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}},
        **extra,
    }
    return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", status, {}, None), parsed


def _error_response(operation_name: str, kind: Kind, body: dict[str, Any], threads_table: str) -> Any:
    """What DynamoDB answers for `kind` to this request (nothing is written)."""
    if kind is Kind.PROVISIONED:
        return _error(400, "ProvisionedThroughputExceededException", "The level of configured provisioned throughput")
    if kind is Kind.THROTTLING:
        return _error(400, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
    if kind is Kind.INTERNAL:
        return _error(500, "InternalServerError", "Internal server error")
    if operation_name != "TransactWriteItems":
        if kind is Kind.CONDITION:
            return _error(400, "ConditionalCheckFailedException", "The conditional request failed")
        return _error(400, "TransactionConflictException", "Transaction is ongoing for the item")
    # A transaction: the reason sits on the thread's item (a racing writer moved it).
    items = body.get("TransactItems", [])
    target = next(
        (i for i, item in enumerate(items) if item.get("Put", {}).get("TableName") == threads_table),
        0,
    )
    code = "ConditionalCheckFailed" if kind is Kind.CONDITION else "TransactionConflict"
    reasons = [{"Code": code if i == target else "None"} for i in range(len(items))]
    return _error(
        400,
        "TransactionCanceledException",
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{code}]",
        CancellationReasons=reasons,
    )


@dataclass
class FaultInjector(DynamoDBHooks):
    """Counts DynamoDB writes on every client the app uses and faults the chosen ones."""

    threads_table: str
    plan: dict[int, Kind] = field(default_factory=dict)  # write number -> its fault
    writes: int = 0
    injected: list[tuple[int, str, Kind]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    run_first = True  # answer with the fault before the request reaches moto

    def arm(self, kind: Kind, at: set[int]) -> None:
        self.arm_plan(dict.fromkeys(at, kind))

    def arm_plan(self, plan: dict[int, Kind]) -> None:
        """Count writes from 0 again; fault write n with plan[n]."""
        with self._lock:
            self.plan, self.writes = dict(plan), 0
            self.injected.clear()

    def disarm(self) -> None:
        with self._lock:
            self.plan = {}

    def _before(self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> Any:
        name = model.name
        if name not in WRITE_OPERATIONS:
            return None
        with self._lock:
            self.writes += 1
            kind = self.plan.get(self.writes)
            if kind is not None:
                self.injected.append((self.writes, name, kind))
        if kind is None:
            return None
        if kind in AFTER_COMMIT:
            context["inject_after_commit"] = kind
            return None  # the write goes through; after-call does the rest
        body = params.get("body")
        request = json.loads(body) if isinstance(body, bytes | str) and body else {}
        return _error_response(name, kind, request, self.threads_table)

    def _after(self, http_response: Any, context: dict[str, Any], **_: Any) -> None:
        kind = context.pop("inject_after_commit", None)
        if kind is None or http_response.status_code >= 300:
            return
        if kind is Kind.KILLED_AFTER_COMMIT:
            raise Killed
        raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/")


# ---- scenarios ------------------------------------------------------------------------


@pytest.fixture
def world(api: GraphQLClient, settings: Settings) -> Iterator[tuple[GraphQLClient, FaultInjector]]:
    with atomic_moto():
        api.contract("c1", credits=50, max_daily=50)
        api.seat("r1", admin=True)
        api.candidate("k1")
        api.candidate("k2")
        # Imported before hooking: its import builds a DynamoStore, which rebinds the
        # models to new connections (and clients) the hooks would not see.
        import inmail.handlers.sweeper  # noqa: F401

        faults = FaultInjector(settings.threads_table).attach(api.deps.store)
        try:
            yield api, faults
        finally:
            faults.detach()


def recruiter(api: GraphQLClient) -> Caller:
    return api.as_("r1", "RECRUITER", "CONTRACT_ADMIN", contract="c1")


def send(api: GraphQLClient, cand: str = "k1", delay: int | None = 3, key: str | None = None) -> str:
    fu = {"body": "ping", "delayDays": delay} if delay is not None else None
    p = recruiter(api).mutate(
        "SendInMail", candidateId=cand, subject="A role", body="Hello", followUp=fu, idempotencyKey=key
    )
    assert not p["userErrors"], p
    tid: str = p["thread"]["id"]
    return tid


def call(caller: Caller, name: str, variables: dict[str, Any]) -> dict[str, Any] | None:
    """One mutation as the client sees it: its payload, or None when the process died
    before answering. An expected fault never gives a 5xx or a GraphQL error."""
    body = json.dumps({"query": operation(name), "variables": {"input": variables}})
    try:
        raw = caller.client.handler(http_event("POST", body, caller.claims), LambdaContext())
    except Killed:
        return None
    r = Response(raw["statusCode"], decode_body(raw))
    assert r.status == 200 and not r.errors, (r.status, r.body)
    payload: dict[str, Any] = next(iter(r.data.values()))
    assert {e["code"] for e in payload["userErrors"]} <= CLEAN_CODES, payload
    return payload


@dataclass
class Scenario:
    """One operation: its preparation, the request, and what 'done exactly once' means."""

    name: str
    writes: int  # DynamoDB writes the operation makes when nothing fails
    prepare: Callable[[GraphQLClient], dict[str, Any]]
    run: Callable[[GraphQLClient, dict[str, Any]], dict[str, Any] | None]
    retry: Callable[[GraphQLClient, dict[str, Any]], None]
    done: Callable[[GraphQLClient, dict[str, Any]], None]


# sendInMail with a follow-up and an idempotency key: one TransactWriteItems.
SEND_INPUT = {
    "candidateId": "k1",
    "subject": "A role",
    "body": "Hello",
    "followUp": {"body": "ping", "delayDays": 3},
    "idempotencyKey": "send-1",
}


def _send_run(api: GraphQLClient, ctx: dict[str, Any]) -> dict[str, Any] | None:
    return call(recruiter(api), "SendInMail", SEND_INPUT)


def _send_retry(api: GraphQLClient, ctx: dict[str, Any]) -> None:
    p = call(recruiter(api), "SendInMail", SEND_INPUT)
    assert p is not None and not p["userErrors"] and p["thread"] is not None, p
    ctx["thread"] = p["thread"]["id"]


def _send_done(api: GraphQLClient, ctx: dict[str, Any]) -> None:
    threads = threads_of(api.deps)
    assert [t.thread_id for t in threads] == [ctx["thread"]], "one thread for one idempotency key"
    t = threads[0]
    assert t.initial.status is MessageStatus.SENT and t.initial.charges == 1
    assert t.follow_up is not None and t.follow_up.status is MessageStatus.SCHEDULED and t.follow_up.charges == 1
    assert len(ledger_of(api.deps)) == 2


def _schedule_prepare(api: GraphQLClient) -> dict[str, Any]:
    return {"thread": send(api, delay=None)}


def _schedule_input(ctx: dict[str, Any]) -> dict[str, Any]:
    return {"threadId": ctx["thread"], "body": "ping", "delayDays": 3, "idempotencyKey": "sched-1"}


def _schedule_run(api: GraphQLClient, ctx: dict[str, Any]) -> dict[str, Any] | None:
    return call(recruiter(api), "ScheduleFollowUp", _schedule_input(ctx))


def _schedule_retry(api: GraphQLClient, ctx: dict[str, Any]) -> None:
    p = call(recruiter(api), "ScheduleFollowUp", _schedule_input(ctx))
    assert p is not None and not p["userErrors"] and p["thread"]["id"] == ctx["thread"], p


def _schedule_done(api: GraphQLClient, ctx: dict[str, Any]) -> None:
    t = api.deps.store.get_thread(ctx["thread"])
    assert t is not None and t.follow_up is not None
    assert t.follow_up.status is MessageStatus.SCHEDULED and t.follow_up.charges == 1
    assert len(ledger_of(api.deps)) == 2


def _reply_prepare(api: GraphQLClient) -> dict[str, Any]:
    return {"thread": send(api)}


def _reply_run(api: GraphQLClient, ctx: dict[str, Any]) -> dict[str, Any] | None:
    return call(api.as_("k1", "CANDIDATE"), "ReplyToInMail", {"threadId": ctx["thread"], "body": "Yes"})


def _reply_retry(api: GraphQLClient, ctx: dict[str, Any]) -> None:
    p = api.as_("k1", "CANDIDATE").mutate("ReplyToInMail", threadId=ctx["thread"], body="Yes")
    codes = {e["code"] for e in p["userErrors"]}
    assert codes in (set(), {"ALREADY_REPLIED"}), p  # the first reply may have landed


def _reply_done(api: GraphQLClient, ctx: dict[str, Any]) -> None:
    t = api.deps.store.get_thread(ctx["thread"])
    assert t is not None and t.replied_at is not None and t.follow_up is not None
    assert t.follow_up.status is MessageStatus.DELETED
    assert t.credits_refunded == 2  # R05: both back, once
    kinds = Counter(e.kind for e in ledger_of(api.deps))
    assert kinds == {LedgerKind.CHARGE: 2, LedgerKind.REFUND: 2}


def _sweep_prepare(api: GraphQLClient) -> dict[str, Any]:
    """Due at DUE: one to deliver, one to fail (R24, refunded); one due later."""
    ctx = {"deliver": send(api, "k1"), "fail": send(api, "k2"), "later": send(api, "k1", delay=10)}
    p = api.operator.mutate("UpsertCandidate", candidateId="k2", name="Kai", deleted=True)
    assert not p["userErrors"], p
    return ctx


def _sweep_run(api: GraphQLClient, ctx: dict[str, Any]) -> dict[str, Any] | None:
    try:  # one worker: the writes come in one order, so write n is always the same one
        summary = run_sweep(api.deps, DUE, "sweep-1", workers=1).to_dict()
    except Killed:
        return None
    assert summary["due"] == 2, summary
    return summary


def _sweep_retry(api: GraphQLClient, ctx: dict[str, Any]) -> None:
    """The next sweeps, until the dead or failed sweep's leases have expired."""
    lease = api.deps.lease
    for i, at in enumerate((DUE + timedelta(minutes=1), DUE + lease + timedelta(minutes=2))):
        summary = sweep_handler(api.deps, at, request_id=f"sweep-{i + 2}")
        assert summary["error"] == 0, summary


def _sweep_done(api: GraphQLClient, ctx: dict[str, Any]) -> None:
    store = api.deps.store
    delivered, failed, later = (store.get_thread(ctx[k]) for k in ("deliver", "fail", "later"))
    assert delivered is not None and delivered.follow_up is not None
    assert delivered.follow_up.status is MessageStatus.SENT and delivered.follow_up.refunds == 0
    assert failed is not None and failed.follow_up is not None
    assert failed.follow_up.status is MessageStatus.FAILED and failed.follow_up.refunds == 1
    assert later is not None and later.follow_up is not None
    assert later.follow_up.status is MessageStatus.SCHEDULED
    assert store.get_counter(rules.sends_key("r1", DUE)) == 1  # delivered once


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("sendInMail", 1, lambda api: {}, _send_run, _send_retry, _send_done),
        Scenario("scheduleFollowUp", 1, _schedule_prepare, _schedule_run, _schedule_retry, _schedule_done),
        Scenario("replyToInMail", 1, _reply_prepare, _reply_run, _reply_retry, _reply_done),
        # claim and settle (deliver, or fail with the refund) of each of two due follow-ups
        Scenario("sweep", 4, _sweep_prepare, _sweep_run, _sweep_retry, _sweep_done),
    )
}

MATRIX = [
    pytest.param(name, n, kind, id=f"{name}-write{n}-{kind.value}")
    for name, s in SCENARIOS.items()
    for n in range(1, s.writes + 1)
    for kind in Kind
]


def exercise(world: tuple[GraphQLClient, FaultInjector], name: str, kind: Kind, at: set[int]) -> Any:
    api, faults = world
    scenario = SCENARIOS[name]
    ctx = scenario.prepare(api)
    faults.arm(kind, at)
    first = scenario.run(api, ctx)
    faults.disarm()
    assert [n for n, _, _ in faults.injected] == sorted(at), f"not every fault fired: {faults.injected}"
    assert first is None or kind is not Kind.KILLED_AFTER_COMMIT or name == "sweep", first
    if first is None:
        assert kind is Kind.KILLED_AFTER_COMMIT, "only a killed process may leave the client without an answer"
    assert_invariants(api.deps)
    scenario.retry(api, ctx)
    assert_invariants(api.deps)
    scenario.done(api, ctx)
    return first


@pytest.mark.parametrize(("name", "n", "kind"), MATRIX)
def test_r04_r30_r82_fault_at_each_write(
    world: tuple[GraphQLClient, FaultInjector], name: str, n: int, kind: Kind
) -> None:
    exercise(world, name, kind, {n})


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_matrix_covers_every_write(world: tuple[GraphQLClient, FaultInjector], name: str) -> None:
    """With no fault, each operation makes exactly the writes the matrix faults."""
    api, faults = world
    scenario = SCENARIOS[name]
    ctx = scenario.prepare(api)
    faults.arm_plan({})
    assert scenario.run(api, ctx) is not None
    assert faults.writes == scenario.writes, faults.writes
    if name == "sendInMail":
        ctx["thread"] = threads_of(api.deps)[0].thread_id
    scenario.done(api, ctx)
    assert_invariants(api.deps)


# ---- longer outages -----------------------------------------------------------------------


def test_send_delivery_throttled_every_attempt_is_recorded_failed_and_refunded(
    world: tuple[GraphQLClient, FaultInjector],
) -> None:
    """Three throttled deliveries (R26): FAILED with TECHNICAL_ISSUE, charges and refunds
    both in the ledger; the retry with the key returns that same result."""
    api, faults = world
    faults.arm(Kind.PROVISIONED, {1, 2, 3})
    p = call(recruiter(api), "SendInMail", SEND_INPUT)
    faults.disarm()
    assert p is not None and [e["code"] for e in p["userErrors"]] == ["TECHNICAL_ISSUE"], p
    assert p["thread"]["initial"]["status"] == "FAILED"
    assert_invariants(api.deps)
    again = call(recruiter(api), "SendInMail", SEND_INPUT)
    assert again is not None and again["thread"]["id"] == p["thread"]["id"]
    kinds = Counter(e.kind for e in ledger_of(api.deps))
    assert kinds == {LedgerKind.CHARGE: 2, LedgerKind.REFUND: 2}
    assert api.deps.store.get_counter(rules.credits_key("c1", T0)) == 0


def test_send_during_an_outage_writes_nothing_then_the_retry_sends(
    world: tuple[GraphQLClient, FaultInjector],
) -> None:
    """Every write throttled, the failure record too: TECHNICAL_ISSUE, nothing written."""
    api, faults = world
    faults.arm(Kind.THROTTLING, {1, 2, 3, 4})
    p = call(recruiter(api), "SendInMail", SEND_INPUT)
    faults.disarm()
    assert p is not None and [e["code"] for e in p["userErrors"]] == ["TECHNICAL_ISSUE"] and p["thread"] is None
    assert threads_of(api.deps) == [] and ledger_of(api.deps) == []
    ctx: dict[str, Any] = {}
    _send_retry(api, ctx)
    _send_done(api, ctx)
    assert_invariants(api.deps)


def test_send_landed_but_unseen_then_throttled_is_not_recorded_failed(
    world: tuple[GraphQLClient, FaultInjector],
) -> None:
    """The delivery landed but timed out, and the retries were throttled: the send gave
    up, but must not record a FAILED first message over the delivered one."""
    api, faults = world
    faults.arm_plan({1: Kind.TIMEOUT_AFTER_COMMIT, 2: Kind.THROTTLING, 3: Kind.THROTTLING})
    first = call(recruiter(api), "SendInMail", SEND_INPUT)
    faults.disarm()
    assert first is not None and not first["userErrors"], first
    assert first["thread"]["initial"]["status"] == "SENT"
    assert_invariants(api.deps)
    ctx = {"thread": first["thread"]["id"]}
    _send_done(api, ctx)


def test_sweep_during_an_outage_leaves_everything_for_the_next(world: tuple[GraphQLClient, FaultInjector]) -> None:
    """The Lambda handler with every write throttled: it returns its summary (errors),
    and the next sweeps settle everything once."""
    api, faults = world
    ctx = _sweep_prepare(api)
    faults.arm(Kind.THROTTLING, set(range(1, 50)))
    summary = sweep_handler(api.deps, DUE, request_id="sweep-1")
    faults.disarm()
    assert summary["error"] == 2 and summary["delivered"] == 0, summary
    assert_invariants(api.deps)
    _sweep_retry(api, ctx)
    _sweep_done(api, ctx)
    assert_invariants(api.deps)
