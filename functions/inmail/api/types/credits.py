"""The credit ledger: every charge and refund (R04)."""

from datetime import datetime

import strawberry

from ...domain import model as dm
from .common import CreditEntryKind, PageInfo


@strawberry.type
class CreditEntry:
    id: strawberry.ID
    kind: CreditEntryKind  # type: ignore[valid-type]
    amount: int
    message_id: strawberry.ID
    thread_id: strawberry.ID
    recruiter_id: strawberry.ID
    reason: str
    at: datetime

    @staticmethod
    def from_domain(e: dm.LedgerEntry) -> "CreditEntry":
        return CreditEntry(
            id=strawberry.ID(e.entry_id),
            kind=e.kind,
            amount=e.amount,
            message_id=strawberry.ID(e.message_id),
            thread_id=strawberry.ID(e.thread_id),
            recruiter_id=strawberry.ID(e.recruiter_id),
            reason=e.reason,
            at=e.at,
        )


@strawberry.type
class CreditEntryEdge:
    cursor: str
    node: CreditEntry


@strawberry.type
class CreditEntryConnection:
    edges: list[CreditEntryEdge]
    page_info: PageInfo

    @staticmethod
    def from_page(page: dm.Page[dm.LedgerEntry]) -> "CreditEntryConnection":
        edges = [
            CreditEntryEdge(cursor=cursor, node=CreditEntry.from_domain(e))
            for e, cursor in zip(page.items, page.cursors, strict=True)
        ]
        return CreditEntryConnection(edges=edges, page_info=PageInfo.from_page(page))
