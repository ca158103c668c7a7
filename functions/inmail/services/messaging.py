"""Use cases of recruiters and candidates: send, schedule, reschedule, cancel, reply,
and the settings a recruiter or contract admin changes."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from ..domain import rules, transitions
from ..domain.errors import (
    Conflict,
    ErrorCode,
    LimitExceeded,
    Refusal,
    TransientDeliveryError,
    TransientStoreError,
)
from ..domain.model import (
    Changes,
    Contract,
    Message,
    MessageKind,
    MessageStatus,
    Principal,
    Seat,
    Thread,
)
from ..domain.rules import FollowUpTiming
from . import access
from .deps import Deps, commit_or_technical_issue, deliver_with_retries, retry_on_conflict

_IDEMPOTENCY_NAMESPACE = uuid.UUID("5b0e3f53-6a0c-4b54-9d5e-0d7c1c2f6a11")


@dataclass(frozen=True)
class FollowUpRequest:
    body: str
    timing: FollowUpTiming


@dataclass(frozen=True)
class SendRequest:
    candidate_id: str
    subject: str
    body: str
    follow_up: FollowUpRequest | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class SendResult:
    """The thread, and the refusal that came with it (a failed first message)."""

    thread: Thread
    error: Refusal | None = None


def limit_refusal(exc: LimitExceeded) -> Refusal:
    if exc.key.startswith("credits#"):
        return Refusal(ErrorCode.INSUFFICIENT_CREDITS, "No InMail credits left on the contract this month.")
    return Refusal(ErrorCode.DAILY_LIMIT_REACHED, "You reached your daily maximum of InMail messages.")


def _contract_of(deps: Deps, seat: Seat) -> Contract:
    contract = deps.store.get_contract(seat.contract_id)
    if contract is None:
        raise Refusal(ErrorCode.NOT_FOUND, "The seat's contract does not exist.")
    return contract


def _refuse_restricted(seat: Seat) -> None:
    if seat.restricted:  # R43
        raise Refusal(ErrorCode.RECRUITER_RESTRICTED, "Your account is restricted from sending InMail.")


def _refuse_disabled(contract: Contract, field: tuple[str, ...]) -> None:
    if not contract.follow_ups_enabled:  # R14
        raise Refusal(
            ErrorCode.FOLLOW_UPS_DISABLED,
            "Automated follow-ups are disabled on your contract. Send the InMail without one.",
            field,
        )


def _request_hash(request: SendRequest) -> str:
    fu = request.follow_up
    payload = {
        "candidate": request.candidate_id,
        "subject": request.subject,
        "body": request.body,
        "followUp": None
        if fu is None
        else {
            "body": fu.body,
            "delayDays": fu.timing.delay_days,
            "sendAt": fu.timing.send_at.isoformat() if fu.timing.send_at else None,
        },
    }
    return _digest(payload)


def _validate_send(request: SendRequest) -> None:
    """R45, before anything is read or written."""
    rules.check_id(request.candidate_id, ("input", "candidateId"), "candidateId")
    rules.check_subject(request.subject, ("input", "subject"))
    rules.check_body(request.body, ("input", "body"))
    rules.check_idempotency_key(request.idempotency_key, ("input", "idempotencyKey"))
    if request.follow_up is not None:
        rules.check_body(request.follow_up.body, ("input", "followUp", "body"))
        rules.check_timing(request.follow_up.timing, ("input", "followUp"))


def _replay(existing: Thread, request_hash: str) -> SendResult:
    """A retry with the same idempotency key: the first result, nothing charged again."""
    if existing.request_hash != request_hash:
        raise Refusal(
            ErrorCode.CONFLICT,
            "This idempotencyKey was already used for a different InMail.",
            ("input", "idempotencyKey"),
        )
    if existing.initial.status is MessageStatus.FAILED:
        return SendResult(existing, _technical_issue())
    return SendResult(existing)


def _technical_issue() -> Refusal:
    return Refusal(
        ErrorCode.TECHNICAL_ISSUE,
        "The message cannot be delivered to the candidate due to a technical issue. "
        "The credit has been refunded to you.",
    )


def send_inmail(deps: Deps, principal: Principal, request: SendRequest) -> SendResult:
    """R01-R03, R10-R12, R14, R40-R45: charge and deliver a first message (and charge
    its follow-up) in one commit, or refuse with nothing charged."""
    seat = access.acting_seat(deps, principal)
    _validate_send(request)
    request_hash = _request_hash(request)
    if request.idempotency_key is not None:
        thread_id = str(uuid.uuid5(_IDEMPOTENCY_NAMESPACE, f"{seat.recruiter_id}\n{request.idempotency_key}"))
    else:
        thread_id = deps.ids.new_id()
    attempted = False

    def attempt() -> SendResult:
        nonlocal attempted, seat
        if attempted or request.idempotency_key is not None:
            existing = deps.store.get_thread(thread_id)
            if existing is not None:
                return _replay(existing, request_hash)
            seat = access.acting_seat(deps, principal)
        attempted = True
        now = deps.clock.now()
        contract = _contract_of(deps, seat)
        _refuse_restricted(seat)
        candidate = deps.store.get_candidate(request.candidate_id)
        if candidate is None or candidate.deleted:  # R44
            raise Refusal(
                ErrorCode.CANDIDATE_NOT_FOUND,
                "The candidate's profile cannot be found.",
                ("input", "candidateId"),
            )
        follow_up: Message | None = None
        if request.follow_up is not None:
            _refuse_disabled(contract, ("input", "followUp"))
            due = rules.follow_up_due(now, request.follow_up.timing, now, ("input", "followUp"))
            follow_up = transitions.new_follow_up(thread_id, request.follow_up.body, due, None)
        thread = Thread(
            thread_id=thread_id,
            contract_id=seat.contract_id,
            recruiter_id=seat.recruiter_id,
            candidate_id=request.candidate_id,
            subject=request.subject,
            created_at=now,
            initial=Message(
                message_id=transitions.initial_message_id(thread_id),
                kind=MessageKind.INITIAL,
                body=request.body,
                status=MessageStatus.SENT,
                sent_at=now,
            ),
            follow_up=follow_up,
            request_hash=request_hash,
        )
        changes = Changes()
        delivered = transitions.send_first_message(changes, thread, contract, seat, candidate.version, now)
        try:
            deliver_with_retries(deps, changes)
        except LimitExceeded as exc:
            raise limit_refusal(exc) from exc
        except TransientDeliveryError:
            return _record_failed_first_message(deps, thread, request_hash)
        return SendResult(delivered)

    return retry_on_conflict(attempt)


def _record_failed_first_message(deps: Deps, thread: Thread, request_hash: str) -> SendResult:
    failed_changes = Changes()
    failed = transitions.fail_first_message(failed_changes, thread, deps.clock.now())
    try:
        deps.store.commit(failed_changes)
    except Conflict:
        # An earlier attempt did land after all: that thread is the result.
        existing = deps.store.get_thread(thread.thread_id)
        if existing is None:
            raise
        return _replay(existing, request_hash)
    except TransientStoreError as exc:
        raise _technical_issue() from exc
    return SendResult(failed, _technical_issue())


@dataclass(frozen=True)
class ScheduleRequest:
    thread_id: str
    body: str
    timing: FollowUpTiming
    idempotency_key: str | None = None


def schedule_follow_up(deps: Deps, principal: Principal, request: ScheduleRequest) -> Thread:
    """R02, R10-R12, R14: the follow-up of a thread that has none, charged now."""
    seat = access.acting_seat(deps, principal)
    rules.check_id(request.thread_id, ("input", "threadId"), "threadId")
    rules.check_body(request.body, ("input", "body"))
    rules.check_idempotency_key(request.idempotency_key, ("input", "idempotencyKey"))
    rules.check_timing(request.timing, ("input",))

    request_hash = _schedule_hash(request)

    def attempt() -> Thread:
        now = deps.clock.now()
        thread = access.own_thread(deps, seat, request.thread_id)
        fu = thread.follow_up
        if request.idempotency_key is not None and fu is not None and fu.idempotency_key == request.idempotency_key:
            if fu.request_hash is not None and fu.request_hash != request_hash:
                raise Refusal(
                    ErrorCode.CONFLICT,
                    "This idempotencyKey was already used for a different follow-up.",
                    ("input", "idempotencyKey"),
                )
            return thread  # a retry: the first result, nothing charged again
        transitions.require_schedulable(thread)
        current_seat, contract, due = _follow_up_charge(deps, principal, thread, request.timing, now)
        changes = Changes()
        stored = transitions.schedule_follow_up(
            changes, thread, contract, current_seat, request.body, due, request.idempotency_key, now, request_hash
        )
        _commit_charge(deps, changes)
        return stored

    return retry_on_conflict(attempt)


def _schedule_hash(request: ScheduleRequest) -> str:
    payload = {
        "thread": request.thread_id,
        "body": request.body,
        "delayDays": request.timing.delay_days,
        "sendAt": request.timing.send_at.isoformat() if request.timing.send_at else None,
    }
    return _digest(payload)


def _digest(payload: Mapping[str, object]) -> str:
    """What an idempotency key's request asked for, to tell a retry from a reuse."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _follow_up_charge(
    deps: Deps, principal: Principal, thread: Thread, timing: FollowUpTiming, now: datetime
) -> tuple[Seat, Contract, datetime]:
    """What scheduling and rescheduling both check before charging, in this order: the
    recruiter (R43), the contract (R14), the window (R11, R12). Reads the seat afresh, so a
    retry after a lost race sees a restriction made meanwhile."""
    seat = access.acting_seat(deps, principal)
    contract = _contract_of(deps, seat)
    _refuse_restricted(seat)
    _refuse_disabled(contract, ("input",))
    first_sent = thread.initial.sent_at or thread.created_at
    return seat, contract, rules.follow_up_due(first_sent, timing, now, ("input",))


def _commit_charge(deps: Deps, changes: Changes) -> None:
    try:
        commit_or_technical_issue(deps, changes)
    except LimitExceeded as exc:
        raise limit_refusal(exc) from exc


@dataclass(frozen=True)
class RescheduleRequest:
    thread_id: str
    timing: FollowUpTiming


def reschedule_follow_up(deps: Deps, principal: Principal, request: RescheduleRequest) -> Thread:
    """R13, R29: schedule again a cancelled follow-up; charged again, same window."""
    seat = access.acting_seat(deps, principal)
    rules.check_id(request.thread_id, ("input", "threadId"), "threadId")
    rules.check_timing(request.timing, ("input",))

    def attempt() -> Thread:
        now = deps.clock.now()
        thread = access.own_thread(deps, seat, request.thread_id)
        transitions.require_reschedulable(thread)
        current_seat, contract, due = _follow_up_charge(deps, principal, thread, request.timing, now)
        changes = Changes()
        stored = transitions.reschedule_follow_up(changes, thread, contract, current_seat, due, now)
        _commit_charge(deps, changes)
        return stored

    return retry_on_conflict(attempt)


def cancel_follow_up(deps: Deps, principal: Principal, thread_id: str) -> Thread:
    """R13: cancel a scheduled follow-up; its credit is refunded."""
    seat = access.acting_seat(deps, principal)
    rules.check_id(thread_id, ("input", "threadId"), "threadId")

    def attempt() -> Thread:
        thread = access.own_thread(deps, seat, thread_id)
        changes = Changes()
        stored = transitions.cancel_follow_up(changes, thread, deps.clock.now())
        commit_or_technical_issue(deps, changes)
        return stored

    return retry_on_conflict(attempt)


def reply_to_inmail(deps: Deps, principal: Principal, thread_id: str, body: str) -> Thread:
    """R05-R08: the candidate replies in a thread sent to them."""
    access.require_candidate(principal)
    rules.check_id(thread_id, ("input", "threadId"), "threadId")
    rules.check_body(body, ("input", "body"))

    def attempt() -> Thread:
        thread = deps.store.get_thread(thread_id)
        if thread is None or not access.candidate_may_see(principal, thread):
            raise Refusal(ErrorCode.NOT_FOUND, "No such thread.", ("input", "threadId"))
        changes = Changes()
        stored = transitions.reply(changes, thread, body, deps.clock.now())
        commit_or_technical_issue(deps, changes)
        return stored

    return retry_on_conflict(attempt)


def set_follow_ups_enabled(deps: Deps, principal: Principal, enabled: bool) -> Contract:
    """R50: contract admins only; recorded with who and when. R51: nothing else changes."""
    seat = access.require_admin(deps, principal)

    def attempt() -> Contract:
        contract = _contract_of(deps, seat)
        updated = replace(
            contract,
            follow_ups_enabled=enabled,
            follow_ups_changed_by=principal.subject,
            follow_ups_changed_at=deps.clock.now(),
            version=contract.version + 1,
        )
        commit_or_technical_issue(deps, Changes(contracts=[(updated, contract.version)]))
        return updated

    return retry_on_conflict(attempt)


def set_daily_limit(deps: Deps, principal: Principal, daily_limit: int) -> Seat:
    """R42: a recruiter sets their own daily maximum, 1 up to the contract's cap."""
    access.acting_seat(deps, principal)

    def attempt() -> Seat:
        seat = access.acting_seat(deps, principal)
        contract = _contract_of(deps, seat)
        rules.check_range(daily_limit, ("input", "dailyLimit"), 1, contract.max_daily_limit, "dailyLimit")
        updated = replace(seat, daily_limit=daily_limit, version=seat.version + 1)
        commit_or_technical_issue(deps, Changes(seats=[(updated, seat.version)]))
        return updated

    return retry_on_conflict(attempt)
