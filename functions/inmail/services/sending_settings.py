"""The settings that govern sending: automated follow-ups on or off for a whole contract,
its send window and rescheduling on the daily maximum (its admin's), and a recruiter's own
daily maximum."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum

from ..domain import rules, send_windows
from ..domain.errors import ErrorCode, Refusal
from ..domain.model import Changes, Contract, Principal, Seat, SendWindow, Weekday
from . import access, refusals
from .deps import Deps
from .retries import commit_or_technical_issue, retry_on_conflict


def set_follow_ups_enabled(deps: Deps, principal: Principal, enabled: bool) -> Contract:
    """R50: contract admins only; recorded with who and when."""
    seat = access.require_admin(deps, principal)
    return _switch_follow_ups(deps, principal, seat, enabled)


@retry_on_conflict
def _switch_follow_ups(deps: Deps, principal: Principal, seat: Seat, enabled: bool) -> Contract:
    contract = refusals.contract_of(deps, seat)
    switched = replace(
        contract,
        follow_ups_enabled=enabled,
        follow_ups_changed_by=principal.subject,
        follow_ups_changed_at=deps.clock.now(),
    )
    # R51: only the contract changes. Follow-ups already scheduled stay SCHEDULED; the
    # sweeper reads the switch when each is due (R21), and refunds then.
    changes = Changes()
    stored = changes.put(switched, contract)
    commit_or_technical_issue(deps, changes)
    return stored


def set_daily_limit(deps: Deps, principal: Principal, daily_limit: int) -> Seat:
    """R42: a recruiter sets their own daily maximum, 1 up to the contract's cap."""
    access.acting_seat(deps, principal)
    return _set_daily_limit(deps, principal, daily_limit)


@retry_on_conflict
def _set_daily_limit(deps: Deps, principal: Principal, daily_limit: int) -> Seat:
    seat = access.acting_seat(deps, principal)
    contract = refusals.contract_of(deps, seat)
    rules.check_range(daily_limit, ("input", "dailyLimit"), 1, contract.max_daily_limit, "dailyLimit")
    changes = Changes()
    stored = changes.put(replace(seat, daily_limit=daily_limit), seat)
    commit_or_technical_issue(deps, changes)
    return stored


@dataclass(frozen=True)
class SendWindowRequest:
    start_hour: int
    end_hour: int
    days: Sequence[Weekday]


class LeftOut(Enum):
    """`window` was not given at all (null is: remove the window)."""

    LEFT_OUT = "left out"


def set_send_window(deps: Deps, principal: Principal, window: SendWindowRequest | LeftOut | None) -> Contract:
    """R71: contract admins only; None removes the window; recorded with who and when. Only
    the contract changes: follow-ups already scheduled keep their time (R73)."""
    seat = access.require_admin(deps, principal)
    if isinstance(window, LeftOut):
        raise Refusal(ErrorCode.INVALID_INPUT, "Give a window, or null to remove it.", ("input", "window"))
    checked = (
        None
        if window is None
        else send_windows.check_send_window(window.start_hour, window.end_hour, window.days, ("input", "window"))
    )
    return _set_send_window(deps, principal, seat, checked)


@retry_on_conflict
def _set_send_window(deps: Deps, principal: Principal, seat: Seat, window: SendWindow | None) -> Contract:
    contract = refusals.contract_of(deps, seat)
    changed = replace(
        contract,
        send_window=window,
        send_window_changed_by=principal.subject,
        send_window_changed_at=deps.clock.now(),
    )
    changes = Changes()
    stored = changes.put(changed, contract)
    commit_or_technical_issue(deps, changes)
    return stored


def set_reschedule_on_daily_limit(deps: Deps, principal: Principal, enabled: bool) -> Contract:
    """R74's opt-in: contract admins only; recorded with who and when. The sweeper reads it
    when each follow-up meets the daily maximum."""
    seat = access.require_admin(deps, principal)
    return _set_reschedule(deps, principal, seat, enabled)


@retry_on_conflict
def _set_reschedule(deps: Deps, principal: Principal, seat: Seat, enabled: bool) -> Contract:
    contract = refusals.contract_of(deps, seat)
    changed = replace(
        contract,
        reschedule_on_daily_limit=enabled,
        reschedule_changed_by=principal.subject,
        reschedule_changed_at=deps.clock.now(),
    )
    changes = Changes()
    stored = changes.put(changed, contract)
    commit_or_technical_issue(deps, changes)
    return stored
