"""The report's storage (R81-R83): the store contract (tests/store/test_store_contract.py)
extended to it, every check on MemoryStore (what the rule tests run on) and on DynamoStore
on moto (what production runs), so the fake cannot drift. Then, on moto alone, what the
report costs in DynamoDB requests."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from fakes import MemoryStore
from gql import GraphQLClient
from inmail.config import Settings
from inmail.domain.errors import Conflict
from inmail.domain.model import (
    Changes,
    Cohort,
    CohortChange,
    CohortFigures,
    Contract,
    Message,
    MessageKind,
    MessageStatus,
    ReportMetric,
    Seat,
    Thread,
)
from inmail.domain.report import cohort_of, recount
from inmail.services.recount import recount_report
from inmail.store.metering import RequestMeter, TableMeter
from support import T0

SENT = ReportMetric.INMAILS_SENT
CHARGED = ReportMetric.CREDITS_CHARGED
DAY = T0.date()


@pytest.fixture(params=["memory", "dynamo"])
def store(request: pytest.FixtureRequest, settings: Settings) -> Any:
    if request.param == "memory":
        return MemoryStore()
    request.getfixturevalue("aws")  # moto, for this parameter only
    from inmail.store.dynamo import DynamoStore
    from inmail.store.tables import ensure_tables

    ensure_tables(settings)
    return DynamoStore(settings)


def cohort(recruiter: str = "r1", day: date = DAY, contract: str = "c1") -> Cohort:
    return Cohort(contract, recruiter, day)


def add(store: Any, *changes: CohortChange) -> None:
    c = Changes()
    c.cohorts += changes
    store.commit(c)


def thread(tid: str, recruiter: str = "r1", contract: str = "c1", days: int = 0) -> Thread:
    at = T0 + timedelta(days=days)
    initial = Message(f"{tid}-i", MessageKind.INITIAL, "Hello", MessageStatus.SENT, sent_at=at)
    return Thread(tid, contract, recruiter, "k1", "Subject", at, initial)


# ---- the contract of both stores ---------------------------------------------------------------


def test_r82_a_commit_adds_to_its_cohort_and_moves_its_version(store: Any) -> None:
    add(store, CohortChange(cohort(), {SENT: 1, CHARGED: 2}))
    add(store, CohortChange(cohort(), {SENT: 1, ReportMetric.CREDITS_REFUNDED: 1}))
    add(store, CohortChange(cohort(), {ReportMetric.CREDITS_REFUNDED: -1}))
    [found] = store.report_cohorts("c1", DAY, DAY)
    assert found == CohortFigures(cohort(), {SENT: 2, CHARGED: 2}, 3)


def test_r82_a_thread_write_carries_its_cohort_change_in_the_same_commit(store: Any) -> None:
    """Changes.put counts the thread; the store writes both or neither."""
    changes = Changes()
    stored = changes.put(thread("t1"), None)
    store.commit(changes)
    assert [c.figures for c in store.report_cohorts("c1", DAY, DAY)] == [{SENT: 1, CHARGED: 1}]
    again = Changes()
    again.put(thread("t1"), None)  # a retry of the same creation: refused whole
    with pytest.raises(Conflict):
        store.commit(again)
    replied = Changes()
    replied.put(replace(stored, replied_at=T0 + timedelta(days=40)), stored)
    store.commit(replied)
    [found] = store.report_cohorts("c1", DAY, DAY)
    assert found.figures == {SENT: 1, CHARGED: 1, ReportMetric.REPLIES_BEFORE_FOLLOW_UP: 1}
    assert found.version == 2


def test_r83_a_range_is_its_days_inclusive_every_recruiter_or_one(store: Any) -> None:
    day = timedelta(days=1)
    for c in (
        cohort("r1", DAY - day),
        cohort("r1", DAY),
        cohort("r2", DAY),
        cohort("r1#", DAY),  # ids cannot hold '#' (R45); sort keys must not trip on it anyway
        cohort("r2", DAY + day),
        cohort("r2", DAY + 2 * day),
        cohort("x1", DAY, contract="c2"),
    ):
        add(store, CohortChange(c, {SENT: 1}))
    found = store.report_cohorts("c1", DAY, DAY + day)
    assert [c.cohort for c in found] == [
        cohort("r1", DAY),
        cohort("r1#", DAY),
        cohort("r2", DAY),
        cohort("r2", DAY + day),
    ]
    assert [c.cohort for c in store.report_cohorts("c1", DAY, DAY + 2 * day, "r2")] == [
        cohort("r2", DAY),
        cohort("r2", DAY + day),
        cohort("r2", DAY + 2 * day),
    ]
    assert store.report_cohorts("c1", DAY, DAY, "x1") == []  # another contract's recruiter
    assert store.report_cohorts("c3", DAY, DAY + day) == []


def test_r80_a_contracts_recruiters_are_its_seats(store: Any) -> None:
    changes = Changes()
    for rid, cid in (("r2", "c1"), ("r1", "c1"), ("x1", "c2")):
        changes.put(Seat(rid, cid, 5), None)
    store.commit(changes)
    assert store.contract_recruiter_ids("c1") == ["r1", "r2"]
    assert store.contract_recruiter_ids("c9") == []


def test_r82_a_correction_lands_only_if_nothing_was_written_in_between(store: Any) -> None:
    add(store, CohortChange(cohort(), {SENT: 1}))
    [read] = store.all_cohorts("c1")
    add(store, CohortChange(cohort(), {SENT: 1}))  # traffic after the read
    assert store.correct_cohort(cohort(), {CHARGED: 5}, read.version) is False
    [now] = store.all_cohorts("c1")
    assert (now.figures, now.version) == ({SENT: 2}, 2)  # nothing of the correction
    assert store.correct_cohort(cohort(), {CHARGED: 5}, now.version) is True
    # A cohort with no item yet: created only if still absent.
    assert store.correct_cohort(cohort("r9"), {SENT: 3}, 0) is True
    assert store.correct_cohort(cohort("r9"), {SENT: 3}, 0) is False
    figures = {c.cohort.recruiter_id: (c.figures, c.version) for c in store.all_cohorts()}
    assert figures == {"r1": ({SENT: 2, CHARGED: 5}, 3), "r9": ({SENT: 3}, 1)}


def test_r82_the_recount_reads_every_thread_and_entry(store: Any) -> None:
    changes = Changes()
    for i in range(3):
        changes.put(thread(f"t{i}", recruiter=f"r{i % 2}", days=i), None)
    changes.put(Contract("c1", "Acme", 10, 5), None)
    store.commit(changes)
    threads = sorted(store.all_threads(), key=lambda t: t.thread_id)
    assert [t.thread_id for t in threads] == ["t0", "t1", "t2"]
    result = recount(threads, store.all_ledger())
    assert {c: f for c, f in result.figures.items()} == {cohort_of(t): {SENT: 1} for t in threads}
    # No ledger entry for the charges the threads say they had: named, not guessed.
    assert len(result.disagreements) == 3


# ---- on moto: what the report costs -------------------------------------------------------------


def test_r83_the_report_costs_the_same_requests_and_reads_whatever_the_threads(
    api: GraphQLClient, settings: Settings
) -> None:
    """On DynamoDB: the admin's report is its seat (GetItem), one Query of the contract's
    report partition and one of the seats' index, reading the cohorts and seats; a
    recruiter's, its seat and one Query of its own cohorts. No thread, no ledger."""
    api.contract("c1", credits=500, max_daily=100)
    admin = api.seat("a1", "c1", admin=True)
    recruiter = api.seat("r1", "c1")
    api.seat("r2", "c1")
    api.candidate("k1")
    variables = {"from": "2025-11-02", "to": "2026-11-03"}

    def costs(threads: int) -> list[dict[str, Any]]:
        for _ in range(threads):
            p = recruiter.mutate("SendInMail", candidateId="k1", subject="A", body="B")
            assert not p["userErrors"], p
        out = []
        for caller in (admin, recruiter):
            meter, touched = RequestMeter().attach(api.deps.store), TableMeter().attach(api.deps.store)
            try:
                r = caller.op("InMailReport", **variables)
            finally:
                meter.detach()
                touched.detach()
            assert not r.errors, r.body
            out.append(
                {
                    "requests": dict(meter.requests),
                    "items read": dict(meter.items_read),
                    "tables": sorted(touched.calls),
                    "sent": r.data["inMailReport"]["total"]["inMailsSent"],
                }
            )
        return out

    one, many = costs(1), costs(30)
    assert [c["sent"] for c in one + many] == [1, 1, 31, 31]
    for first, second in zip(one, many, strict=True):
        assert {k: v for k, v in first.items() if k != "sent"} == {k: v for k, v in second.items() if k != "sent"}
    admin_cost, recruiter_cost = one
    assert admin_cost["requests"] == {"GetItem": 1, "Query": 2}
    assert admin_cost["items read"] == {"GetItem": 1, "Query": 1 + 3}  # one cohort, three seats
    assert admin_cost["tables"] == [
        ("GetItem", settings.seats_table, None),
        ("Query", settings.report_table, None),
        ("Query", settings.seats_table, "by-contract"),
    ]
    assert recruiter_cost["requests"] == {"GetItem": 1, "Query": 1}
    assert recruiter_cost["tables"] == [
        ("GetItem", settings.seats_table, None),
        ("Query", settings.report_table, "by-recruiter"),
    ]


def test_r82_the_recount_on_dynamodb_equals_the_counters_after_traffic(api: GraphQLClient) -> None:
    api.contract("c1", credits=50)
    r1 = api.seat("r1", "c1", admin=True)
    k1 = api.candidate("k1")
    first = r1.mutate("SendInMail", candidateId="k1", subject="A", body="B", followUp={"body": "Ping", "delayDays": 3})[
        "thread"
    ]["id"]
    second = r1.mutate("SendInMail", candidateId="k1", subject="A", body="B")["thread"]["id"]
    assert not r1.mutate("ScheduleFollowUp", threadId=second, body="Ping", delayDays=4)["userErrors"]
    assert not r1.mutate("CancelFollowUp", threadId=second)["userErrors"]
    assert not k1.mutate("ReplyToInMail", threadId=first, body="Yes")["userErrors"]
    result = recount_report(api.deps.store, "c1")  # type: ignore[arg-type]
    assert result.threads == 2 and result.ledger_entries == 7 and result.cohorts == 1
    assert result.exact and not result.differences and not result.disagreements, result.to_dict()
    total = r1.data("InMailReport", **{"from": DAY.isoformat(), "to": DAY.isoformat()})["inMailReport"]["total"]
    assert (total["inMailsSent"], total["followUpsScheduled"], total["followUpsCancelled"]) == (2, 2, 1)
    assert (total["creditsCharged"], total["creditsRefunded"], total["repliesBeforeFollowUp"]) == (4, 3, 1)


def test_r80_a_seats_table_from_before_the_report_gets_its_index(aws: None, settings: Settings) -> None:
    """A local data dir kept across the upgrade: `inmail serve` adds the seats' by-contract
    index to the table it finds, and the seats already there are in it."""
    import boto3

    from inmail.store.dynamo import DynamoStore
    from inmail.store.tables import ensure_tables

    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName=settings.seats_table,
        AttributeDefinitions=[{"AttributeName": "recruiter_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "recruiter_id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    DynamoStore(settings).commit(_seat_changes(Seat("r1", "c1", 5)))
    ensure_tables(settings)
    ensure_tables(settings)  # and again, with nothing left to add
    indexes = client.describe_table(TableName=settings.seats_table)["Table"]["GlobalSecondaryIndexes"]
    assert [i["IndexName"] for i in indexes] == ["by-contract"]
    assert DynamoStore(settings).contract_recruiter_ids("c1") == ["r1"]


def _seat_changes(seat: Seat) -> Changes:
    changes = Changes()
    changes.put(seat, None)
    return changes
