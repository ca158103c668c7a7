"""What the InMail report costs (R83): DynamoDB requests and items read for 1 and 30
recruiters over 7, 90 and 366 days, with no thread and with 10k threads per contract.

Two contracts: "solo" (one recruiter, its admin) and "team" (30 recruiters, the first its
admin). With threads, solo holds 10,000 InMails over the 366 days (27 or 28 a day, so a
report reading threads would read 27x what one reading counters does), and team one InMail
per recruiter per day (10,980: every cohort exists, the most a report of its size can
read). Threads are written as the app writes them (DynamoStore._thread_model), and their
counters as the app's commits would have made them (domain/report.py's thread_figures,
added up per cohort), with BatchWriteItem: the report is measured, not the seeding."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from typing import Any

from bench.env import Stack, claims, provision_seats
from inmail.store.metering import CallTimer

LAST_DAY = date(2026, 11, 2)
DAYS = (7, 90, 366)
SOLO_THREADS = 10_000
TEAM_RECRUITERS = 30
CONTRACTS = {"solo": 1, "team": TEAM_RECRUITERS}
QUERY = """query($from: Date!, $to: Date!) { inMailReport(from: $from, to: $to) {
  rows { recruiterId inMailsSent replies responseRate followUpsFailed { code count } }
  total { inMailsSent followUpsScheduled followUpsSent replies creditsCharged creditsRefunded } } }"""


def _recruiters(contract: str) -> list[str]:
    return [f"{contract}-r{i:02d}" for i in range(CONTRACTS[contract])]


def _plan(with_threads: bool, quick: bool = False) -> list[tuple[str, str, date]]:
    """(contract, recruiter, day of the first message) of every thread to seed. Quick: solo
    1,000 threads, team's cohorts of the last 30 days only."""
    if not with_threads:
        return []
    days = [LAST_DAY - timedelta(days=d) for d in range(366)]
    solo = [("solo", _recruiters("solo")[0], days[i % len(days)]) for i in range(SOLO_THREADS // (10 if quick else 1))]
    team = [("team", rid, day) for day in days[: 30 if quick else None] for rid in _recruiters("team")]
    return solo + team


def _thread(tid: str, contract: str, rid: str, day: date, i: int) -> Any:
    """An InMail as the app stores it: every third with a follow-up, delivered on every
    other one of those, and a reply on every fifth."""
    from inmail.domain import transitions
    from inmail.domain.model import Message, MessageKind, MessageStatus, Thread

    at = datetime.combine(day, day_time(9), tzinfo=UTC) + timedelta(seconds=i % 3600)
    initial = Message(transitions.initial_message_id(tid), MessageKind.INITIAL, "Hello", MessageStatus.SENT, sent_at=at)
    follow_up = None
    if i % 3 == 0:
        delivered = i % 6 == 0
        follow_up = Message(
            transitions.follow_up_message_id(tid),
            MessageKind.FOLLOW_UP,
            "Just checking in",
            MessageStatus.SENT if delivered else MessageStatus.SCHEDULED,
            scheduled_for=at + timedelta(days=7),
            sent_at=at + timedelta(days=7) if delivered else None,
        )
    replied = at + timedelta(days=8) if i % 5 == 0 else None
    if replied is not None and follow_up is not None and follow_up.status is MessageStatus.SCHEDULED:
        follow_up = Message(
            follow_up.message_id,
            MessageKind.FOLLOW_UP,
            follow_up.body,
            MessageStatus.DELETED,
            refunds=1,
            credit_refunded=True,
            scheduled_for=follow_up.scheduled_for,
        )
    return Thread(tid, contract, rid, "k0", "A role for you", at, initial, follow_up, replied_at=replied, version=1)


def _seed(stack: Stack, plan: list[tuple[str, str, date]]) -> None:
    from inmail.domain.report import add_up, cohort_of, thread_figures
    from inmail.store.dynamo import cohort_key
    from inmail.store.models import ReportModel, ThreadModel

    per_cohort: dict[Any, list[Any]] = {}
    with ThreadModel.batch_write() as batch:
        for i, (contract, rid, day) in enumerate(plan):
            thread = _thread(f"t{i:07d}", contract, rid, day, i)
            batch.save(stack.store._thread_model(thread))
            per_cohort.setdefault(cohort_of(thread), []).append(thread_figures(thread))
    with ReportModel.batch_write() as batch:
        for cohort, figures in per_cohort.items():
            item = ReportModel(
                cohort.contract_id,
                cohort_key(cohort),
                recruiter_id=cohort.recruiter_id,
                day=cohort.day.isoformat(),
                version=len(figures),
            )
            for metric, n in add_up(figures).items():
                setattr(item, metric.value, n)
            batch.save(item)


def report_cost(with_threads: bool, quick: bool = False) -> list[dict[str, Any]]:
    """The admin's report of each contract over each range, metered."""
    plan = _plan(with_threads, quick)
    with Stack() as stack:
        api = stack.api()
        for contract in CONTRACTS:
            provision_seats(api, contract, _recruiters(contract))
        start = time.perf_counter()
        _seed(stack, plan)
        seed_s = time.perf_counter() - start
        runs = []
        for contract, recruiters in CONTRACTS.items():
            admin = claims(_recruiters(contract)[0], "RECRUITER", "CONTRACT_ADMIN", contract=contract)
            for days in DAYS:
                first = LAST_DAY - timedelta(days=days - 1)
                event = api.event(QUERY, {"from": first.isoformat(), "to": LAST_DAY.isoformat()}, admin)
                threads_in_range = sum(1 for c, _, d in plan if c == contract and d >= first)
                timer = CallTimer().attach(stack.store)
                with stack.metered() as meter, stack.tables_touched() as touched:
                    started = time.perf_counter()
                    data = api.call(event)["inMailReport"]
                    wall = time.perf_counter() - started
                timer.detach()
                if data["total"]["inMailsSent"] != threads_in_range or len(data["rows"]) != recruiters:
                    raise AssertionError(f"{contract} {days} days: {data['total']} for {threads_in_range} threads")
                runs.append(
                    {
                        "contract": contract,
                        "recruiters": recruiters,
                        "days": days,
                        "threads": sum(1 for c, _, _ in plan if c == contract),
                        "threads_in_range": threads_in_range,
                        "requests": dict(meter.requests),
                        "items_read": dict(meter.items_read),
                        "total_requests": sum(meter.requests.values()),
                        "total_items_read": meter.total_read,
                        "tables": sorted(touched.tables),
                        "wall_ms": round(wall * 1000, 1),
                        # The handler's own work: moto's time in DynamoDB calls taken out.
                        "outside_dynamodb_ms": round((wall - timer.seconds) * 1000, 1),
                        "seed_s": round(seed_s, 1),
                    }
                )
    return runs
