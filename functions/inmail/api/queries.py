"""The API's queries: each reads through one service as the verified caller (R60, R61)."""

from datetime import date
from typing import Annotated

import strawberry

from ..services import queries, report
from .context import Info
from .errors import query
from .types.accounts import Contract, Seat, Viewer
from .types.credits import CreditEntryConnection
from .types.report import InMailReport
from .types.templates import Template
from .types.threads import Thread, ThreadConnection


@strawberry.type
class Query:
    @query("Who the verified token says the caller is.")
    def viewer(self, info: Info) -> Viewer:
        caller = info.context.caller()
        seat = info.context.call(queries.viewer_seat)
        contract_id = seat.seat.contract_id if seat else caller.contract_id
        return Viewer(
            id=strawberry.ID(caller.subject),
            contract_id=strawberry.ID(contract_id) if contract_id else None,
            roles=sorted(caller.roles),
            seat=Seat.from_domain(seat) if seat else None,
        )

    @query("The caller's contract. Recruiters and contract admins.")
    def contract(self, info: Info) -> Contract:
        return Contract.from_domain(info.context.call(queries.my_contract))

    @query("The caller's sent threads with no reply yet, newest first (R61).")
    def awaiting_reply(self, info: Info, first: int = 20, after: str | None = None) -> ThreadConnection:
        return ThreadConnection.from_page(info.context.call(queries.awaiting_reply, first, after))

    @query(
        "The caller's sent threads, newest first. A contract admin may pass allRecruiters: true for the whole contract."
    )
    def sent_threads(
        self, info: Info, first: int = 20, after: str | None = None, all_recruiters: bool = False
    ) -> ThreadConnection:
        return ThreadConnection.from_page(info.context.call(queries.sent_threads, first, after, all_recruiters))

    @query("One thread the caller may see (R60), or null.")
    def thread(self, info: Info, id: strawberry.ID) -> Thread | None:
        found = info.context.call(queries.thread, str(id))
        if found is None:
            return None
        return Thread.from_domain(found, info.context.call(queries.recipient_view, found))

    @query("Threads received by the calling candidate, newest first.")
    def inbox(self, info: Info, first: int = 20, after: str | None = None) -> ThreadConnection:
        return ThreadConnection.from_page(info.context.call(queries.inbox, first, after), for_candidate=True)

    @query("Credit charges and refunds, newest first: the caller's own, or the whole contract's for a contract admin.")
    def credit_ledger(self, info: Info, first: int = 50, after: str | None = None) -> CreditEntryConnection:
        return CreditEntryConnection.from_page(info.context.call(queries.credit_ledger, first, after))

    @query("R80: the whole contract for a contract admin, the caller's own row for a recruiter.")
    def in_mail_report(
        self, info: Info, from_: Annotated[date, strawberry.argument(name="from")], to: date
    ) -> InMailReport:
        return InMailReport.from_domain(info.context.call(report.inmail_report, from_, to))

    @query("The contract's templates, by name (R92). Recruiters and contract admins of the contract.")
    def templates(self, info: Info) -> list[Template]:
        from ..services import templates  # loaded on first use, off the cold start's path

        return [Template.from_domain(t) for t in info.context.call(templates.list_templates)]
