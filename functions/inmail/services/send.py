"""A recruiter sends an InMail: a first message now, and optionally its follow-up."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain import rules, send_windows, transitions
from ..domain.errors import Conflict, ErrorCode, LimitExceeded, Refusal, TransientDeliveryError, TransientStoreError
from ..domain.model import Changes, Message, MessageKind, MessageStatus, Principal, Thread
from ..domain.rules import FollowUpTiming
from . import access, idempotency, refusals
from .deps import Deps
from .retries import deliver_with_retries, retry_on_conflict


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

    def fingerprint(self) -> str:
        fu = self.follow_up
        return idempotency.fingerprint(
            {
                "candidate": self.candidate_id,
                "subject": self.subject,
                "body": self.body,
                "followUp": None if fu is None else {"body": fu.body, **idempotency.timing_fields(fu.timing)},
            }
        )


@dataclass(frozen=True)
class SendResult:
    """The thread, and the refusal that came with it (a failed first message)."""

    thread: Thread
    error: Refusal | None = None


def send_inmail(deps: Deps, principal: Principal, request: SendRequest) -> SendResult:
    """R01-R03, R10-R12, R14, R40-R45: charge and deliver a first message (and charge
    its follow-up) in one commit, or refuse with nothing charged."""
    # An id made once, so that every attempt writes the same thread: a retry after an
    # attempt that did land finds it (see _send). A keyed send's id comes from its key.
    fresh_id = deps.ids.new_id() if request.idempotency_key is None else None
    return _send(deps, principal, request, fresh_id)


def _validate(request: SendRequest) -> None:
    """R45, before anything but the caller's seat is read."""
    rules.check_id(request.candidate_id, ("input", "candidateId"), "candidateId")
    rules.check_subject(request.subject, ("input", "subject"))
    rules.check_body(request.body, ("input", "body"))
    rules.check_idempotency_key(request.idempotency_key, ("input", "idempotencyKey"))
    if request.follow_up is not None:
        rules.check_body(request.follow_up.body, ("input", "followUp", "body"))
        rules.check_timing(request.follow_up.timing, ("input", "followUp"))


@retry_on_conflict
def _send(deps: Deps, principal: Principal, request: SendRequest, fresh_id: str | None) -> SendResult:
    seat = access.acting_seat(deps, principal)
    _validate(request)
    fingerprint = request.fingerprint()
    if fresh_id is not None:
        thread_id = fresh_id
    else:
        assert request.idempotency_key is not None
        thread_id = idempotency.keyed_thread_id(seat.recruiter_id, request.idempotency_key)
        existing = deps.store.get_thread(thread_id)
        if existing is not None:
            return _replay(existing, fingerprint)
    now = deps.clock.now()
    contract = refusals.contract_of(deps, seat)
    refusals.refuse_restricted(seat)
    candidate = deps.store.get_candidate(request.candidate_id)
    if candidate is None or candidate.deleted:  # R44
        raise Refusal(
            ErrorCode.CANDIDATE_NOT_FOUND, "The candidate's profile cannot be found.", ("input", "candidateId")
        )
    follow_up: Message | None = None
    if request.follow_up is not None:
        refusals.refuse_disabled(contract, ("input", "followUp"))
        asked = rules.follow_up_due(now, request.follow_up.timing, now, ("input", "followUp"))
        # R72: into the contract's window in the candidate's zone; the commit expects both
        # unchanged (R14, R44), so the zone kept on the message is the one used (R73).
        due = send_windows.scheduled_for(
            asked, now, contract.send_window, candidate.time_zone, now, ("input", "followUp")
        )
        follow_up = transitions.new_follow_up(
            thread_id, request.follow_up.body, due, None, time_zone=candidate.time_zone
        )
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
        request_hash=fingerprint,
    )
    changes = Changes()
    delivered = transitions.first_message_sent(changes, thread, contract, seat, candidate, now)
    try:
        deliver_with_retries(deps, changes)
    except LimitExceeded as exc:
        raise refusals.over_limit(exc) from exc
    except TransientDeliveryError:
        return _record_failed_first_message(deps, thread, fingerprint)
    except Conflict:
        # An earlier attempt whose answer was lost may have landed: that thread is the
        # result. Otherwise something it was decided on moved: decide again.
        return _landed_or_conflict(deps, thread_id, fingerprint)
    return SendResult(delivered)


def _landed_or_conflict(deps: Deps, thread_id: str, fingerprint: str) -> SendResult:
    landed = deps.store.get_thread(thread_id)
    if landed is None:
        raise Conflict("thread")
    return _replay(landed, fingerprint)


def _replay(existing: Thread, fingerprint: str) -> SendResult:
    """A retry with the same idempotency key: the first result, nothing charged again."""
    if existing.request_hash != fingerprint:
        raise Refusal(
            ErrorCode.CONFLICT,
            "This idempotencyKey was already used for a different InMail.",
            ("input", "idempotencyKey"),
        )
    if existing.initial.status is MessageStatus.FAILED:
        return SendResult(existing, refusals.technical_issue())
    return SendResult(existing)


def _record_failed_first_message(deps: Deps, thread: Thread, fingerprint: str) -> SendResult:
    """R26 for a first message: recorded FAILED with its charge and refund (and its
    follow-up's), so the recruiter sees what happened and nothing is owed."""
    changes = Changes()
    failed = transitions.first_message_failed(changes, thread, deps.clock.now())
    try:
        deps.store.commit(changes)
    except Conflict:
        return _landed_or_conflict(deps, thread.thread_id, fingerprint)
    except TransientStoreError as exc:
        raise refusals.technical_issue() from exc
    return SendResult(failed, refusals.technical_issue())
