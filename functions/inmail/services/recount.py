"""The recount (R82): the report's figures rebuilt from the threads and the ledger, compared
with the counters, and (asked to) the counters corrected, safely while traffic continues.

How a correction stays right under traffic, with no lock: the counters are read first (each
cohort with its version, which every update moves), then every thread and ledger entry
(strongly consistent). Every write that moves a cohort's figures moves its version in the
same transaction. So a cohort whose version is the same after the count as before was not
written meanwhile: its threads and entries were read as its counters saw them, and the
correction (added only if the version still has not moved, a conditional update) makes it
exact. A cohort written meanwhile is left as it is and reported busy: run again."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..domain import report
from ..domain.model import Cohort, CohortFigures, ReportMetric
from ..domain.ports import ReportRepair

# Differences printed in full; the rest are counted.
SHOWN_DIFFERENCES = 100


@dataclass(frozen=True)
class Difference:
    """What the recount says a cohort's counters lack (negative: have too much)."""

    cohort: Cohort
    deltas: dict[ReportMetric, int]
    version: int

    def to_dict(self) -> dict[str, Any]:
        c = self.cohort
        deltas = {m.value: d for m, d in self.deltas.items()}
        return {"contract": c.contract_id, "recruiter": c.recruiter_id, "day": c.day.isoformat(), "deltas": deltas}


@dataclass
class RecountResult:
    threads: int = 0
    ledger_entries: int = 0
    cohorts: int = 0
    differences: list[Difference] = field(default_factory=list)
    corrected: list[Cohort] = field(default_factory=list)
    busy: list[Cohort] = field(default_factory=list)
    # Threads whose charges and refunds are not their ledger entries (R04): not the report's
    # to correct; reported.
    disagreements: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        """The counters equal the recount (after the corrections made)."""
        corrected = set(self.corrected)
        return not self.busy and all(d.cohort in corrected for d in self.differences)

    def to_dict(self) -> dict[str, Any]:
        return {
            "threads": self.threads,
            "ledger_entries": self.ledger_entries,
            "cohorts": self.cohorts,
            "differing": len(self.differences),
            "corrected": len(self.corrected),
            "busy": len(self.busy),
            "exact": self.exact and not self.disagreements,
            "differences": [d.to_dict() for d in self.differences[:SHOWN_DIFFERENCES]],
            "busy_cohorts": [_cohort_dict(c) for c in self.busy[:SHOWN_DIFFERENCES]],
            "disagreements": self.disagreements[:SHOWN_DIFFERENCES],
        }


def _cohort_dict(c: Cohort) -> dict[str, str]:
    return {"contract": c.contract_id, "recruiter": c.recruiter_id, "day": c.day.isoformat()}


def recount_report(store: ReportRepair, contract_id: str | None = None, write: bool = False) -> RecountResult:
    """Compare the counters (of one contract, or all) with the recount; with `write`, add
    each difference to its cohort where no write came in between."""
    before = {c.cohort: c for c in store.all_cohorts(contract_id)}  # first: see the module's doc
    threads = (t for t in store.all_threads() if contract_id in (None, t.contract_id))
    ledger = (e for e in store.all_ledger() if contract_id in (None, e.contract_id))
    counted = report.recount(threads, ledger)
    result = RecountResult(counted.threads, counted.ledger_entries, disagreements=counted.disagreements)
    cohorts = sorted(set(before) | set(counted.figures))
    result.cohorts = len(cohorts)
    differing = []
    for cohort in cohorts:
        stored = before.get(cohort, CohortFigures(cohort, {}))
        deltas = report.difference(counted.figures.get(cohort, {}), stored.figures)
        if deltas:
            differing.append(Difference(cohort, deltas, stored.version))
    if not differing:
        return result
    # Written while counting: not a difference the recount can vouch for.
    after = {c.cohort: c.version for c in store.all_cohorts(contract_id)}
    for difference in differing:
        if after.get(difference.cohort, 0) != difference.version:
            result.busy.append(difference.cohort)
        elif not write:
            result.differences.append(difference)
        elif store.correct_cohort(difference.cohort, difference.deltas, difference.version):
            result.differences.append(difference)
            result.corrected.append(difference.cohort)
        else:
            result.busy.append(difference.cohort)
    return result
