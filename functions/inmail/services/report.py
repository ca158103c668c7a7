"""The InMail report (R80-R83): figures per recruiter for the InMails first sent in a range
of UTC days, read from the report's counters only."""

from __future__ import annotations

from datetime import date

from ..domain import report
from ..domain.model import Principal
from ..domain.report import InMailReport
from . import access
from .deps import Deps


def inmail_report(deps: Deps, principal: Principal, first_day: date, last_day: date) -> InMailReport:
    """R80: a contract admin gets one row per recruiter of the contract and the total; a
    recruiter their own row (the total is that row). Candidates and operators have no seat:
    FORBIDDEN. R83: a seat, the contract's cohort counters of those days and, for an admin,
    its recruiters' ids; never a thread."""
    report.check_range(first_day, last_day)
    seat = access.acting_seat(deps, principal)
    if access.is_admin(principal, seat):
        cohorts = deps.store.report_cohorts(seat.contract_id, first_day, last_day)
        recruiters = deps.store.contract_recruiter_ids(seat.contract_id)
    else:
        cohorts = deps.store.report_cohorts(seat.contract_id, first_day, last_day, seat.recruiter_id)
        cohorts = [c for c in cohorts if c.cohort.recruiter_id == seat.recruiter_id]
        recruiters = [seat.recruiter_id]
    return report.build_report(first_day, last_day, ((c.cohort, c.figures) for c in cohorts), recruiters)
