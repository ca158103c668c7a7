"""A candidate replies to an InMail sent to them."""

from __future__ import annotations

from ..domain import rules, transitions
from ..domain.errors import ErrorCode, Refusal
from ..domain.model import Changes, Principal, Thread
from . import access
from .deps import Deps
from .retries import commit_or_technical_issue, retry_on_conflict


def reply_to_inmail(deps: Deps, principal: Principal, thread_id: str, body: str) -> Thread:
    """R05-R08: the reply is recorded; a follow-up not yet delivered is deleted, and the
    credits the reply earns back are refunded in the same commit."""
    access.require_candidate(principal)
    rules.check_id(thread_id, ("input", "threadId"), "threadId")
    rules.check_body(body, ("input", "body"))
    return _reply(deps, principal, thread_id, body)


@retry_on_conflict
def _reply(deps: Deps, principal: Principal, thread_id: str, body: str) -> Thread:
    thread = deps.store.get_thread(thread_id)
    if thread is None or not access.candidate_may_see(principal, thread):
        raise Refusal(ErrorCode.NOT_FOUND, "No such thread.", ("input", "threadId"))
    changes = Changes()
    stored = transitions.replied(changes, thread, body, deps.clock.now())
    commit_or_technical_issue(deps, changes)
    return stored
