"""R90: one InMail (and follow-up) to 1-25 distinct candidates, each an independent send.

Each candidate goes through the single send's path (send.send_prepared): its own rules and
its own transaction, in input order; some may go while others are refused. Decided here
(docs/rules.md says it for users):

- The request as a whole is checked first and refused whole, nothing sent: the candidate
  list (1-25 valid, distinct ids), the texts as written (R45, R91), the template (R92), and
  what refuses every candidate alike (the recruiter restricted R43, follow-ups disabled
  R14, the follow-up window R11).
- The batch is sent at one instant, the request's: one UTC day and month for the limits,
  one due time for the follow-ups.
- Limits (R03, R41) meet the batch in input order: candidates are sent while credits and
  the daily maximum last; once one is refused at a limit, every later one is refused with
  the same code without a transaction (within one batch neither comes back). Likewise,
  once the store stays busy for one candidate, the later ones are not tried.
- With an idempotency key, each candidate's thread id is derived from the key and the
  candidate, so no retry, crash or concurrent duplicate sends to anyone twice (their
  commits would put the same thread). A batch record, written before the first send,
  keeps the request's fingerprint, the texts it sends (a template changed meanwhile
  changes nothing) and the refusals it decided. A retry returns the same results: each
  sent candidate's thread, each refused candidate's refusal; candidates the first attempt
  never reached (a crash, a timeout) or could not decide (TECHNICAL_ISSUE, CONFLICT) are
  sent now.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from ..domain import personalization, rules
from ..domain.errors import Conflict, ErrorCode, Refusal, TransientStoreError
from ..domain.model import Batch, Changes, Principal, RecordedRefusal, Thread
from ..domain.rules import FollowUpTiming
from . import idempotency, refusals
from .deps import Deps
from .retries import retry_on_conflict
from .send import (
    BODY,
    FOLLOW_UP,
    FOLLOW_UP_BODY,
    SUBJECT,
    Draft,
    FollowUpDraft,
    FollowUpRequest,
    Given,
    Reads,
    SendResult,
    draft_of,
    follow_up_asked,
    given_texts,
    replay,
    send_prepared,
)

CANDIDATE_IDS = ("input", "candidateIds")
KEY = ("input", "idempotencyKey")

# Refusals that hold for every later candidate of the batch once one meets them.
LIMIT_CODES = frozenset({ErrorCode.INSUFFICIENT_CREDITS, ErrorCode.DAILY_LIMIT_REACHED})
# Outcomes that decided nothing: never recorded, a retry tries those candidates again.
UNDECIDED_CODES = frozenset({ErrorCode.TECHNICAL_ISSUE, ErrorCode.CONFLICT})
# Refusals after which the later candidates are not tried: the limits, the store busy.
STOPPING_CODES = LIMIT_CODES | {ErrorCode.TECHNICAL_ISSUE}


class BulkSendRequest(NamedTuple):
    candidate_ids: tuple[str, ...]
    subject: str | None
    body: str | None
    follow_up: FollowUpRequest | None = None
    template_id: str | None = None
    idempotency_key: str | None = None

    def fingerprint(self) -> str:
        return idempotency.fingerprint(
            {
                "candidates": list(self.candidate_ids),
                "subject": self.subject,
                "body": self.body,
                "followUp": follow_up_asked(self.follow_up),
                "template": self.template_id,
            }
        )


class CandidateResult(NamedTuple):
    """A candidate's thread (sent, or its first message failed: then with its error too),
    or the refusal that kept it from being sent."""

    candidate_id: str
    thread: Thread | None
    error: Refusal | None = None

    @property
    def decided_refusal(self) -> Refusal | None:
        """A refusal the batch decided for good (recorded for retries)."""
        error = self.error
        return error if self.thread is None and error is not None and error.code not in UNDECIDED_CODES else None


class Plan(NamedTuple):
    """What the batch sends and how each candidate's thread is named."""

    draft: Draft
    thread_ids: list[str]
    fingerprint: str
    recorded: dict[str, Refusal]
    # A keyed batch recorded before: its candidates' threads may have landed.
    continued: bool


def send_inmails(deps: Deps, principal: Principal, request: BulkSendRequest) -> list[CandidateResult]:
    """R90: each candidate's result, in input order, or a Refusal of the request as a whole."""
    reads = Reads(deps, principal)
    seat = reads.seat()
    _validate(request)
    given = given_texts(request.subject, request.body, request.follow_up, request.template_id)
    now = deps.clock.now()
    fingerprint = request.fingerprint()
    if request.idempotency_key is None:
        draft = _checked_draft(deps, reads, given, request.template_id, now)
        ids = [deps.ids.new_id() for _ in request.candidate_ids]
        return _send_each(deps, reads, request.candidate_ids, Plan(draft, ids, fingerprint, {}, continued=False), now)
    batch_id = idempotency.keyed_batch_id(seat.recruiter_id, request.idempotency_key)
    batch, fresh = _batch(deps, reads, request, given, batch_id, fingerprint, now)
    ids = [idempotency.keyed_batch_thread_id(batch_id, cid) for cid in request.candidate_ids]
    recorded = {r.candidate_id: Refusal(ErrorCode(r.code), r.message, r.field) for r in batch.refusals}
    plan = Plan(_draft_recorded(batch), ids, fingerprint, recorded, continued=not fresh)
    results = _send_each(deps, reads, request.candidate_ids, plan, now)
    _record(deps, batch, results)
    return results


def _validate(request: BulkSendRequest) -> None:
    """The candidate list and the key, before anything but the caller's seat is read."""
    count = len(request.candidate_ids)
    if not 1 <= count <= rules.BATCH_MAX:
        raise Refusal(ErrorCode.INVALID_INPUT, f"Give 1 to {rules.BATCH_MAX} candidates (got {count}).", CANDIDATE_IDS)
    seen: dict[str, int] = {}
    for i, cid in enumerate(request.candidate_ids):
        field = (*CANDIDATE_IDS, str(i))
        rules.check_id(cid, field, "candidateId")
        if cid in seen:
            raise Refusal(
                ErrorCode.INVALID_INPUT,
                f"Candidate {cid!r} is listed twice (at {seen[cid]} and {i}): each candidate once.",
                field,
            )
        seen[cid] = i
    rules.check_idempotency_key(request.idempotency_key, KEY)


def _checked_draft(deps: Deps, reads: Reads, given: Given, template_id: str | None, now: datetime) -> Draft:
    """The texts to send, and the refusals that hold for every candidate alike: those
    refuse the request, and nothing is sent."""
    draft = draft_of(deps, reads.seat(), given, template_id)
    refusals.refuse_restricted(reads.seat())  # R43
    if draft.follow_up is not None:
        refusals.refuse_disabled(reads.contract(), FOLLOW_UP)  # R14
        rules.follow_up_due(now, draft.follow_up.timing, now, FOLLOW_UP)  # R11
    return draft


# ---- the batch record (keyed batches) ----------------------------------------------------


@retry_on_conflict
def _batch(
    deps: Deps,
    reads: Reads,
    request: BulkSendRequest,
    given: Given,
    batch_id: str,
    fingerprint: str,
    now: datetime,
) -> tuple[Batch, bool]:
    """The batch this key names and whether this request started it: the one recorded
    (asked with the same fingerprint), or a new one, recorded before anything is sent."""
    existing = deps.store.get_batch(batch_id)
    if existing is None:
        draft = _checked_draft(deps, reads, given, request.template_id, now)
        seat = reads.seat()
        fu = draft.follow_up
        changes = Changes()
        started = changes.put(
            Batch(
                batch_id=batch_id,
                recruiter_id=seat.recruiter_id,
                contract_id=seat.contract_id,
                request_hash=fingerprint,
                candidate_ids=request.candidate_ids,
                subject=draft.subject.source,
                body=draft.body.source,
                follow_up_body=fu.body.source if fu else None,
                follow_up_delay_days=fu.timing.delay_days if fu else None,
                follow_up_send_at=fu.timing.send_at if fu else None,
                created_at=now,
            ),
            None,
        )
        try:
            _commit(deps, changes)
            return started, True
        except Conflict:  # a concurrent request with this key recorded it first (or decide again)
            existing = deps.store.get_batch(batch_id)
            if existing is None:
                raise
    if existing.request_hash != fingerprint:
        raise Refusal(ErrorCode.CONFLICT, "This idempotencyKey was already used for a different sendInMails.", KEY)
    return existing, False


def _draft_recorded(batch: Batch) -> Draft:
    """The texts the batch recorded (checked when they were recorded)."""
    follow_up = None
    if batch.follow_up_body is not None:
        timing = FollowUpTiming(batch.follow_up_delay_days, batch.follow_up_send_at)
        follow_up = FollowUpDraft(personalization.body(batch.follow_up_body, FOLLOW_UP_BODY), timing)
    return Draft(personalization.subject(batch.subject, SUBJECT), personalization.body(batch.body, BODY), follow_up)


def _record(deps: Deps, batch: Batch, results: list[CandidateResult]) -> None:
    """Keep the refusals decided, so a retry returns them. Best effort: should this write
    fail, the answer still says what happened; a retry then decides again only for the
    candidates refused now."""
    decided = tuple(
        RecordedRefusal(r.candidate_id, refusal.code.value, refusal.field, refusal.message)
        for r in results
        if (refusal := r.decided_refusal) is not None
    )
    if decided == batch.refusals:
        return
    changes = Changes()
    changes.put(replace(batch, refusals=decided), batch)
    # Lost to a concurrent request with this key (which recorded its own results), or busy.
    with contextlib.suppress(Conflict, Refusal):
        _commit(deps, changes)


def _commit(deps: Deps, changes: Changes) -> None:
    try:
        deps.store.commit(changes)
    except TransientStoreError as exc:
        raise refusals.store_busy() from exc


# ---- the sends ----------------------------------------------------------------------------


def _send_each(
    deps: Deps, reads: Reads, candidate_ids: tuple[str, ...], plan: Plan, now: datetime
) -> list[CandidateResult]:
    """Each candidate in input order: as it landed before (a retry), as recorded (refused
    before), or sent now. A limit met, or the store staying busy, stops the sending."""
    if plan.continued:  # what an earlier attempt sent is part of the result
        reads.prefetch_threads(plan.thread_ids)
    pairs = list(zip(candidate_ids, plan.thread_ids, strict=True))
    landed = {cid: reads.thread(tid) if plan.continued else None for cid, tid in pairs}
    reads.prefetch_candidates([cid for cid in candidate_ids if landed[cid] is None and cid not in plan.recorded])
    stopped: Refusal | None = None
    results: list[CandidateResult] = []
    for i, (cid, thread_id) in enumerate(pairs):
        fingerprint = idempotency.fingerprint({"batch": plan.fingerprint, "candidate": cid})
        thread = landed[cid]
        if thread is not None:
            results.append(_replayed(cid, thread, fingerprint))
        elif cid in plan.recorded:
            results.append(CandidateResult(cid, None, plan.recorded[cid]))
        elif stopped is not None and stopped.code is ErrorCode.TECHNICAL_ISSUE:
            results.append(CandidateResult(cid, None, stopped))  # not tried: a retry sends it
        else:
            field = (*CANDIDATE_IDS, str(i))
            result = _send_one(deps, reads, plan.draft, cid, thread_id, fingerprint, now, field, _refusing(stopped))
            if result.thread is None and result.error is not None and result.error.code in STOPPING_CODES:
                stopped = stopped or result.error
            results.append(result)
    return results


def _refusing(stopped: Refusal | None) -> Callable[[], None] | None:
    """Right before a candidate's commit: the limit the batch already met refuses it too."""
    if stopped is None:
        return None

    def refuse() -> None:
        raise stopped

    return refuse


def _replayed(candidate_id: str, thread: Thread, fingerprint: str) -> CandidateResult:
    try:
        sent = replay(thread, fingerprint)
    except Refusal as refusal:
        return CandidateResult(candidate_id, None, refusal)
    return CandidateResult(candidate_id, sent.thread, sent.error)


def _send_one(
    deps: Deps,
    reads: Reads,
    draft: Draft,
    candidate_id: str,
    thread_id: str,
    fingerprint: str,
    now: datetime,
    field: tuple[str, ...],
    before_commit: Callable[[], None] | None,
) -> CandidateResult:
    try:
        sent = _attempt(deps, reads, draft, candidate_id, thread_id, fingerprint, now, field, before_commit)
    except Refusal as refusal:
        return CandidateResult(candidate_id, None, refusal)
    except TransientStoreError:
        return CandidateResult(candidate_id, None, refusals.store_busy())
    return CandidateResult(candidate_id, sent.thread, sent.error)


@retry_on_conflict
def _attempt(
    deps: Deps,
    reads: Reads,
    draft: Draft,
    candidate_id: str,
    thread_id: str,
    fingerprint: str,
    now: datetime,
    field: tuple[str, ...],
    before_commit: Callable[[], None] | None,
) -> SendResult:
    """One candidate's send; a lost race is decided again on fresh reads."""
    try:
        return send_prepared(deps, reads, draft, candidate_id, thread_id, fingerprint, now, field, before_commit)
    except Conflict:
        reads.forget()
        raise
