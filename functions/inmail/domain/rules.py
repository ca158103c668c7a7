"""The rules of SPEC.md a request is checked against, as pure functions: input (R45), the
follow-up window (R11, R12), reply refunds (R08), and the keys credits and daily sends are
counted under (R01, R40). The sweeper's delivery table is domain/delivery.py."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .errors import ErrorCode, Refusal
from .model import CounterKind, Thread

SUBJECT_MAX = 200  # R45
BODY_MAX = 1900  # R45
ID_MAX = 128
NAME_MAX = 200
IDEMPOTENCY_KEY_MAX = 128
FOLLOW_UP_MIN = timedelta(hours=72)  # R11
FOLLOW_UP_MAX = timedelta(days=28)  # R11
FOLLOW_UP_DEFAULT = timedelta(days=7)  # R12
REPLY_REFUND_WINDOW = timedelta(days=90)  # R08
PAGE_MAX = 100
BATCH_MAX = 25  # R90: candidates per sendInMails
TEMPLATES_MAX = 100  # R92: templates per contract (the templates query returns them all)

# ---- keys -----------------------------------------------------------------------


def _utc(at: datetime) -> datetime:
    """The same instant in UTC: a time with another offset names another day near midnight."""
    return at.astimezone(UTC) if at.tzinfo is not None else at


def month_of(at: datetime) -> str:
    """The UTC calendar month a credit is charged or refunded in (R01, R08)."""
    return _utc(at).strftime("%Y-%m")


def day_of(at: datetime) -> str:
    """The UTC day the daily maximum counts in (R40)."""
    return _utc(at).strftime("%Y-%m-%d")


def credits_key(contract_id: str, at: datetime) -> str:
    return f"{CounterKind.CREDITS}#{contract_id}#{month_of(at)}"


def sends_key(recruiter_id: str, at: datetime) -> str:
    return f"{CounterKind.SENDS}#{recruiter_id}#{day_of(at)}"


def templates_key(contract_id: str) -> str:
    return f"{CounterKind.TEMPLATES}#{contract_id}"


def template_name_key(name: str) -> str:
    """R92: names are unique within a contract whatever their case and spacing ("Intro",
    "intro " and "INTRO" are one name)."""
    return " ".join(name.split()).casefold()


def next_utc_midnight(at: datetime) -> datetime:
    start = _utc(at).replace(hour=0, minute=0, second=0, microsecond=0)
    return start + timedelta(days=1)


# ---- input validation (R45) -------------------------------------------------------


def _has_forbidden_control(text: str) -> bool:
    """A control character other than newline and tab, or a lone surrogate (not text at
    all: DynamoDB would refuse it)."""
    return any(ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cs") for ch in text)


def _is_blank(text: str) -> bool:
    """Nothing visible: only spaces (any Unicode space) and format characters (zero-width)."""
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text)


def check_text(value: str, field: tuple[str, ...], minimum: int, maximum: int, label: str) -> None:
    """R45: length in characters, and no control character but newline and tab."""
    if len(value) < minimum or len(value) > maximum:
        raise Refusal(
            ErrorCode.INVALID_INPUT,
            f"{label} must be {minimum} to {maximum} characters (got {len(value)}).",
            field,
        )
    if _has_forbidden_control(value):
        raise Refusal(
            ErrorCode.INVALID_INPUT,
            f"{label} contains a control or invalid character; only newline and tab are allowed.",
            field,
        )
    if minimum > 0 and _is_blank(value):
        raise Refusal(ErrorCode.INVALID_INPUT, f"{label} must not be blank.", field)


def check_subject(value: str, field: tuple[str, ...]) -> None:
    check_text(value, field, 1, SUBJECT_MAX, "Subject")


def check_body(value: str, field: tuple[str, ...]) -> None:
    check_text(value, field, 1, BODY_MAX, "Body")


def check_id(value: str, field: tuple[str, ...], label: str = "Id") -> None:
    if not value or len(value) > ID_MAX or _has_forbidden_control(value) or value != value.strip():
        raise Refusal(
            ErrorCode.INVALID_INPUT,
            f"{label} must be 1 to {ID_MAX} characters with no spaces at either end.",
            field,
        )
    if "#" in value or any(ch in "\n\t" for ch in value):
        raise Refusal(ErrorCode.INVALID_INPUT, f"{label} must not contain '#', tab or newline.", field)


def check_idempotency_key(value: str | None, field: tuple[str, ...]) -> None:
    if value is None:
        return
    if not value or len(value) > IDEMPOTENCY_KEY_MAX or _has_forbidden_control(value):
        raise Refusal(
            ErrorCode.INVALID_INPUT,
            f"idempotencyKey must be 1 to {IDEMPOTENCY_KEY_MAX} printable characters.",
            field,
        )


def check_range(value: int, field: tuple[str, ...], minimum: int, maximum: int, label: str) -> None:
    if value < minimum or value > maximum:
        raise Refusal(ErrorCode.INVALID_INPUT, f"{label} must be between {minimum} and {maximum}.", field)


def check_page_size(first: int) -> None:
    check_range(first, ("first",), 1, PAGE_MAX, "first")


def invalid_cursor() -> Refusal:
    """A cursor this API did not give, or gave for another listing."""
    return Refusal(ErrorCode.INVALID_INPUT, "Invalid cursor.", ("after",))


# ---- follow-up window (R11, R12) --------------------------------------------------


@dataclass(frozen=True)
class FollowUpTiming:
    delay_days: int | None
    send_at: datetime | None


def check_timing(timing: FollowUpTiming, field: tuple[str, ...]) -> None:
    """R45 for a follow-up's timing, checked with the rest of the input, before any read."""
    if timing.delay_days is not None and timing.send_at is not None:
        raise Refusal(ErrorCode.INVALID_INPUT, "Give at most one of delayDays and sendAt.", field)
    if timing.send_at is not None and timing.send_at.tzinfo is None:
        raise Refusal(ErrorCode.INVALID_INPUT, "sendAt needs a UTC offset.", (*field, "sendAt"))


def follow_up_due(
    first_sent_at: datetime,
    timing: FollowUpTiming,
    now: datetime,
    field: tuple[str, ...],
) -> datetime:
    """When the follow-up is due, or FOLLOW_UP_WINDOW (R11, R12).

    Decided where SPEC.md is silent: a due time in the past is refused, and with no
    delay given after the default (7 days) has passed, it is due now.
    """
    check_timing(timing, field)
    earliest = first_sent_at + FOLLOW_UP_MIN
    latest = first_sent_at + FOLLOW_UP_MAX

    def outside(where: tuple[str, ...]) -> Refusal:
        return Refusal(
            ErrorCode.FOLLOW_UP_WINDOW,
            "A follow-up must be due between 72 hours and 28 days after the first message "
            f"({earliest.isoformat()} to {latest.isoformat()}).",
            where,
        )

    if timing.send_at is not None:
        due = timing.send_at
        where = (*field, "sendAt")
    elif timing.delay_days is not None:
        where = (*field, "delayDays")
        if not FOLLOW_UP_MIN.days <= timing.delay_days <= FOLLOW_UP_MAX.days:
            raise outside(where)  # before the date arithmetic, which two billion days overflow
        due = first_sent_at + timedelta(days=timing.delay_days)
    else:
        due = max(first_sent_at + FOLLOW_UP_DEFAULT, now)
        where = field
    if due < earliest or due > latest:
        raise outside(where)
    if due < now:
        raise Refusal(ErrorCode.FOLLOW_UP_WINDOW, "A follow-up cannot be due in the past.", where)
    return due


# ---- replies (R05-R08) ------------------------------------------------------------


def reply_refunds(thread: Thread, replied_at: datetime) -> bool:
    """R08: only a reply within 90 days of the first message refunds."""
    first = thread.initial.sent_at or thread.created_at
    return replied_at - first <= REPLY_REFUND_WINDOW
