"""Domain errors: business refusals (shown as userErrors) and store outcomes."""

from __future__ import annotations

from enum import StrEnum

from .model import CounterKind


class ErrorCode(StrEnum):
    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    INSUFFICIENT_CREDITS = "INSUFFICIENT_CREDITS"
    DAILY_LIMIT_REACHED = "DAILY_LIMIT_REACHED"
    FOLLOW_UPS_DISABLED = "FOLLOW_UPS_DISABLED"
    RECRUITER_RESTRICTED = "RECRUITER_RESTRICTED"
    CANDIDATE_NOT_FOUND = "CANDIDATE_NOT_FOUND"
    FOLLOW_UP_WINDOW = "FOLLOW_UP_WINDOW"
    FOLLOW_UP_EXISTS = "FOLLOW_UP_EXISTS"
    ALREADY_REPLIED = "ALREADY_REPLIED"
    NOT_CANCELLED = "NOT_CANCELLED"
    NOT_SCHEDULED = "NOT_SCHEDULED"
    CONFLICT = "CONFLICT"
    TECHNICAL_ISSUE = "TECHNICAL_ISSUE"
    MISSING_PERSONALIZATION = "MISSING_PERSONALIZATION"


class Refusal(Exception):
    """A business rule refused the request; nothing was written."""

    def __init__(self, code: ErrorCode, message: str, field: tuple[str, ...] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class AccessDenied(Exception):
    """The caller is authenticated but may not do this (FORBIDDEN)."""


class Unauthenticated(Exception):
    """No verified identity (UNAUTHENTICATED)."""


class Conflict(Exception):
    """A conditional write lost a race: reload and decide again."""


class NameTaken(Exception):
    """A template name another template of the contract holds (R92)."""


class LimitExceeded(Exception):
    """A counter's limit refused the commit: the month's credits or the day's sends."""

    def __init__(self, kind: CounterKind):
        super().__init__(kind.value)
        self.kind = kind


class TransientStoreError(Exception):
    """The store failed in a way a retry may fix (throttling, 5xx, timeouts)."""


class TransientDeliveryError(Exception):
    """Delivery failed in a way a retry may fix."""
