"""SPEC.md's delivery table (R20-R27) with each failure's remedy (R28), declared once, and
the sweeper's decision on a due follow-up read from it. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from . import send_windows
from .model import Candidate, Check, Contract, Decision, FailureCode, MessageStatus, RuleId, Seat, Thread


@dataclass(frozen=True)
class Facts:
    """What the sweeper read, just before deciding on one due follow-up."""

    thread: Thread
    contract: Contract | None
    seat: Seat | None
    candidate: Candidate | None
    sent_today: int


@dataclass(frozen=True)
class Finding:
    holds: bool
    detail: str


@dataclass(frozen=True)
class DeliveryRule:
    """One row of the table: when `condition` holds, the follow-up ends `status`, and a
    failure shows the recruiter `message` and `remedy` (R28)."""

    rule: RuleId
    condition: str
    status: MessageStatus
    code: FailureCode | None
    message: str | None
    remedy: str | None
    # How the sweeper checks the condition before delivering; None for R26, which only the
    # delivery itself finds out.
    check: Callable[[Facts], Finding] | None


def _replied(f: Facts) -> Finding:
    replied = f.thread.replied_at
    return Finding(replied is not None, f"replied at {replied.isoformat()}" if replied else "no reply")


def _automation_disabled(f: Facts) -> Finding:
    # R51: read now, at delivery; disabling earlier changed only the contract.
    c = f.contract
    if c is None:
        return Finding(True, "contract not found")
    return Finding(not c.follow_ups_enabled, "follow-ups enabled" if c.follow_ups_enabled else "follow-ups disabled")


def _recruiter_restricted(f: Facts) -> Finding:
    restricted = f.seat is None or f.seat.restricted
    return Finding(restricted, "restricted" if restricted else "not restricted")


def _first_message_failed(f: Facts) -> Finding:
    status = f.thread.initial.status
    return Finding(status is MessageStatus.FAILED, f"first message {status.value}")


def _candidate_gone(f: Facts) -> Finding:
    if f.candidate is None:
        return Finding(True, "not found")
    return Finding(f.candidate.deleted, "deleted" if f.candidate.deleted else "found")


def _daily_maximum_reached(f: Facts) -> Finding:
    # Checked again, atomically, by the delivery's own counter update (overturned_at_delivery).
    limit = f.seat.daily_limit if f.seat else 0
    return Finding(f.sent_today >= limit, f"{f.sent_today} sent today of a maximum of {limit}")


def _nothing_else(f: Facts) -> Finding:
    return Finding(True, "deliver")


# Checked in this order; the first that holds decides.
DELIVERY_RULES: tuple[DeliveryRule, ...] = (
    DeliveryRule(
        rule=RuleId.R20,
        condition="candidate has replied",
        status=MessageStatus.DELETED,
        code=None,
        message=None,  # R05: the reply itself refunds both credits
        remedy=None,
        check=_replied,
    ),
    DeliveryRule(
        rule=RuleId.R21,
        condition="automation disabled on the contract",
        status=MessageStatus.FAILED,
        code=FailureCode.AUTOMATION_DISABLED,
        message="The message cannot be delivered to the candidate because the messaging automation function has "
        "been disabled. Contact your contract admin for more information. The credit has been refunded to you.",
        remedy="Your admin has disabled automated follow-ups for your contract. Contact your contract admin to "
        "enable them again.",
        check=_automation_disabled,
    ),
    DeliveryRule(
        rule=RuleId.R22,
        condition="recruiter restricted",
        status=MessageStatus.FAILED,
        code=FailureCode.RECRUITER_RESTRICTED,
        message="The message cannot be delivered because your account is restricted from sending InMail. "
        "The credit has been refunded to you.",
        remedy="Your account is restricted from sending InMail. Contact support to review the restriction.",
        check=_recruiter_restricted,
    ),
    DeliveryRule(
        rule=RuleId.R23,
        condition="first message failed",
        status=MessageStatus.FAILED,
        code=FailureCode.INITIAL_MESSAGE_FAILED,
        message="The message cannot be delivered because your first message was failed. "
        "The credit has been refunded to you.",
        remedy="Check and fix the reason why your first message failed. If the first message fails, the "
        "follow-up won't be delivered.",
        check=_first_message_failed,
    ),
    DeliveryRule(
        rule=RuleId.R24,
        condition="candidate profile deleted or not found",
        status=MessageStatus.FAILED,
        code=FailureCode.CANDIDATE_NOT_FOUND,
        message="The message cannot be delivered to the candidate because the candidate's profile cannot be "
        "found. The credit has been refunded to you.",
        remedy="Review the candidate's information and confirm the profile is not deleted, then send the InMail again.",
        check=_candidate_gone,
    ),
    DeliveryRule(
        rule=RuleId.R25,
        condition="recruiter's daily maximum reached",
        status=MessageStatus.CANCELLED,
        code=FailureCode.DAILY_LIMIT_REACHED,
        message="The message cannot be delivered to the candidate. The credit has been refunded to you.",
        remedy="You reached your daily maximum of InMail messages. Raise your daily maximum or wait until it "
        "resets in the next period, then reschedule the follow-up.",
        check=_daily_maximum_reached,
    ),
    DeliveryRule(
        rule=RuleId.R26,
        condition="delivery kept failing",
        status=MessageStatus.FAILED,
        code=FailureCode.TECHNICAL_ISSUE,
        message="The message cannot be delivered to the candidate due to a technical issue. "
        "The credit has been refunded to you.",
        remedy="Contact support so the team can look further into this issue.",
        check=None,  # only the delivery finds out (overturned_at_delivery)
    ),
    DeliveryRule(
        rule=RuleId.R27,
        condition="none of the above",
        status=MessageStatus.SENT,
        code=None,
        message=None,
        remedy=None,
        check=_nothing_else,
    ),
)

_BY_RULE = {row.rule: row for row in DELIVERY_RULES}
_BY_CODE = {row.code: row for row in DELIVERY_RULES if row.code is not None}


def rule_of(code: FailureCode) -> DeliveryRule:
    """The row a failure code comes from (each code is one row's)."""
    return _BY_CODE[code]


def failure_message(code: FailureCode) -> str:
    message = rule_of(code).message
    assert message is not None
    return message


def failure_remedy(code: FailureCode) -> str:
    """R28: what the recruiter can do about it."""
    remedy = rule_of(code).remedy
    assert remedy is not None
    return remedy


def decide_follow_up(
    thread: Thread,
    contract: Contract | None,
    seat: Seat | None,
    candidate: Candidate | None,
    sent_today: int,
    now: datetime,
    sweep_id: str,
) -> Decision:
    """The table's checks in order; the first that holds decides (R27 always holds)."""
    assert thread.follow_up is not None
    facts = Facts(thread, contract, seat, candidate, sent_today)
    checks: list[Check] = []
    for row in DELIVERY_RULES:
        if row.check is None:
            continue
        found = row.check(facts)
        checks.append(Check(row.rule, row.condition, found.holds, found.detail))
        if found.holds:
            return Decision(row.status, row.rule, row.code, tuple(checks), now, sweep_id)
    raise AssertionError("R27 holds when nothing else does")


def overturned_at_delivery(decision: Decision, rule: RuleId, detail: str) -> Decision:
    """A decision to send that the delivery overturned: its own counter update found the
    daily maximum reached (R25, atomic where the check before it could race), or it kept
    failing (R26). The checks made before stand; R27's is replaced by what happened."""
    row = _BY_RULE[rule]
    assert decision.outcome is MessageStatus.SENT and row.status is not MessageStatus.SENT
    kept = tuple(c for c in decision.checks if c.rule is not RuleId.R27)
    return Decision(
        row.status,
        rule,
        row.code,
        (*kept, Check(rule, row.condition, True, detail)),
        decision.at,
        decision.sweep_id,
    )


MOVE_CHECK = "moved to the next day instead (R74)"


def moved_past_daily_limit(
    decision: Decision, thread: Thread, contract: Contract | None, candidate: Candidate | None, now: datetime
) -> Decision:
    """R74, on R25's row: with the contract's opt-in, a follow-up that met the daily maximum
    (when decided, or at its delivery's own count) moves to the next UTC day
    (send_windows.next_day_slot, in the candidate's zone as it is now) instead of being
    cancelled: outcome SCHEDULED, `moved_to` set, a check saying where. When the move would
    pass R11's 28 days, R25 stands, with a check saying why. Without the opt-in: unchanged."""
    if decision.rule is not RuleId.R25 or contract is None or not contract.reschedule_on_daily_limit:
        return decision
    fu = thread.follow_up
    assert fu is not None and fu.scheduled_for is not None
    zone_name = candidate.time_zone if candidate is not None else None
    first_sent = thread.initial.sent_at or thread.created_at
    target = send_windows.next_day_slot(
        fu.scheduled_for, first_sent, now, contract.send_window, send_windows.zone(zone_name)
    )
    if target is None:
        detail = "not moved: the next day's time would be more than 28 days after the first message"
        return replace(decision, checks=(*decision.checks, Check(RuleId.R25, MOVE_CHECK, False, detail)))
    where = (
        "the first send-window time from the next UTC day on"
        if contract.send_window
        else "the same time of day on the next UTC day"
    )
    detail = f"moved to {send_windows.local_iso(target, zone_name)}, {where}"
    return replace(
        decision,
        outcome=MessageStatus.SCHEDULED,
        moved_to=target,
        checks=(*decision.checks, Check(RuleId.R25, MOVE_CHECK, True, detail)),
    )
