"""The benchmarks' stand-in for AWS: moto in-process, the app's own deps, a request meter
and a timer of DynamoDB calls. Nothing here is used by functions/."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from inmail.wiring import UuidIds
from support import (
    FakeClock,
    LambdaContext,
    claims_for,
    http_event,
    serialize_moto_requests,
    thread_botocore_session,
)

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "InMailBench")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)


_patched = False


def patch_moto() -> None:
    """Make moto's TransactWriteItems cost what the transaction touches, as the embedded
    engine does (inmail.local.moto_internals: same results, a backup of the items instead
    of the tables), and serialise requests so that each is atomic as on DynamoDB."""
    global _patched
    if _patched:
        return
    from inmail.local import moto_internals

    refused = moto_internals.install()
    if refused is not None:
        print(f"bench: {refused}; transactions copy whole tables (slow with big tables)", file=sys.stderr)
    serialize_moto_requests()
    _patched = True


class Stack:
    """Fresh moto tables and the app's deps, wired as wiring.build_deps wires them."""

    def __init__(self, due_shards: int = 8, workers: int = 8):
        from inmail.config import Settings

        self.settings = Settings(due_shards=due_shards, sweep_workers=workers)
        self.clock = FakeClock()
        self._mock: Any = None

    def __enter__(self) -> Stack:
        import pynamodb.connection.base
        from moto import mock_aws

        from inmail.services.deps import Deps
        from inmail.store.dynamo import DynamoStore, StoreDelivery
        from inmail.store.tables import ensure_tables

        patch_moto()
        pynamodb.connection.base.get_session = thread_botocore_session  # type: ignore[attr-defined]
        self._mock = mock_aws()
        self._mock.start()
        ensure_tables(self.settings)
        self.store = DynamoStore(self.settings)
        self.deps = Deps(
            store=self.store,
            clock=self.clock,
            ids=UuidIds(),
            delivery=StoreDelivery(self.store),
            lease=timedelta(seconds=self.settings.lease_seconds),
            delivery_attempts=self.settings.delivery_attempts,
            sleep=lambda _: None,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self._mock.stop()

    def fan_out_queue(self, name: str = "inmail-fan-out") -> Any:
        """The fan-out queue on moto (SQS, in the same mock), as the app's adapter."""
        from dataclasses import replace as with_

        from inmail.store.tables import ensure_work_queue
        from inmail.store.work_queue import SqsWorkQueue

        url = ensure_work_queue(self.settings, name)
        return SqsWorkQueue.from_settings(with_(self.settings, fan_out_queue_url=url), self.store.session)

    @contextmanager
    def metered(self) -> Iterator[Any]:
        from inmail.store.metering import RequestMeter

        meter = RequestMeter().attach(self.store)
        try:
            yield meter
        finally:
            meter.detach()

    @contextmanager
    def tables_touched(self) -> Iterator[Any]:
        from inmail.store.metering import TableMeter

        meter = TableMeter().attach(self.store)
        try:
            yield meter
        finally:
            meter.detach()

    # ---- the API, through the Lambda's path (API Gateway v2 event -> GraphQLHttp -> Strawberry)

    def api(self) -> Api:
        from inmail.api.apigw import handle_event
        from inmail.api.http import GraphQLHttp

        api = GraphQLHttp(self.deps, self.settings)
        return Api(lambda event, context: handle_event(api, event))


claims = claims_for


OPERATOR = claims("ops", "OPERATOR")


class Api:
    def __init__(self, handler: Any):
        self.handler = handler
        self.context = LambdaContext()

    def event(self, query: str, variables: dict[str, Any], who: dict[str, Any]) -> dict[str, Any]:
        import json

        return http_event("POST", json.dumps({"query": query, "variables": variables}), who)

    def call(self, event: dict[str, Any]) -> dict[str, Any]:
        import json

        response = self.handler(event, self.context)
        body = json.loads(response["body"])
        if response["statusCode"] != 200 or body.get("errors"):
            raise AssertionError(f"GraphQL call failed: {response['statusCode']} {body}")
        data: dict[str, Any] = body["data"]
        return data

    def run(self, query: str, who: dict[str, Any], **variables: Any) -> dict[str, Any]:
        return self.call(self.event(query, variables, who))

    def mutate(self, query: str, who: dict[str, Any], **input: Any) -> dict[str, Any]:
        payload: dict[str, Any] = next(iter(self.run(query, who, input=input).values()))
        if payload.get("userErrors"):
            raise AssertionError(f"refused: {payload['userErrors']}")
        return payload


CREATE_CONTRACT = """mutation($input: CreateContractInput!) { createContract(input: $input) {
  contract { id } userErrors { code message } } }"""
ADD_SEAT = """mutation($input: AddSeatInput!) { addSeat(input: $input) {
  seat { recruiterId } userErrors { code message } } }"""
UPSERT_CANDIDATE = """mutation($input: UpsertCandidateInput!) { upsertCandidate(input: $input) {
  candidate { id } userErrors { code message } } }"""
SEND = """mutation($input: SendInMailInput!) { sendInMail(input: $input) {
  thread { id status followUp { status scheduledFor } } userErrors { code message } } }"""
SEND_MANY = """mutation($input: SendInMailsInput!) { sendInMails(input: $input) {
  results { candidateId thread { id status } userErrors { code message } } userErrors { code message } } }"""
SCHEDULE = """mutation($input: ScheduleFollowUpInput!) { scheduleFollowUp(input: $input) {
  thread { id followUp { status scheduledFor } } userErrors { code message } } }"""
REPLY = """mutation($input: ReplyToInMailInput!) { replyToInMail(input: $input) {
  thread { id status repliedAt } userErrors { code message } } }"""
VIEWER = "query { viewer { id contractId roles seat { recruiterId dailyLimit sentToday } } }"
AWAITING = """query($first: Int!) { awaitingReply(first: $first) {
  edges { cursor node { id status createdAt creditsCharged initial { id body status sentAt }
    followUp { id status scheduledFor } } }
  pageInfo { hasNextPage endCursor } } }"""


def provision(api: Api, contracts: int, recruiters: int, candidates: int) -> tuple[list[str], list[str]]:
    """Contracts, seats (round-robin over contracts) and candidates, through the API.
    Returns (recruiter ids, candidate ids)."""
    for c in range(contracts):
        api.mutate(
            CREATE_CONTRACT,
            OPERATOR,
            id=f"c{c}",
            name=f"Contract {c}",
            monthlyCredits=1_000_000,
            maxDailyLimit=10_000,
            followUpsEnabled=True,
        )
    rids = [f"r{i}" for i in range(recruiters)]
    for i, rid in enumerate(rids):
        api.mutate(ADD_SEAT, OPERATOR, contractId=f"c{i % contracts}", recruiterId=rid, admin=False)
    kids = [f"k{i}" for i in range(candidates)]
    for kid in kids:
        api.mutate(UPSERT_CANDIDATE, OPERATOR, candidateId=kid, name=f"Candidate {kid}")
    return rids, kids


def provision_seats(api: Api, contract: str, recruiters: list[str]) -> None:
    """One contract with these seats (the first its admin) and candidate k0, through the API."""
    api.mutate(
        CREATE_CONTRACT,
        OPERATOR,
        id=contract,
        name=f"Contract {contract}",
        monthlyCredits=1_000_000,
        maxDailyLimit=10_000,
        followUpsEnabled=True,
    )
    for i, rid in enumerate(recruiters):
        api.mutate(ADD_SEAT, OPERATOR, contractId=contract, recruiterId=rid, admin=i == 0)
    api.mutate(UPSERT_CANDIDATE, OPERATOR, candidateId="k0", name="Candidate k0")


def recruiter_claims(rid: str, contracts: int) -> dict[str, Any]:
    return claims(rid, "RECRUITER", contract=f"c{int(rid[1:]) % contracts}")


def seed_threads(
    stack: Stack,
    template: Any,
    count: int,
    due_at: datetime,
    recruiters: list[str],
    candidates: list[str],
    contracts: int,
    prefix: str,
) -> list[str]:
    """`count` threads like `template` (a thread the API wrote), each with a follow-up
    SCHEDULED for `due_at`, written with BatchWriteItem as ThreadModel items built by the
    store's own mapping (DynamoStore._thread_model): the items the app writes."""
    from inmail.domain import transitions
    from inmail.store.models import ThreadModel

    ids: list[str] = []
    with ThreadModel.batch_write() as batch:
        for i in range(count):
            tid = f"{prefix}{i:07d}"
            rid = recruiters[i % len(recruiters)]
            thread = replace(
                template,
                thread_id=tid,
                recruiter_id=rid,
                contract_id=f"c{int(rid[1:]) % contracts}",
                candidate_id=candidates[i % len(candidates)],
                created_at=template.created_at + timedelta(microseconds=i),
                initial=replace(template.initial, message_id=transitions.initial_message_id(tid)),
                follow_up=replace(
                    template.follow_up,
                    message_id=transitions.follow_up_message_id(tid),
                    scheduled_for=due_at,
                ),
            )
            batch.save(stack.store._thread_model(thread))
            ids.append(tid)
    return ids
