"""Refusals more than one use case makes, each worded once."""

from __future__ import annotations

from ..domain import rules
from ..domain.delivery import failure_message
from ..domain.errors import ErrorCode, LimitExceeded, Refusal
from ..domain.model import Contract, CounterKind, FailureCode, Seat
from .deps import Deps


def store_busy() -> Refusal:
    """The store stayed busy (throttling, timeouts): nothing was written twice; retry."""
    return Refusal(ErrorCode.TECHNICAL_ISSUE, "The service is busy; try again.")


def technical_issue() -> Refusal:
    """A first message whose delivery kept failing: the recruiter sees R26's sentence."""
    return Refusal(ErrorCode.TECHNICAL_ISSUE, failure_message(FailureCode.TECHNICAL_ISSUE))


def over_limit(exc: LimitExceeded) -> Refusal:
    """A charge or a send the commit refused at its counter's limit (R03, R41)."""
    match exc.kind:
        case CounterKind.CREDITS:
            return Refusal(ErrorCode.INSUFFICIENT_CREDITS, "No InMail credits left on the contract this month.")
        case CounterKind.SENDS:
            return Refusal(ErrorCode.DAILY_LIMIT_REACHED, "You reached your daily maximum of InMail messages.")
        case CounterKind.TEMPLATES:  # R92
            return Refusal(
                ErrorCode.INVALID_INPUT,
                f"A contract keeps at most {rules.TEMPLATES_MAX} templates; delete one to save another.",
                ("input",),
            )


def contract_of(deps: Deps, seat: Seat) -> Contract:
    contract = deps.store.get_contract(seat.contract_id)
    if contract is None:
        raise Refusal(ErrorCode.NOT_FOUND, "The seat's contract does not exist.")
    return contract


def refuse_restricted(seat: Seat) -> None:
    if seat.restricted:  # R43
        raise Refusal(ErrorCode.RECRUITER_RESTRICTED, "Your account is restricted from sending InMail.")


def refuse_disabled(contract: Contract, field: tuple[str, ...]) -> None:
    if not contract.follow_ups_enabled:  # R14
        raise Refusal(
            ErrorCode.FOLLOW_UPS_DISABLED,
            "Automated follow-ups are disabled on your contract. Send the InMail without one.",
            field,
        )
