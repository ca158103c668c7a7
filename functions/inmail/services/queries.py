"""Reads, each checked against what the caller may see (R60, R61)."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain import rules
from ..domain.errors import AccessDenied
from ..domain.model import Contract, LedgerEntry, Page, Principal, Seat, Thread
from ..domain.ports import LedgerIndex, ThreadIndex
from . import access
from .deps import Deps


@dataclass(frozen=True)
class SeatView:
    seat: Seat
    sent_today: int


@dataclass(frozen=True)
class ContractView:
    contract: Contract
    credits_remaining: int


def seat_view(deps: Deps, seat: Seat) -> SeatView:
    sent = deps.store.get_counter(rules.sends_key(seat.recruiter_id, deps.clock.now()))
    return SeatView(seat, sent)


def contract_view(deps: Deps, contract: Contract) -> ContractView:
    used = deps.store.get_counter(rules.credits_key(contract.contract_id, deps.clock.now()))
    return ContractView(contract, contract.monthly_credits - used)


def viewer_seat(deps: Deps, principal: Principal) -> SeatView | None:
    if not principal.roles & access.SEAT_ROLES:
        return None
    try:
        return seat_view(deps, access.acting_seat(deps, principal))
    except AccessDenied:
        return None


def my_contract(deps: Deps, principal: Principal) -> ContractView:
    seat = access.acting_seat(deps, principal)
    contract = deps.store.get_contract(seat.contract_id)
    if contract is None:
        raise AccessDenied("The seat's contract does not exist.")
    return contract_view(deps, contract)


def awaiting_reply(deps: Deps, principal: Principal, first: int, after: str | None) -> Page[Thread]:
    """R61: the caller's own threads with no reply yet, newest first."""
    rules.check_page_size(first)
    seat = access.acting_seat(deps, principal)
    return deps.store.list_threads(ThreadIndex.AWAITING, seat.recruiter_id, first, after)


def sent_threads(deps: Deps, principal: Principal, first: int, after: str | None, all_recruiters: bool) -> Page[Thread]:
    rules.check_page_size(first)
    seat = access.acting_seat(deps, principal)
    if all_recruiters:
        if not access.is_admin(principal, seat):
            raise AccessDenied("Only a contract admin may list every recruiter's threads.")
        return deps.store.list_threads(ThreadIndex.CONTRACT, seat.contract_id, first, after)
    return deps.store.list_threads(ThreadIndex.RECRUITER, seat.recruiter_id, first, after)


def inbox(deps: Deps, principal: Principal, first: int, after: str | None) -> Page[Thread]:
    rules.check_page_size(first)
    access.require_candidate(principal)
    return deps.store.list_threads(ThreadIndex.INBOX, principal.subject, first, after)


def thread(deps: Deps, principal: Principal, thread_id: str) -> Thread | None:
    """R60: the thread, or None when it does not exist or the caller may not see it."""
    if not thread_id or len(thread_id) > rules.ID_MAX:
        return None
    found = deps.store.get_thread(thread_id)
    if found is None or not access.may_see(deps, principal, found):
        return None
    return found


def credit_ledger(deps: Deps, principal: Principal, first: int, after: str | None) -> Page[LedgerEntry]:
    """The caller's own entries; the whole contract's for its admin."""
    rules.check_page_size(first)
    seat = access.acting_seat(deps, principal)
    if access.is_admin(principal, seat):
        return deps.store.list_ledger(LedgerIndex.CONTRACT, seat.contract_id, first, after)
    return deps.store.list_ledger(LedgerIndex.RECRUITER, seat.recruiter_id, first, after)


def recipient_view(deps: Deps, principal: Principal, thread: Thread) -> bool:
    """Whether the caller sees this thread only as its recipient (no scheduled follow-up,
    no credits), also when the token has a seat role too (a recruiter can receive InMail)."""
    return not access.sender_may_see(deps, principal, thread)
