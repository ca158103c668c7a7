"""Who may touch what (R60). Identity comes from the verified token only; the contract
and the recruiter are derived from it, never taken from arguments."""

from __future__ import annotations

from ..domain.errors import AccessDenied, ErrorCode, Refusal
from ..domain.model import MessageStatus, Principal, Role, Seat, Thread
from .deps import Deps

SEAT_ROLES = frozenset({Role.RECRUITER, Role.CONTRACT_ADMIN})


def acting_seat(deps: Deps, principal: Principal) -> Seat:
    """The caller's seat, for recruiters and contract admins."""
    if not principal.roles & SEAT_ROLES:
        raise AccessDenied("Only recruiters and contract admins may do this.")
    seat = deps.store.get_seat(principal.subject)
    if seat is None:
        raise AccessDenied("No recruiter seat for this identity.")
    if principal.contract_id is not None and principal.contract_id != seat.contract_id:
        raise AccessDenied("The token's contract is not this seat's contract.")
    return seat


def is_admin(principal: Principal, seat: Seat) -> bool:
    """Both the identity provider (role) and the platform (seat) must say admin."""
    return seat.admin and principal.has(Role.CONTRACT_ADMIN)


def require_admin(deps: Deps, principal: Principal) -> Seat:
    seat = acting_seat(deps, principal)
    if not is_admin(principal, seat):
        raise AccessDenied("Only a contract admin may do this.")
    return seat


def require_operator(principal: Principal) -> None:
    if not principal.has(Role.OPERATOR):
        raise AccessDenied("Only the operator may do this.")


def require_candidate(principal: Principal) -> None:
    if not principal.has(Role.CANDIDATE):
        raise AccessDenied("Only candidates may do this.")


def candidate_may_see(principal: Principal, thread: Thread) -> bool:
    """A candidate sees threads sent to them once the first message was delivered."""
    return (
        principal.has(Role.CANDIDATE)
        and thread.candidate_id == principal.subject
        and thread.initial.status is MessageStatus.SENT
    )


def may_see(deps: Deps, principal: Principal, thread: Thread) -> bool:
    """R60: own threads; the whole contract for its admin; a candidate's own inbox."""
    return candidate_may_see(principal, thread) or sender_may_see(deps, principal, thread)


def sender_may_see(deps: Deps, principal: Principal, thread: Thread) -> bool:
    """R60: the recruiter's own threads, or any of the contract's for its admin."""
    if not principal.roles & SEAT_ROLES:
        return False
    seat = deps.store.get_seat(principal.subject)
    if seat is None or seat.contract_id != thread.contract_id:
        return False
    if principal.contract_id is not None and principal.contract_id != seat.contract_id:
        return False
    return thread.recruiter_id == seat.recruiter_id or is_admin(principal, seat)


def own_thread(deps: Deps, seat: Seat, thread_id: str) -> Thread:
    """A thread the recruiter sent; anyone else's is NOT_FOUND, so existence never leaks."""
    thread = deps.store.get_thread(thread_id) if thread_id else None
    if thread is None or thread.recruiter_id != seat.recruiter_id or thread.contract_id != seat.contract_id:
        raise Refusal(ErrorCode.NOT_FOUND, "No such thread.", ("input", "threadId"))
    return thread
