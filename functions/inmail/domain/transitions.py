"""State transitions of a thread and the writes that pay for them, as pure functions.

Each is named after the thread it returns (`follow_up_cancelled`...) and adds to a
`Changes` what must be committed with it in one transaction: the thread (conditioned on
the version it leaves), ledger entries with deterministic ids (R04), credit and
daily-send counters with their limits, and the entities that must not have changed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from .errors import ErrorCode, Refusal
from .model import (
    Candidate,
    Changes,
    Contract,
    CounterChange,
    CounterKind,
    Decision,
    Failure,
    FailureCode,
    LedgerEntry,
    LedgerKind,
    Message,
    MessageKind,
    MessageStatus,
    Seat,
    Thread,
)
from .rules import credits_key, next_utc_midnight, reply_refunds, sends_key

SEND_COUNTER_TTL = timedelta(days=3)


def initial_message_id(thread_id: str) -> str:
    return f"{thread_id}-i"


def follow_up_message_id(thread_id: str) -> str:
    return f"{thread_id}-f"


def ledger_entry(thread: Thread, message: Message, kind: LedgerKind, at: datetime, reason: str) -> LedgerEntry:
    return LedgerEntry(
        entry_id=f"{message.message_id}:{message.attempt}:{kind.value}",
        kind=kind,
        amount=1,
        contract_id=thread.contract_id,
        recruiter_id=thread.recruiter_id,
        thread_id=thread.thread_id,
        message_id=message.message_id,
        reason=reason,
        at=at,
    )


def add_counter(changes: Changes, change: CounterChange) -> None:
    """One update per counter item per transaction (DynamoDB refuses two): merge deltas."""
    for i, existing in enumerate(changes.counters):
        if existing.key == change.key:
            limit = existing.limit if change.limit is None else change.limit
            changes.counters[i] = replace(existing, delta=existing.delta + change.delta, limit=limit)
            return
    changes.counters.append(change)


def charge(changes: Changes, thread: Thread, message: Message, contract: Contract, at: datetime, reason: str) -> None:
    """R01/R02: one credit from this month's balance, refused past the allotment (R03)."""
    changes.ledger.append(ledger_entry(thread, message, LedgerKind.CHARGE, at, reason))
    add_counter(
        changes,
        CounterChange(CounterKind.CREDITS, credits_key(thread.contract_id, at), 1, limit=contract.monthly_credits),
    )


def refund(changes: Changes, thread: Thread, message: Message, at: datetime, reason: str) -> Message:
    """R04: return the credit charged for this attempt of the message, once, this month (R08)."""
    if not message.credit_charged or message.credit_refunded:
        return message
    changes.ledger.append(ledger_entry(thread, message, LedgerKind.REFUND, at, reason))
    add_counter(changes, CounterChange(CounterKind.CREDITS, credits_key(thread.contract_id, at), -1))
    return replace(message, credit_refunded=True, refunds=message.refunds + 1)


def count_send(changes: Changes, seat: Seat, at: datetime) -> None:
    """R40: one more message today, refused past the seat's daily maximum."""
    add_counter(
        changes,
        CounterChange(
            CounterKind.SENDS,
            sends_key(seat.recruiter_id, at),
            1,
            limit=seat.daily_limit,
            expires_at=next_utc_midnight(at) + SEND_COUNTER_TTL,
        ),
    )


def new_follow_up(
    thread_id: str,
    body: str,
    due: datetime,
    idempotency_key: str | None,
    request_hash: str | None = None,
    time_zone: str | None = None,
) -> Message:
    """`time_zone`: the candidate's, as `due` was decided in it (R73)."""
    return Message(
        message_id=follow_up_message_id(thread_id),
        kind=MessageKind.FOLLOW_UP,
        body=body,
        status=MessageStatus.SCHEDULED,
        scheduled_for=due,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        time_zone=time_zone,
    )


def first_message_sent(
    changes: Changes,
    thread: Thread,
    contract: Contract,
    seat: Seat,
    candidate: Candidate,
    now: datetime,
) -> Thread:
    """R01, R02, R40: the delivered thread and everything it pays for, in one commit."""
    stored = changes.put(thread, None)
    charge(changes, stored, stored.initial, contract, now, "InMail sent")
    if stored.follow_up is not None:
        charge(changes, stored, stored.follow_up, contract, now, "follow-up scheduled")
        changes.expect(contract)  # R14: follow-ups still enabled at commit
    count_send(changes, seat, now)
    changes.expect(seat)  # R43: still not restricted at commit
    changes.expect(candidate)  # R44: the profile still there at commit
    return stored


def first_message_failed(changes: Changes, thread: Thread, now: datetime) -> Thread:
    """Delivery of the first message kept failing: FAILED and refunded (R26), and its
    follow-up with it (R23). Each charge is recorded with its refund; in the same month
    they cancel out, so no counter moves and nothing is sent today."""
    initial = replace(
        thread.initial,
        status=MessageStatus.FAILED,
        sent_at=None,
        failure=Failure(FailureCode.TECHNICAL_ISSUE, now),
        credit_refunded=True,
        refunds=1,
    )
    follow_up = thread.follow_up
    if follow_up is not None:
        follow_up = replace(
            follow_up,
            status=MessageStatus.FAILED,
            failure=Failure(FailureCode.INITIAL_MESSAGE_FAILED, now),
            credit_refunded=True,
            refunds=1,
        )
    stored = changes.put(replace(thread, initial=initial, follow_up=follow_up), None)
    changes.ledger += [
        ledger_entry(stored, initial, LedgerKind.CHARGE, now, "InMail sent"),
        ledger_entry(stored, initial, LedgerKind.REFUND, now, "first message failed: TECHNICAL_ISSUE"),
    ]
    if follow_up is not None:
        changes.ledger += [
            ledger_entry(stored, follow_up, LedgerKind.CHARGE, now, "follow-up scheduled"),
            ledger_entry(stored, follow_up, LedgerKind.REFUND, now, "follow-up failed: INITIAL_MESSAGE_FAILED (R23)"),
        ]
    return stored


def _require_open(thread: Thread) -> None:
    if thread.replied_at is not None:
        raise Refusal(ErrorCode.ALREADY_REPLIED, "The candidate has already replied.", ("input", "threadId"))
    if thread.initial.status is MessageStatus.FAILED:
        raise Refusal(
            ErrorCode.INVALID_INPUT,
            "The first message failed; no follow-up can be scheduled for it.",
            ("input", "threadId"),
        )


def require_schedulable(thread: Thread) -> None:
    """R10: at most one follow-up, set while the InMail has no reply."""
    _require_open(thread)
    if thread.follow_up is not None:
        raise Refusal(ErrorCode.FOLLOW_UP_EXISTS, "This InMail already has a follow-up.", ("input", "threadId"))


def require_reschedulable(thread: Thread) -> Message:
    """R13: only a cancelled follow-up of an InMail with no reply."""
    _require_open(thread)
    fu = thread.follow_up
    if fu is None or fu.status is not MessageStatus.CANCELLED:
        raise Refusal(ErrorCode.NOT_CANCELLED, "Only a cancelled follow-up can be rescheduled.", ("input", "threadId"))
    return fu


def follow_up_scheduled(
    changes: Changes,
    thread: Thread,
    contract: Contract,
    seat: Seat,
    body: str,
    due: datetime,
    idempotency_key: str | None,
    now: datetime,
    request_hash: str | None = None,
    time_zone: str | None = None,
) -> Thread:
    """R02, R10: the one follow-up of a thread, charged now."""
    require_schedulable(thread)
    draft = thread.with_follow_up(new_follow_up(thread.thread_id, body, due, idempotency_key, request_hash, time_zone))
    stored = changes.put(draft, thread)
    assert stored.follow_up is not None
    charge(changes, stored, stored.follow_up, contract, now, "follow-up scheduled")
    changes.expect(contract)
    changes.expect(seat)
    return stored


def follow_up_rescheduled(
    changes: Changes,
    thread: Thread,
    contract: Contract,
    seat: Seat,
    due: datetime,
    now: datetime,
    time_zone: str | None = None,
) -> Thread:
    """R13: a cancelled follow-up (R25 among others) scheduled again, charged again."""
    fu = require_reschedulable(thread)
    again = replace(
        fu,
        status=MessageStatus.SCHEDULED,
        attempt=fu.attempt + 1,
        credit_charged=True,
        credit_refunded=False,
        charges=fu.charges + 1,
        scheduled_for=due,
        failure=None,
        decision=None,
        time_zone=time_zone,
    )
    stored = changes.put(replace(thread, follow_up=again, lease_owner=None, lease_expires_at=None), thread)
    assert stored.follow_up is not None
    charge(changes, stored, stored.follow_up, contract, now, "follow-up rescheduled")
    changes.expect(contract)
    changes.expect(seat)
    return stored


def follow_up_cancelled(changes: Changes, thread: Thread, now: datetime) -> Thread:
    """R13: the recruiter cancels a scheduled follow-up; its credit is refunded."""
    fu = thread.scheduled_follow_up
    if fu is None:
        raise Refusal(ErrorCode.NOT_SCHEDULED, "There is no scheduled follow-up to cancel.", ("input", "threadId"))
    cancelled = replace(fu, status=MessageStatus.CANCELLED, failure=None)
    cancelled = refund(changes, thread, cancelled, now, "follow-up cancelled by the recruiter")
    return changes.put(replace(thread, follow_up=cancelled, lease_owner=None, lease_expires_at=None), thread)


def replied(changes: Changes, thread: Thread, body: str, now: datetime) -> Thread:
    """R05-R08: the candidate replies; the scheduled follow-up is deleted, credits refunded."""
    if thread.replied_at is not None:
        raise Refusal(ErrorCode.ALREADY_REPLIED, "You have already replied to this InMail.", ("input", "threadId"))
    refunds = reply_refunds(thread, now)
    initial = thread.initial
    follow_up = thread.follow_up
    if follow_up is not None and follow_up.status is MessageStatus.SCHEDULED:
        # R05 (R20): never delivered; both credits back.
        follow_up = replace(follow_up, status=MessageStatus.DELETED)
        if refunds:
            follow_up = refund(changes, thread, follow_up, now, "candidate replied before the follow-up (R05)")
            initial = refund(changes, thread, initial, now, "candidate replied before the follow-up (R05)")
    elif follow_up is not None and follow_up.status is MessageStatus.SENT:
        # R06: one credit back, the follow-up's (the message that got the answer).
        if refunds:
            follow_up = refund(changes, thread, follow_up, now, "candidate replied after the follow-up (R06)")
    elif refunds:
        # R07: no live follow-up (none, or it was cancelled/failed and already refunded).
        initial = refund(changes, thread, initial, now, "candidate replied (R07)")
    answered = replace(
        thread,
        initial=initial,
        follow_up=follow_up,
        replied_at=now,
        reply_body=body,
        lease_owner=None,
        lease_expires_at=None,
    )
    return changes.put(answered, thread)


# ---- the sweeper ------------------------------------------------------------------


def follow_up_settled(
    changes: Changes,
    thread: Thread,
    decision: Decision,
    now: datetime,
    *,
    contract: Contract | None = None,
    seat: Seat | None = None,
    candidate: Candidate | None = None,
) -> Thread:
    """Apply the sweeper's decision: deliver (counting the day's send), or fail, cancel or
    delete with the refund and the reason kept on the message.

    A delivery stands only if what it was decided on is unchanged when it commits: the
    contract (R21; R51: follow-ups disabled meanwhile win), the seat (R22) and the candidate
    (R24), like the thread itself (R20). Otherwise the commit fails with Conflict and the
    sweep decides again on what changed."""
    fu = thread.follow_up
    assert fu is not None and fu.status is MessageStatus.SCHEDULED
    if decision.outcome is MessageStatus.SENT:
        assert contract is not None and seat is not None and candidate is not None
        settled = replace(fu, status=MessageStatus.SENT, sent_at=now, decision=decision)
        count_send(changes, seat, now)
        changes.expect(contract)
        changes.expect(seat)
        changes.expect(candidate)
    else:
        failure = Failure(decision.code, now) if decision.code is not None else None
        settled = replace(fu, status=decision.outcome, failure=failure, decision=decision)
        reason = (
            f"follow-up {decision.outcome.value.lower()}: {decision.code.value} ({decision.rule})"
            if decision.code
            else f"candidate replied before the follow-up ({decision.rule})"
        )
        settled = refund(changes, thread, settled, now, reason)
    return changes.put(replace(thread, follow_up=settled, lease_owner=None, lease_expires_at=None), thread)


def follow_up_moved(
    changes: Changes, thread: Thread, decision: Decision, contract: Contract, candidate: Candidate
) -> Thread:
    """R74: a follow-up that met the daily maximum moves to `decision.moved_to` instead of
    being cancelled: still SCHEDULED, its credit kept, one more move counted, the decision
    (why) on the message, the candidate's zone as now. One write, conditioned on the
    version the sweep's claim left, so no other sweep can move it too; the due index
    follows `scheduled_for`. It stands only if the contract (the opt-in, the window) and
    the candidate (the zone) it was decided on are unchanged."""
    fu = thread.scheduled_follow_up
    assert fu is not None and decision.moved_to is not None and decision.outcome is MessageStatus.SCHEDULED
    moved = replace(
        fu,
        scheduled_for=decision.moved_to,
        time_zone=candidate.time_zone,
        times_rescheduled=fu.times_rescheduled + 1,
        decision=decision,
    )
    changes.expect(contract)
    changes.expect(candidate)
    return changes.put(replace(thread, follow_up=moved, lease_owner=None, lease_expires_at=None), thread)
