"""The InMail report (SPEC.md R80-R83) through the GraphQL API on the in-memory store: who
gets which rows, the range, every figure of a row, the cohort a late reply counts in, and
that the report equals the recount and reads no thread."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from fakes import FlakyDelivery, MemoryStore, StoreDelivery
from gql import Caller, GraphQLClient, Response
from inmail.config import Settings
from inmail.domain import report
from inmail.services.deps import Deps
from inmail.services.recount import recount_report
from inmail.services.sweep import run_sweep
from support import T0, FakeClock, SeqIds

DAY = T0.date()  # 2026-11-02
ZERO_ROW = {
    "inMailsSent": 0,
    "followUpsScheduled": 0,
    "followUpsSent": 0,
    "followUpsCancelled": 0,
    "followUpsDeleted": 0,
    "followUpsFailed": [],
    "replies": 0,
    "repliesBeforeFollowUp": 0,
    "repliesAfterFollowUp": 0,
    "responseRate": 0.0,
    "creditsCharged": 0,
    "creditsRefunded": 0,
}


# ---- what a user does and sees ------------------------------------------------------------


def send(caller: Caller, candidate: str = "k1", delay: int | None = None, **extra: Any) -> str:
    follow_up = {"body": "Just checking in", "delayDays": delay} if delay is not None else None
    p = caller.mutate("SendInMail", candidateId=candidate, subject="A role", body="Hello", followUp=follow_up, **extra)
    assert p["userErrors"] == [], p
    tid: str = p["thread"]["id"]
    return tid


def ok(payload: dict[str, Any]) -> dict[str, Any]:
    assert payload["userErrors"] == [], payload
    return payload


def reply(api: GraphQLClient, thread_id: str, candidate: str = "k1") -> None:
    ok(api.as_(candidate, "CANDIDATE").mutate("ReplyToInMail", threadId=thread_id, body="Interested!"))


def sweep(api: GraphQLClient, at: datetime, sweep_id: str = "sweep-1") -> None:
    run_sweep(api.deps, at, sweep_id, workers=1)


def ask(caller: Caller, first: date | str, last: date | str) -> Response:
    return caller.op("InMailReport", **{"from": str(first), "to": str(last)})


def inmail_report(caller: Caller, first: date | str = DAY, last: date | str = DAY) -> dict[str, Any]:
    r = ask(caller, first, last)
    assert r.status == 200 and not r.errors, r.body
    data: dict[str, Any] = r.data["inMailReport"]
    return data


def rows(data: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    return {row["recruiterId"]: {k: v for k, v in row.items() if k != "recruiterId"} for row in data["rows"]}


def figures(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "recruiterId"}


def row_of(**given: Any) -> dict[str, Any]:
    return {**ZERO_ROW, **given}


@pytest.fixture
def acme(api: GraphQLClient) -> dict[str, Caller]:
    return provision(api)


def provision(api: GraphQLClient) -> dict[str, Caller]:
    """Contract c1: admin a1 (who sends too), recruiters r1 and r2 (r2 sends nothing);
    contract c2 with its recruiter x1; candidates k1 to k4."""
    api.contract("c1", credits=100)
    api.contract("c2", credits=100)
    callers = {
        "a1": api.seat("a1", "c1", admin=True),
        "r1": api.seat("r1", "c1"),
        "r2": api.seat("r2", "c1"),
        "x1": api.seat("x1", "c2"),
    }
    for k in ("k1", "k2", "k3", "k4"):
        api.candidate(k)
    return callers


# ---- R80: who gets which rows, and the range ------------------------------------------------


def test_r80_a_contract_admin_gets_one_row_per_recruiter_and_the_total(
    api: GraphQLClient, acme: dict[str, Caller]
) -> None:
    send(acme["a1"], "k1")
    send(acme["r1"], "k1", delay=3)
    send(acme["r1"], "k2")
    send(acme["x1"], "k3")  # another contract's: never in c1's report

    data = inmail_report(acme["a1"])
    assert (data["from"], data["to"]) == (DAY.isoformat(), DAY.isoformat())
    assert [row["recruiterId"] for row in data["rows"]] == ["a1", "r1", "r2"]  # r2: a row of zeros
    assert rows(data) == {
        "a1": row_of(inMailsSent=1, creditsCharged=1),
        "r1": row_of(inMailsSent=2, followUpsScheduled=1, creditsCharged=3),
        "r2": ZERO_ROW,
    }
    assert data["total"] == {"recruiterId": None, **row_of(inMailsSent=3, followUpsScheduled=1, creditsCharged=4)}


def test_r80_a_recruiter_sees_only_their_own_row(api: GraphQLClient, acme: dict[str, Caller]) -> None:
    send(acme["a1"], "k1")
    send(acme["r1"], "k1", delay=3)
    mine = inmail_report(acme["r1"])
    assert [row["recruiterId"] for row in mine["rows"]] == ["r1"]
    assert figures(mine["rows"][0]) == row_of(inMailsSent=1, followUpsScheduled=1, creditsCharged=2)
    assert mine["total"] == {"recruiterId": None, **figures(mine["rows"][0])}
    # A recruiter who sent nothing has their row, all zeros; not the contract's.
    assert rows(inmail_report(acme["r2"])) == {"r2": ZERO_ROW}
    # A seat marked admin needs the CONTRACT_ADMIN role in the token too (docs/rules.md).
    plain_admin = api.as_("a1", "RECRUITER", contract="c1")
    assert [row["recruiterId"] for row in inmail_report(plain_admin)["rows"]] == ["a1"]


def test_r80_from_and_to_are_utc_days_inclusive(api: GraphQLClient, acme: dict[str, Caller], clock: FakeClock) -> None:
    clock.at = datetime.fromisoformat("2026-11-02T23:59:59+00:00")
    send(acme["r1"], "k1")
    clock.at = datetime.fromisoformat("2026-11-03T00:00:00+00:00")
    send(acme["r1"], "k2")
    send(acme["r1"], "k3")
    sent = {day: inmail_report(acme["a1"], day, day)["total"]["inMailsSent"] for day in ("2026-11-02", "2026-11-03")}
    assert sent == {"2026-11-02": 1, "2026-11-03": 2}
    assert inmail_report(acme["a1"], "2026-11-02", "2026-11-03")["total"]["inMailsSent"] == 3
    assert inmail_report(acme["a1"], "2026-11-04", "2026-11-30")["total"]["inMailsSent"] == 0
    # Exactly 366 days apart is a range; a single day is one too.
    assert inmail_report(acme["a1"], "2025-11-02", "2026-11-03")["total"]["inMailsSent"] == 3


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("2026-01-01", "2027-01-03", "at most 366 days apart (got 367)"),
        ("2020-01-01", "2026-11-02", "at most 366 days apart"),
        ("2026-11-03", "2026-11-02", "on or after"),
    ],
)
def test_r80_a_range_over_366_days_or_backwards_is_invalid_input(
    api: GraphQLClient, acme: dict[str, Caller], first: str, last: str, message: str
) -> None:
    send(acme["r1"], "k1")
    r = ask(acme["a1"], first, last)
    assert r.status == 200 and r.data is None, r.body
    [error] = r.errors
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "userErrorCode": "INVALID_INPUT", "field": ["to"]}
    assert message in error["message"]


@pytest.mark.parametrize("value", ["2026-02-30", "yesterday", "", "2026-11-02T00:00:00Z"])
def test_r80_a_date_that_is_not_one_is_refused_by_the_schema(acme: dict[str, Caller], value: str) -> None:
    r = ask(acme["a1"], value, DAY)
    assert r.data is None and r.errors and "Date" in r.errors[0]["message"], r.body


def test_r80_candidates_and_operators_are_forbidden_anonymous_unauthenticated(
    api: GraphQLClient, acme: dict[str, Caller]
) -> None:
    send(acme["r1"], "k1")
    for caller in (api.as_("k1", "CANDIDATE"), api.operator, api.as_("ghost", "RECRUITER", contract="c1")):
        r = ask(caller, DAY, DAY)
        assert r.error_codes == ["FORBIDDEN"] and r.data is None, r.body
    r = ask(api.anonymous(), DAY, DAY)
    assert r.status == 401 and r.error_codes == ["UNAUTHENTICATED"], r.body
    # A token whose contract claim is another's gets nothing of either contract.
    assert ask(api.as_("r1", "RECRUITER", contract="c2"), DAY, DAY).error_codes == ["FORBIDDEN"]


# ---- R81: what a row counts --------------------------------------------------------------------


def test_r81_every_figure_of_a_row(api: GraphQLClient, acme: dict[str, Caller], clock: FakeClock) -> None:
    """Five InMails of one day: a follow-up delivered then a reply (R06); a reply before the
    follow-up (R05); a follow-up scheduled later, cancelled and rescheduled (R13); a
    follow-up failed for a deleted profile (R24); an InMail with nothing more."""
    r1 = acme["r1"]
    answered_after = send(r1, "k1", delay=3)
    answered_before = send(r1, "k2", delay=3)
    rescheduled = send(r1, "k3")
    send(r1, "k4", delay=3)  # its profile is deleted before it is due
    send(r1, "k1")
    ok(r1.mutate("ScheduleFollowUp", threadId=rescheduled, body="Ping", delayDays=10))
    ok(r1.mutate("CancelFollowUp", threadId=rescheduled))
    ok(r1.mutate("RescheduleFollowUp", threadId=rescheduled, delayDays=12))
    reply(api, answered_before, "k2")
    ok(api.operator.mutate("UpsertCandidate", candidateId="k4", name="Gone", deleted=True))
    clock.advance(days=3, hours=1)
    sweep(api, clock.now())
    reply(api, answered_after, "k1")

    data = inmail_report(acme["a1"])
    assert rows(data)["r1"] == row_of(
        inMailsSent=5,
        followUpsScheduled=5,  # one each for three InMails, and the rescheduled one twice
        followUpsSent=1,
        followUpsCancelled=1,
        followUpsDeleted=1,
        followUpsFailed=[{"code": "CANDIDATE_NOT_FOUND", "count": 1}],
        replies=2,
        repliesBeforeFollowUp=1,
        repliesAfterFollowUp=1,
        responseRate=0.4,
        creditsCharged=10,  # 5 first messages, 5 follow-ups (the rescheduled one paid twice)
        creditsRefunded=5,  # R06 one, R05 two, the cancel one, the failure one
    )
    # What the ledger says, per thread, is what the row adds up.
    entries = [e["node"] for e in acme["a1"].data("CreditLedger", first=100)["creditLedger"]["edges"]]
    assert sum(e["kind"] == "CHARGE" for e in entries) == 10 and sum(e["kind"] == "REFUND" for e in entries) == 5


def test_r81_a_reply_in_a_later_month_counts_in_its_cohort(
    api: GraphQLClient, acme: dict[str, Caller], clock: FakeClock
) -> None:
    r1 = acme["r1"]
    early = send(r1, "k1", delay=3)  # 2026-11-02
    late = send(r1, "k2")
    clock.advance(days=3, hours=1)
    sweep(api, clock.now())  # the follow-up is delivered on 2026-11-05
    clock.at = datetime.fromisoformat("2026-12-10T10:00:00+00:00")
    reply(api, early, "k1")  # R06: refunded in December, counted in November's cohort
    clock.at = datetime.fromisoformat("2027-02-15T10:00:00+00:00")
    reply(api, late, "k2")  # after 90 days (R08): a reply, no refund

    november = inmail_report(acme["a1"], "2026-11-01", "2026-11-30")["total"]
    assert figures(november) == row_of(
        inMailsSent=2,
        followUpsScheduled=1,
        followUpsSent=1,
        replies=2,
        repliesBeforeFollowUp=1,
        repliesAfterFollowUp=1,
        responseRate=1.0,
        creditsCharged=3,
        creditsRefunded=1,
    )
    for month in (("2026-12-01", "2026-12-31"), ("2027-02-01", "2027-02-28")):
        assert figures(inmail_report(acme["a1"], *month)["total"]) == ZERO_ROW


def test_r81_a_first_message_that_failed_is_not_sent_but_its_credits_are_shown(
    api: GraphQLClient, acme: dict[str, Caller]
) -> None:
    """Delivery kept failing (R26): nothing sent, both charges and both refunds (R23)."""
    api.deps.delivery = FlakyDelivery(api.deps.delivery, failures=3)
    p = acme["r1"].mutate(
        "SendInMail", candidateId="k1", subject="A role", body="Hello", followUp={"body": "Ping", "delayDays": 3}
    )
    assert [e["code"] for e in p["userErrors"]] == ["TECHNICAL_ISSUE"], p
    assert rows(inmail_report(acme["a1"]))["r1"] == row_of(
        followUpsScheduled=1,
        followUpsFailed=[{"code": "INITIAL_MESSAGE_FAILED", "count": 1}],
        creditsCharged=2,
        creditsRefunded=2,
    )


def test_r81_failures_by_code_and_cancellations_for_the_daily_maximum(
    api: GraphQLClient, acme: dict[str, Caller], clock: FakeClock
) -> None:
    """Follow-ups failed by each reason the sweeper has (R21, R22) are counted by code; one
    cancelled for the daily maximum (R25) is a cancellation, not a failure."""
    r1, a1 = acme["r1"], acme["a1"]
    send(r1, "k1", delay=3)
    send(a1, "k2", delay=4)
    send(a1, "k3", delay=5)
    ok(a1.mutate("SetDailyLimit", dailyLimit=2))  # a1 sent 2 today; one more on the day of the third
    ok(api.operator.mutate("SetRecruiterRestricted", recruiterId="r1", restricted=True))
    clock.advance(days=3, hours=1)
    sweep(api, clock.now(), "s1")  # r1's: R22
    ok(a1.mutate("SetFollowUpsEnabled", enabled=False))
    clock.advance(days=1)
    sweep(api, clock.now(), "s2")  # a1's first: R21
    ok(a1.mutate("SetFollowUpsEnabled", enabled=True))
    clock.advance(days=1)
    send(a1, "k4")
    send(a1, "k1")  # a1's daily maximum reached on the day the third is due
    sweep(api, clock.now(), "s3")  # a1's second: R25
    data = rows(inmail_report(a1))
    assert data["r1"]["followUpsFailed"] == [{"code": "RECRUITER_RESTRICTED", "count": 1}]
    assert data["a1"]["followUpsFailed"] == [{"code": "AUTOMATION_DISABLED", "count": 1}]
    assert data["a1"]["followUpsCancelled"] == 1 and data["a1"]["followUpsScheduled"] == 2


# ---- R82: equal to the recount, whatever retries and duplicates -------------------------------


def test_r82_retried_and_duplicated_writes_count_once(
    api: GraphQLClient, acme: dict[str, Caller], clock: FakeClock
) -> None:
    r1 = acme["r1"]
    key = {"idempotencyKey": "send-1"}
    first = send(r1, "k1", delay=3, **key)
    assert send(r1, "k1", delay=3, **key) == first  # the retry returns the first thread
    plain = send(r1, "k2")
    schedule = {"threadId": plain, "body": "Ping", "delayDays": 3, "idempotencyKey": "fu-1"}
    ok(r1.mutate("ScheduleFollowUp", **schedule))
    ok(r1.mutate("ScheduleFollowUp", **schedule))
    clock.advance(days=3, hours=1)
    sweep(api, clock.now(), "s1")
    sweep(api, clock.now(), "s2")  # a duplicate sweep: nothing left to do
    sweep(api, clock.now(), "s1")  # the same sweep retried
    reply(api, first, "k1")
    again = api.as_("k1", "CANDIDATE").mutate("ReplyToInMail", threadId=first, body="Again")
    assert [e["code"] for e in again["userErrors"]] == ["ALREADY_REPLIED"]

    assert rows(inmail_report(acme["a1"]))["r1"] == row_of(
        inMailsSent=2,
        followUpsScheduled=2,
        followUpsSent=2,
        replies=1,
        repliesAfterFollowUp=1,
        responseRate=0.5,
        creditsCharged=4,
        creditsRefunded=1,
    )
    assert_report_is_the_recount(api, acme)


def assert_report_is_the_recount(api: GraphQLClient, acme: dict[str, Caller]) -> None:
    """What the API shows for every contract's whole range is what the recount gives, and
    the counters need no correction."""
    store = api.deps.store
    assert isinstance(store, MemoryStore)
    result = recount_report(store)
    assert result.exact and not result.differences and not result.disagreements, result.to_dict()
    counted = report.recount(store.all_threads(), store.all_ledger())
    days = sorted({c.day for c in counted.figures})
    first, last = days[0], days[-1]
    for admin, contract in (("a1", "c1"),):
        expected = report.build_report(
            first,
            last,
            ((c, f) for c, f in counted.figures.items() if c.contract_id == contract),
            store.contract_recruiter_ids(contract),
        )
        shown = inmail_report(acme[admin], first, last)
        assert [r["recruiterId"] for r in shown["rows"]] == [r.recruiter_id for r in expected.rows]
        for row, want in zip(shown["rows"], expected.rows, strict=True):
            assert row["inMailsSent"] == want[report.ReportMetric.INMAILS_SENT]
            assert row["replies"] == want.replies
            assert row["creditsCharged"] == want[report.ReportMetric.CREDITS_CHARGED]
            assert row["creditsRefunded"] == want[report.ReportMetric.CREDITS_REFUNDED]
            assert row["responseRate"] == pytest.approx(want.response_rate)


# ---- R83: the report reads counters, never a thread ------------------------------------------


class NoThreadReads(MemoryStore):
    """Fails the test on any read of a thread or the ledger while armed."""

    armed = False

    def _refuse(self, what: str) -> None:
        if self.armed:
            raise AssertionError(f"the report read {what}")

    def get_thread(self, thread_id: str) -> Any:
        self._refuse("a thread")
        return super().get_thread(thread_id)

    def list_threads(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse("a listing of threads")
        return super().list_threads(*args, **kwargs)

    def list_ledger(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse("the ledger")
        return super().list_ledger(*args, **kwargs)

    def all_threads(self) -> Any:
        self._refuse("every thread")
        return super().all_threads()


def test_r83_the_report_reads_no_thread_and_its_reads_do_not_grow_with_threads(
    clock: FakeClock, settings: Settings
) -> None:
    store = NoThreadReads()
    deps = Deps(store=store, clock=clock, ids=SeqIds(), delivery=StoreDelivery(store), sleep=lambda _: None)
    acme = provision(GraphQLClient(deps, settings))
    calls: list[str] = []
    for name in ("report_cohorts", "contract_recruiter_ids", "get_seat", "get_contract", "get_counter"):
        original = getattr(store, name)

        def counted(*args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            calls.append(_name)
            return _original(*args, **kwargs)

        setattr(store, name, counted)

    def reads(threads: int) -> tuple[list[str], dict[str, Any]]:
        for _ in range(threads):
            send(acme["r1"], "k1", delay=3)
        calls.clear()
        store.armed = True
        try:
            data = inmail_report(acme["a1"], "2025-11-02", "2026-11-03")
        finally:
            store.armed = False
        return list(calls), data

    one, data_one = reads(1)
    many, data_many = reads(20)
    assert one == many == ["get_seat", "report_cohorts", "contract_recruiter_ids"]
    assert (data_one["total"]["inMailsSent"], data_many["total"]["inMailsSent"]) == (1, 21)
