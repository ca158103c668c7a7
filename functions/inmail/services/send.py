"""A recruiter sends an InMail: a first message now, and optionally its follow-up.

One candidate's send (`send_prepared`) is the same path for `sendInMail` and for each
candidate of `sendInMails` (services/bulk_send.py): its own rules and its own transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from ..domain import personalization, rules, send_windows, transitions
from ..domain.errors import Conflict, ErrorCode, LimitExceeded, Refusal, TransientDeliveryError, TransientStoreError
from ..domain.model import Candidate, Changes, Contract, Message, MessageKind, MessageStatus, Principal, Seat, Thread
from ..domain.personalization import Text, Values
from ..domain.rules import FollowUpTiming
from . import access, idempotency, refusals
from .deps import Deps
from .retries import deliver_with_retries, retry_on_conflict

SUBJECT = ("input", "subject")
BODY = ("input", "body")
FOLLOW_UP = ("input", "followUp")
FOLLOW_UP_BODY = ("input", "followUp", "body")
TEMPLATE_ID = ("input", "templateId")


@dataclass(frozen=True)
class FollowUpRequest:
    body: str | None  # None: the template's follow-up body (R92)
    timing: FollowUpTiming


def follow_up_asked(follow_up: FollowUpRequest | None) -> dict[str, object] | None:
    """The follow-up as a request's fingerprint holds it (single and bulk sends alike)."""
    if follow_up is None:
        return None
    return {"body": follow_up.body, **idempotency.timing_fields(follow_up.timing)}


@dataclass(frozen=True)
class SendRequest:
    candidate_id: str
    subject: str | None  # None: the template's (R92)
    body: str | None
    follow_up: FollowUpRequest | None = None
    idempotency_key: str | None = None
    template_id: str | None = None

    def fingerprint(self) -> str:
        asked: dict[str, object] = {
            "candidate": self.candidate_id,
            "subject": self.subject,
            "body": self.body,
            "followUp": follow_up_asked(self.follow_up),
        }
        if self.template_id is not None:  # only then: fingerprints stored before templates still match
            asked["template"] = self.template_id
        return idempotency.fingerprint(asked)


@dataclass(frozen=True)
class SendResult:
    """The thread, and the refusal that came with it (a failed first message)."""

    thread: Thread
    error: Refusal | None = None


# ---- what is sent: the texts as written, checked before any read ------------------------


class Given(NamedTuple):
    """The texts a request gave, parsed and checked as written (R45, R91), and the
    follow-up's timing (None: no follow-up asked for)."""

    subject: Text | None
    body: Text | None
    follow_up_body: Text | None
    timing: FollowUpTiming | None


class FollowUpDraft(NamedTuple):
    body: Text
    timing: FollowUpTiming


class Draft(NamedTuple):
    """What each candidate is sent: the texts as written (the template's where the request
    gave none, R92), filled in per candidate (R91), and the follow-up's timing."""

    subject: Text
    body: Text
    follow_up: FollowUpDraft | None


def given_texts(
    subject: str | None, body: str | None, follow_up: FollowUpRequest | None, template_id: str | None
) -> Given:
    """R45 and R91 on what the request gave. Without a template, subject and body (and a
    follow-up's body) are required."""
    if template_id is not None:
        rules.check_id(template_id, TEMPLATE_ID, "templateId")
    else:
        required: list[tuple[str | None, tuple[str, ...], str]] = [(subject, SUBJECT, "Subject"), (body, BODY, "Body")]
        missing = [(f, label) for v, f, label in required if v is None]
        if follow_up is not None and follow_up.body is None:
            missing.append((FOLLOW_UP_BODY, "The follow-up's body"))
        if missing:
            field, label = missing[0]
            raise Refusal(ErrorCode.INVALID_INPUT, f"{label} is required without a templateId.", field)
    fu_body = follow_up.body if follow_up is not None else None
    given = Given(
        subject=None if subject is None else personalization.subject(subject, SUBJECT),
        body=None if body is None else personalization.body(body, BODY),
        follow_up_body=None if fu_body is None else personalization.body(fu_body, FOLLOW_UP_BODY),
        timing=None if follow_up is None else follow_up.timing,
    )
    if given.timing is not None:
        rules.check_timing(given.timing, FOLLOW_UP)
    return given


def draft_of(deps: Deps, seat: Seat, given: Given, template_id: str | None) -> Draft:
    """The given texts, completed from the template (R92: fields given win)."""
    if template_id is None:
        assert given.subject is not None and given.body is not None
        fu = None
        if given.timing is not None:
            assert given.follow_up_body is not None
            fu = FollowUpDraft(given.follow_up_body, given.timing)
        return Draft(given.subject, given.body, fu)
    from . import templates  # only with a template: off the cold start's path

    template = templates.usable(deps, seat, template_id, TEMPLATE_ID)
    subject = given.subject or personalization.subject(template.subject, SUBJECT)
    body = given.body or personalization.body(template.body, BODY)
    follow_up = None
    if given.timing is not None:
        fu_body = given.follow_up_body
        if fu_body is None:
            if template.follow_up_body is None:
                raise Refusal(
                    ErrorCode.INVALID_INPUT,
                    "The template has no follow-up body: give followUp.body.",
                    FOLLOW_UP_BODY,
                )
            fu_body = personalization.body(template.follow_up_body, FOLLOW_UP_BODY)
        follow_up = FollowUpDraft(fu_body, given.timing)
    return Draft(subject, body, follow_up)


# ---- what a send is decided on ------------------------------------------------------------


class Reads:
    """What sends are decided on: the caller's seat, the contract, candidates and threads,
    each read once and shared by the sends of a batch (fetched together with `prefetch`).
    A send that lost a race calls `forget`, so its next attempt decides on fresh reads."""

    def __init__(self, deps: Deps, principal: Principal):
        self._deps = deps
        self._principal = principal
        self.forget()

    def forget(self) -> None:
        self._seat: Seat | None = None
        self._contract: Contract | None = None
        self._candidates: dict[str, Candidate | None] = {}
        self._threads: dict[str, Thread | None] = {}

    def seat(self) -> Seat:
        if self._seat is None:
            self._seat = access.acting_seat(self._deps, self._principal)
        return self._seat

    def contract(self) -> Contract:
        if self._contract is None:
            self._contract = refusals.contract_of(self._deps, self.seat())
        return self._contract

    def candidate(self, candidate_id: str) -> Candidate | None:
        if candidate_id not in self._candidates:
            self._candidates[candidate_id] = self._deps.store.get_candidate(candidate_id)
        return self._candidates[candidate_id]

    def thread(self, thread_id: str) -> Thread | None:
        if thread_id not in self._threads:
            self._threads[thread_id] = self._deps.store.get_thread(thread_id)
        return self._threads[thread_id]

    def prefetch_candidates(self, candidate_ids: list[str]) -> None:
        """One request for many candidates (absent ones are remembered as absent)."""
        found = self._deps.store.get_candidates(candidate_ids)
        self._candidates.update({cid: found.get(cid) for cid in candidate_ids})

    def prefetch_threads(self, thread_ids: list[str]) -> None:
        found = self._deps.store.get_threads(thread_ids)
        self._threads.update({tid: found.get(tid) for tid in thread_ids})


# ---- sendInMail ---------------------------------------------------------------------------


def send_inmail(deps: Deps, principal: Principal, request: SendRequest) -> SendResult:
    """R01-R03, R10-R12, R14, R40-R45, R91, R92: charge and deliver a first message (and
    charge its follow-up) in one commit, or refuse with nothing charged."""
    # An id made once, so that every attempt writes the same thread: a retry after an
    # attempt that did land finds it (see send_prepared). A keyed send's id comes from its key.
    fresh_id = deps.ids.new_id() if request.idempotency_key is None else None
    return _send(deps, principal, request, fresh_id)


def _validate(request: SendRequest) -> Given:
    """R45 and R91 on what the request gave, before anything but the caller's seat is read."""
    rules.check_id(request.candidate_id, ("input", "candidateId"), "candidateId")
    rules.check_idempotency_key(request.idempotency_key, ("input", "idempotencyKey"))
    return given_texts(request.subject, request.body, request.follow_up, request.template_id)


@retry_on_conflict
def _send(deps: Deps, principal: Principal, request: SendRequest, fresh_id: str | None) -> SendResult:
    reads = Reads(deps, principal)
    seat = reads.seat()
    given = _validate(request)
    fingerprint = request.fingerprint()
    if fresh_id is not None:
        thread_id = fresh_id
    else:
        assert request.idempotency_key is not None
        thread_id = idempotency.keyed_thread_id(seat.recruiter_id, request.idempotency_key)
        existing = reads.thread(thread_id)
        if existing is not None:
            return replay(existing, fingerprint)
    now = deps.clock.now()
    reads.contract()
    draft = draft_of(deps, seat, given, request.template_id)
    return send_prepared(deps, reads, draft, request.candidate_id, thread_id, fingerprint, now)


# ---- one candidate's send -----------------------------------------------------------------


def send_prepared(
    deps: Deps,
    reads: Reads,
    draft: Draft,
    candidate_id: str,
    thread_id: str,
    fingerprint: str,
    now: datetime,
    candidate_field: tuple[str, ...] = ("input", "candidateId"),
    before_commit: Callable[[], None] | None = None,
) -> SendResult:
    """One candidate's send, on `reads`: the recruiter (R43), the profile (R44), the
    follow-up (R14, R11, R12), the texts filled in for this candidate (R91, R45), then one
    commit that charges and counts (R01, R02, R40) or is refused at a limit (R03, R41).
    `before_commit` may refuse right before the commit (a batch's spent limit)."""
    seat = reads.seat()
    contract = reads.contract()
    refusals.refuse_restricted(seat)
    candidate = reads.candidate(candidate_id)
    if candidate is None or candidate.deleted:  # R44
        raise Refusal(ErrorCode.CANDIDATE_NOT_FOUND, "The candidate's profile cannot be found.", candidate_field)
    due = None
    if draft.follow_up is not None:
        refusals.refuse_disabled(contract, FOLLOW_UP)
        asked = rules.follow_up_due(now, draft.follow_up.timing, now, FOLLOW_UP)
        # R72: into the contract's window in the candidate's zone; the commit expects both
        # unchanged (R14, R44), so the zone kept on the message is the one used (R73).
        due = send_windows.scheduled_for(asked, now, contract.send_window, candidate.time_zone, now, FOLLOW_UP)
    values = Values.of(candidate, seat, contract)
    subject, body = draft.subject.render(values), draft.body.render(values)
    follow_up: Message | None = None
    if draft.follow_up is not None and due is not None:
        follow_up = transitions.new_follow_up(
            thread_id, draft.follow_up.body.render(values), due, None, time_zone=candidate.time_zone
        )
    thread = Thread(
        thread_id=thread_id,
        contract_id=seat.contract_id,
        recruiter_id=seat.recruiter_id,
        candidate_id=candidate_id,
        subject=subject,
        created_at=now,
        initial=Message(
            message_id=transitions.initial_message_id(thread_id),
            kind=MessageKind.INITIAL,
            body=body,
            status=MessageStatus.SENT,
            sent_at=now,
        ),
        follow_up=follow_up,
        request_hash=fingerprint,
    )
    changes = Changes()
    delivered = transitions.first_message_sent(changes, thread, contract, seat, candidate, now)
    if before_commit is not None:
        before_commit()
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
    return replay(landed, fingerprint)


def replay(existing: Thread, fingerprint: str) -> SendResult:
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
