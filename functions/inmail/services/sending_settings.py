"""The settings that govern sending: automated follow-ups on or off for a whole contract
(its admin's), and a recruiter's own daily maximum."""

from __future__ import annotations

from dataclasses import replace

from ..domain import rules
from ..domain.model import Changes, Contract, Principal, Seat
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
