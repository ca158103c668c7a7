"""The InMail report (R80-R83) as pure functions: what one thread adds to its cohort's
figures, the change a thread write makes to them, the recount from threads and ledger,
and the rows a report shows.

The figures are a function of each thread's state alone (`thread_figures`). So a write's
change is figures(after) - figures(before), committed with the write itself (R82: a
retried or duplicated write is refused by the thread's version condition, counter change
and all), and the figures after any history are the sum over the threads: the recount.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from .errors import ErrorCode, Refusal
from .model import (
    Changes,
    Cohort,
    CohortChange,
    FailureCode,
    LedgerEntry,
    LedgerKind,
    MessageStatus,
    ReportMetric,
    Thread,
)

MAX_RANGE_DAYS = 366  # R80: `from` and `to` at most this many days apart

Figures = Mapping[ReportMetric, int]

# R81: follow-ups failed, by the seed's failure codes, one counter each.
FAILED_METRIC: dict[FailureCode, ReportMetric] = {
    code: ReportMetric(f"failed_{code.value.lower()}") for code in FailureCode
}
CREDIT_METRICS = (ReportMetric.CREDITS_CHARGED, ReportMetric.CREDITS_REFUNDED)


def _utc_date(at: datetime) -> date:
    return (at.astimezone(UTC) if at.tzinfo is not None else at).date()


def cohort_of(thread: Thread) -> Cohort:
    """R81: the UTC day the first message was sent (the thread is created then, and
    created_at never changes), so a reply months later counts in that day's row."""
    return Cohort(thread.contract_id, thread.recruiter_id, _utc_date(thread.created_at))


def thread_figures(thread: Thread) -> dict[ReportMetric, int]:
    """What one InMail adds to its cohort's row (zeros left out)."""
    figures: Counter[ReportMetric] = Counter()
    if thread.initial.status is MessageStatus.SENT:
        figures[ReportMetric.INMAILS_SENT] = 1
    fu = thread.follow_up
    if fu is not None:
        # Each scheduling was charged (R02, R13). Only a cancelled follow-up is rescheduled,
        # so every attempt but the last was cancelled; the last ends as its status says.
        figures[ReportMetric.FOLLOW_UPS_SCHEDULED] = fu.attempt
        figures[ReportMetric.FOLLOW_UPS_CANCELLED] = fu.attempt - 1 + (fu.status is MessageStatus.CANCELLED)
        if fu.status is MessageStatus.SENT:
            figures[ReportMetric.FOLLOW_UPS_SENT] = 1
        elif fu.status is MessageStatus.DELETED:
            figures[ReportMetric.FOLLOW_UPS_DELETED] = 1
        elif fu.status is MessageStatus.FAILED:
            code = fu.failure.code if fu.failure is not None else FailureCode.TECHNICAL_ISSUE
            figures[FAILED_METRIC[code]] = 1
    if thread.replied_at is not None:
        # Once replied, the follow-up's status is final (R30): delivered before the reply,
        # or never.
        after = fu is not None and fu.status is MessageStatus.SENT
        figures[ReportMetric.REPLIES_AFTER_FOLLOW_UP if after else ReportMetric.REPLIES_BEFORE_FOLLOW_UP] = 1
    figures[ReportMetric.CREDITS_CHARGED] = thread.credits_charged
    figures[ReportMetric.CREDITS_REFUNDED] = thread.credits_refunded
    return {metric: n for metric, n in figures.items() if n}


def difference(after: Figures, before: Figures) -> dict[ReportMetric, int]:
    """after - before, metric by metric, zeros left out."""
    return {m: d for m in ReportMetric if (d := after.get(m, 0) - before.get(m, 0))}


def cohort_deltas(previous: Thread | None, stored: Thread) -> list[CohortChange]:
    """What writing `stored` over `previous` (None: a new thread) changes in the report:
    nothing for a write that moves no figure (a sweep's claim), else one cohort's deltas."""
    after = CohortChange(cohort_of(stored), thread_figures(stored))
    if previous is None:
        return [after] if after.deltas else []
    before = CohortChange(cohort_of(previous), thread_figures(previous))
    if before.cohort != after.cohort:  # never today: a thread keeps its contract, recruiter and day
        undone = CohortChange(before.cohort, difference({}, before.deltas))
        return [c for c in (undone, after) if c.deltas]
    deltas = difference(after.deltas, before.deltas)
    return [CohortChange(after.cohort, deltas)] if deltas else []


def add_cohort_change(changes: Changes, change: CohortChange) -> None:
    """One update per cohort item per transaction (DynamoDB refuses two): merge deltas."""
    for i, existing in enumerate(changes.cohorts):
        if existing.cohort == change.cohort:
            merged = {m: d for m in ReportMetric if (d := existing.deltas.get(m, 0) + change.deltas.get(m, 0))}
            if merged:
                changes.cohorts[i] = CohortChange(change.cohort, merged)
            else:
                del changes.cohorts[i]
            return
    if change.deltas:
        changes.cohorts.append(change)


def count_thread_write(changes: Changes, previous: Thread | None, stored: Thread) -> None:
    """Called by Changes.put for every thread it writes."""
    for change in cohort_deltas(previous, stored):
        add_cohort_change(changes, change)


# ---- the recount (R82) --------------------------------------------------------------------


@dataclass
class Recount:
    """The figures rebuilt from the threads (everything but credits) and the ledger (the
    credits), per cohort; and where the two sources disagree (R04 broken), named."""

    figures: dict[Cohort, dict[ReportMetric, int]] = field(default_factory=dict)
    threads: int = 0
    ledger_entries: int = 0
    disagreements: list[str] = field(default_factory=list)


def recount(threads: Iterable[Thread], ledger: Iterable[LedgerEntry]) -> Recount:
    result = Recount()
    totals: dict[Cohort, Counter[ReportMetric]] = {}
    cohort_of_thread: dict[str, Cohort] = {}
    messages: dict[str, tuple[str, int, int]] = {}  # message id -> (thread id, charges, refunds)
    for thread in threads:
        result.threads += 1
        cohort = cohort_of(thread)
        cohort_of_thread[thread.thread_id] = cohort
        figures = totals.setdefault(cohort, Counter())
        for metric, n in thread_figures(thread).items():
            if metric not in CREDIT_METRICS:
                figures[metric] += n
        for message in filter(None, (thread.initial, thread.follow_up)):
            messages[message.message_id] = (thread.thread_id, message.charges, message.refunds)
    entries: Counter[tuple[str, LedgerKind]] = Counter()
    for entry in ledger:
        result.ledger_entries += 1
        cohort_or_none = cohort_of_thread.get(entry.thread_id)
        if cohort_or_none is None or messages.get(entry.message_id, ("",))[0] != entry.thread_id:
            result.disagreements.append(f"ledger entry {entry.entry_id}: no message {entry.message_id} in its thread")
            continue
        metric = ReportMetric.CREDITS_CHARGED if entry.kind is LedgerKind.CHARGE else ReportMetric.CREDITS_REFUNDED
        totals[cohort_or_none][metric] += entry.amount
        entries[entry.message_id, entry.kind] += 1
    for message_id, (thread_id, charges, refunds) in sorted(messages.items()):
        found = (entries[message_id, LedgerKind.CHARGE], entries[message_id, LedgerKind.REFUND])
        if found != (charges, refunds):
            result.disagreements.append(
                f"thread {thread_id} message {message_id}: {charges} charges and {refunds} refunds, "
                f"the ledger has {found[0]} and {found[1]}"
            )
    result.figures = {cohort: kept for cohort, c in totals.items() if (kept := {m: n for m, n in c.items() if n})}
    return result


# ---- the report (R80, R81) ------------------------------------------------------------------


def check_range(first_day: date, last_day: date) -> None:
    """R80: UTC dates, inclusive, at most 366 days apart."""
    if last_day < first_day:
        raise Refusal(ErrorCode.INVALID_INPUT, "`to` must be on or after `from`.", ("to",))
    apart = (last_day - first_day).days
    if apart > MAX_RANGE_DAYS:
        raise Refusal(
            ErrorCode.INVALID_INPUT,
            f"`from` and `to` may be at most {MAX_RANGE_DAYS} days apart (got {apart}).",
            ("to",),
        )


@dataclass(frozen=True)
class ReportRow:
    """One recruiter's figures (R81), or the total (recruiter_id None)."""

    recruiter_id: str | None
    figures: Figures

    def __getitem__(self, metric: ReportMetric) -> int:
        return self.figures.get(metric, 0)

    @property
    def replies(self) -> int:
        return self[ReportMetric.REPLIES_BEFORE_FOLLOW_UP] + self[ReportMetric.REPLIES_AFTER_FOLLOW_UP]

    @property
    def response_rate(self) -> float:
        """replies / first messages sent; 0 with none sent."""
        sent = self[ReportMetric.INMAILS_SENT]
        return self.replies / sent if sent else 0.0

    @property
    def failed_by_code(self) -> list[tuple[FailureCode, int]]:
        """The codes follow-ups failed with, in the enum's order; codes with none left out."""
        return [(code, self[metric]) for code, metric in FAILED_METRIC.items() if self[metric]]


@dataclass(frozen=True)
class InMailReport:
    first_day: date
    last_day: date
    rows: list[ReportRow]
    total: ReportRow


def add_up(figures: Iterable[Figures]) -> dict[ReportMetric, int]:
    total: Counter[ReportMetric] = Counter()
    for f in figures:
        total.update(f)
    return {m: n for m, n in total.items() if n}


def build_report(
    first_day: date,
    last_day: date,
    cohorts: Iterable[tuple[Cohort, Figures]],
    recruiter_ids: Iterable[str],
) -> InMailReport:
    """One row per recruiter named (zeros for one with nothing in the range) and per
    recruiter with figures in it, sorted by id; the total adds them up. Cohorts outside the
    range are not counted, whoever passes them."""
    by_recruiter: dict[str, list[Figures]] = {rid: [] for rid in recruiter_ids}
    for cohort, figures in cohorts:
        if first_day <= cohort.day <= last_day:
            by_recruiter.setdefault(cohort.recruiter_id, []).append(figures)
    rows = [ReportRow(rid, add_up(by_recruiter[rid])) for rid in sorted(by_recruiter)]
    return InMailReport(first_day, last_day, rows, ReportRow(None, add_up(r.figures for r in rows)))
