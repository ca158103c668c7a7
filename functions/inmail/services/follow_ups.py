"""A recruiter's follow-up of an InMail already sent: schedule it, cancel it, reschedule it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..domain import personalization, rules, send_windows, transitions
from ..domain.errors import ErrorCode, LimitExceeded, Refusal
from ..domain.model import Candidate, Changes, Contract, Principal, Seat, Thread
from ..domain.rules import FollowUpTiming
from . import access, idempotency, refusals
from .deps import Deps
from .retries import commit_or_technical_issue, retry_on_conflict


@dataclass(frozen=True)
class ScheduleRequest:
    thread_id: str
    body: str
    timing: FollowUpTiming
    idempotency_key: str | None = None

    def fingerprint(self) -> str:
        return idempotency.fingerprint(
            {"thread": self.thread_id, "body": self.body, **idempotency.timing_fields(self.timing)}
        )


@dataclass(frozen=True)
class RescheduleRequest:
    thread_id: str
    timing: FollowUpTiming


def schedule_follow_up(deps: Deps, principal: Principal, request: ScheduleRequest) -> Thread:
    """R02, R10-R12, R14: the follow-up of a thread that has none, charged now."""
    seat = access.acting_seat(deps, principal)
    rules.check_id(request.thread_id, ("input", "threadId"), "threadId")
    personalization.body(request.body, ("input", "body"))  # R45 and R91 as written
    rules.check_idempotency_key(request.idempotency_key, ("input", "idempotencyKey"))
    rules.check_timing(request.timing, ("input",))
    return _schedule(deps, principal, seat, request)


@retry_on_conflict
def _schedule(deps: Deps, principal: Principal, seat: Seat, request: ScheduleRequest) -> Thread:
    now = deps.clock.now()
    fingerprint = request.fingerprint()
    thread = access.own_thread(deps, seat, request.thread_id)
    fu = thread.follow_up
    # A thread has one follow-up, so its key is per thread.
    if request.idempotency_key is not None and fu is not None and fu.idempotency_key == request.idempotency_key:
        if fu.request_hash is not None and fu.request_hash != fingerprint:
            raise Refusal(
                ErrorCode.CONFLICT,
                "This idempotencyKey was already used for a different follow-up.",
                ("input", "idempotencyKey"),
            )
        return thread  # a retry: the first result, nothing charged again
    transitions.require_schedulable(thread)
    current_seat, contract, when = _chargeable(deps, principal, thread, request.timing, now)
    body = _filled_in(request.body, when.candidate, thread, current_seat, contract)
    changes = Changes()
    stored = transitions.follow_up_scheduled(
        changes,
        thread,
        contract,
        current_seat,
        body,
        when.due,
        request.idempotency_key,
        now,
        fingerprint,
        time_zone=when.time_zone,
    )
    _commit_charge(deps, changes)
    return stored


def reschedule_follow_up(deps: Deps, principal: Principal, request: RescheduleRequest) -> Thread:
    """R13: schedule again a cancelled follow-up (one cancelled for the daily maximum, R25,
    among them); charged again, same window."""
    seat = access.acting_seat(deps, principal)
    rules.check_id(request.thread_id, ("input", "threadId"), "threadId")
    rules.check_timing(request.timing, ("input",))
    return _reschedule(deps, principal, seat, request)


@retry_on_conflict
def _reschedule(deps: Deps, principal: Principal, seat: Seat, request: RescheduleRequest) -> Thread:
    now = deps.clock.now()
    thread = access.own_thread(deps, seat, request.thread_id)
    transitions.require_reschedulable(thread)
    current_seat, contract, when = _chargeable(deps, principal, thread, request.timing, now)
    changes = Changes()
    stored = transitions.follow_up_rescheduled(
        changes, thread, contract, current_seat, when.due, now, time_zone=when.time_zone
    )
    _commit_charge(deps, changes)
    return stored


def cancel_follow_up(deps: Deps, principal: Principal, thread_id: str) -> Thread:
    """R13: cancel a scheduled follow-up; its credit is refunded."""
    seat = access.acting_seat(deps, principal)
    rules.check_id(thread_id, ("input", "threadId"), "threadId")
    return _cancel(deps, seat, thread_id)


@retry_on_conflict
def _cancel(deps: Deps, seat: Seat, thread_id: str) -> Thread:
    thread = access.own_thread(deps, seat, thread_id)
    changes = Changes()
    stored = transitions.follow_up_cancelled(changes, thread, deps.clock.now())
    commit_or_technical_issue(deps, changes)
    return stored


@dataclass(frozen=True)
class _When:
    """When a follow-up falls due, and the candidate's zone that was decided in (R73)."""

    due: datetime
    time_zone: str | None
    candidate: Candidate | None  # read for its zone; its names fill in the body (R91)


def _chargeable(
    deps: Deps, principal: Principal, thread: Thread, timing: FollowUpTiming, now: datetime
) -> tuple[Seat, Contract, _When]:
    """What scheduling and rescheduling both check before charging, in this order: the
    recruiter (R43), the contract (R14), the window (R11, R12), then the contract's send
    window in the candidate's zone (R72). Reads the seat afresh, so a retry after a lost
    race sees a restriction made meanwhile."""
    seat = access.acting_seat(deps, principal)
    contract = refusals.contract_of(deps, seat)
    refusals.refuse_restricted(seat)
    refusals.refuse_disabled(contract, ("input",))
    first_sent = thread.initial.sent_at or thread.created_at
    asked = rules.follow_up_due(first_sent, timing, now, ("input",))
    # A profile deleted since is R24's at delivery; its zone still places the follow-up.
    candidate = deps.store.get_candidate(thread.candidate_id)
    time_zone = candidate.time_zone if candidate is not None else None
    due = send_windows.scheduled_for(asked, first_sent, contract.send_window, time_zone, now, ("input",))
    return seat, contract, _When(due, time_zone, candidate)


def _filled_in(body: str, candidate: Candidate | None, thread: Thread, seat: Seat, contract: Contract) -> str:
    """R91: the body for the thread's candidate (the profile R72 read for its zone; a
    profile deleted since keeps its names)."""
    text = personalization.body(body, ("input", "body"))
    if not text.has_placeholders:
        return text.render(personalization.Values(None, None, None, None, None))
    if candidate is None:
        candidate = Candidate(thread.candidate_id, "")
    return text.render(personalization.Values.of(candidate, seat, contract))


def _commit_charge(deps: Deps, changes: Changes) -> None:
    try:
        commit_or_technical_issue(deps, changes)
    except LimitExceeded as exc:
        raise refusals.over_limit(exc) from exc
