"""Operator use cases: provisioning (contracts, seats), the profile service (candidates),
trust and safety (restricting recruiters)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from ..domain import rules, send_windows
from ..domain.errors import Conflict, ErrorCode, Refusal
from ..domain.model import Candidate, Changes, Contract, Principal, Seat
from . import access
from .deps import Deps
from .retries import commit_or_technical_issue, retry_on_conflict

MAX_MONTHLY_CREDITS = 1_000_000
MAX_DAILY_LIMIT = 10_000


@dataclass(frozen=True)
class NewContract:
    contract_id: str
    name: str
    monthly_credits: int
    max_daily_limit: int
    follow_ups_enabled: bool = True


def create_contract(deps: Deps, principal: Principal, new: NewContract) -> Contract:
    access.require_operator(principal)
    rules.check_id(new.contract_id, ("input", "id"), "id")
    rules.check_text(new.name, ("input", "name"), 1, rules.NAME_MAX, "Name")
    rules.check_range(new.monthly_credits, ("input", "monthlyCredits"), 0, MAX_MONTHLY_CREDITS, "monthlyCredits")
    rules.check_range(new.max_daily_limit, ("input", "maxDailyLimit"), 1, MAX_DAILY_LIMIT, "maxDailyLimit")
    contract = Contract(
        contract_id=new.contract_id,
        name=new.name,
        monthly_credits=new.monthly_credits,
        max_daily_limit=new.max_daily_limit,
        follow_ups_enabled=new.follow_ups_enabled,
        follow_ups_changed_by=principal.subject,
        follow_ups_changed_at=deps.clock.now(),
    )
    changes = Changes()
    stored = changes.put(contract, None)
    try:
        commit_or_technical_issue(deps, changes)
    except Conflict as exc:
        raise Refusal(ErrorCode.CONFLICT, "A contract with this id exists.", ("input", "id")) from exc
    return stored


@dataclass(frozen=True)
class NewSeat:
    contract_id: str
    recruiter_id: str
    admin: bool = False
    daily_limit: int | None = None
    name: str | None = None  # the recruiter's display name, for {recruiterName}


def add_seat(deps: Deps, principal: Principal, new: NewSeat) -> Seat:
    """A recruiter holds a seat on exactly one contract: a second seat is a CONFLICT."""
    access.require_operator(principal)
    rules.check_id(new.contract_id, ("input", "contractId"), "contractId")
    rules.check_id(new.recruiter_id, ("input", "recruiterId"), "recruiterId")
    if new.name is not None:
        rules.check_text(new.name, ("input", "name"), 1, rules.NAME_MAX, "Name")
    contract = deps.store.get_contract(new.contract_id)
    if contract is None:
        raise Refusal(ErrorCode.NOT_FOUND, "No such contract.", ("input", "contractId"))
    daily_limit = contract.max_daily_limit if new.daily_limit is None else new.daily_limit
    rules.check_range(daily_limit, ("input", "dailyLimit"), 1, contract.max_daily_limit, "dailyLimit")
    seat = Seat(
        recruiter_id=new.recruiter_id,
        contract_id=new.contract_id,
        daily_limit=daily_limit,
        admin=new.admin,
        name=new.name,
    )
    changes = Changes()
    stored = changes.put(seat, None)
    try:
        commit_or_technical_issue(deps, changes)
    except Conflict as exc:
        raise Refusal(ErrorCode.CONFLICT, "This recruiter already has a seat.", ("input", "recruiterId")) from exc
    return stored


class Keep(Enum):
    """An optional profile field the request left out: the stored value stays."""

    KEEP = "keep"


KEEP = Keep.KEEP
ProfileField = str | None | Keep


def upsert_candidate(
    deps: Deps,
    principal: Principal,
    candidate_id: str,
    name: str,
    deleted: bool,
    *,
    first_name: ProfileField = KEEP,
    last_name: ProfileField = KEEP,
    time_zone: ProfileField = KEEP,
) -> Candidate:
    """Register or update a profile. First and last name and the time zone (R70) are kept
    when left out and cleared when given as null, so marking a profile deleted does not
    erase them. A time zone changed later moves no follow-up already scheduled (R73)."""
    access.require_operator(principal)
    rules.check_id(candidate_id, ("input", "candidateId"), "candidateId")
    rules.check_text(name, ("input", "name"), 1, rules.NAME_MAX, "Name")
    for value, field, label in ((first_name, "firstName", "First name"), (last_name, "lastName", "Last name")):
        if isinstance(value, str):
            rules.check_text(value, ("input", field), 1, rules.NAME_MAX, label)
    if isinstance(time_zone, str):
        send_windows.check_time_zone(time_zone, ("input", "timeZone"))
    return _upsert_candidate(deps, Candidate(candidate_id, name, deleted), first_name, last_name, time_zone)


@retry_on_conflict
def _upsert_candidate(
    deps: Deps, given: Candidate, first_name: ProfileField, last_name: ProfileField, time_zone: ProfileField
) -> Candidate:
    previous = deps.store.get_candidate(given.candidate_id)
    candidate = replace(
        given,
        first_name=_kept(first_name, previous.first_name if previous else None),
        last_name=_kept(last_name, previous.last_name if previous else None),
        time_zone=_kept(time_zone, previous.time_zone if previous else None),
    )
    changes = Changes()
    stored = changes.put(candidate, previous)
    commit_or_technical_issue(deps, changes)
    return stored


def _kept(value: ProfileField, stored: str | None) -> str | None:
    return stored if isinstance(value, Keep) else value


def set_recruiter_restricted(deps: Deps, principal: Principal, recruiter_id: str, restricted: bool) -> Seat:
    access.require_operator(principal)
    rules.check_id(recruiter_id, ("input", "recruiterId"), "recruiterId")
    return _set_restricted(deps, recruiter_id, restricted)


@retry_on_conflict
def _set_restricted(deps: Deps, recruiter_id: str, restricted: bool) -> Seat:
    seat = deps.store.get_seat(recruiter_id)
    if seat is None:
        raise Refusal(ErrorCode.NOT_FOUND, "No such recruiter.", ("input", "recruiterId"))
    changes = Changes()
    stored = changes.put(replace(seat, restricted=restricted), seat)
    commit_or_technical_issue(deps, changes)
    return stored
