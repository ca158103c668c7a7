"""The GraphQL schema: thin resolvers that call one service each."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
)
from strawberry.types import ExecutionContext

from ..domain.errors import Refusal
from ..domain.model import Principal
from ..domain.rules import FollowUpTiming
from ..services import messaging, operator, queries
from ..services.deps import Deps
from . import types as t
from .errors import mutate, read, should_mask, unauthenticated
from .limits import RequestLimits

log = logging.getLogger(__name__)

MAX_DEPTH = 8
MAX_ALIASES = 20
MAX_TOKENS = 2_000

P = TypeVar("P")


@dataclass
class Context:
    deps: Deps
    principal: Principal | None
    request_id: str = "-"

    def caller(self) -> Principal:
        if self.principal is None:
            raise unauthenticated()
        return self.principal


def _ctx(info: strawberry.Info) -> Context:
    ctx: Context = info.context
    return ctx


@strawberry.type
class Query:
    @strawberry.field(description="Who the verified token says the caller is.")
    def viewer(self, info: strawberry.Info) -> t.Viewer:
        ctx = _ctx(info)
        p = ctx.caller()
        seat = read(lambda: queries.viewer_seat(ctx.deps, p))
        contract_id = seat.seat.contract_id if seat else p.contract_id
        return t.Viewer(
            id=strawberry.ID(p.subject),
            contract_id=strawberry.ID(contract_id) if contract_id else None,
            roles=sorted(p.roles),
            seat=t.Seat.from_domain(seat) if seat else None,
        )

    @strawberry.field(description="The caller's contract. Recruiters and contract admins.")
    def contract(self, info: strawberry.Info) -> t.Contract:
        ctx = _ctx(info)
        p = ctx.caller()
        return t.Contract.from_domain(read(lambda: queries.my_contract(ctx.deps, p)))

    @strawberry.field(description="The caller's sent threads with no reply yet, newest first (R61).")
    def awaiting_reply(self, info: strawberry.Info, first: int = 20, after: str | None = None) -> t.ThreadConnection:
        ctx = _ctx(info)
        p = ctx.caller()
        return t.ThreadConnection.from_page(read(lambda: queries.awaiting_reply(ctx.deps, p, first, after)))

    @strawberry.field(
        description="The caller's sent threads, newest first. A contract admin may pass "
        "allRecruiters: true for the whole contract."
    )
    def sent_threads(
        self,
        info: strawberry.Info,
        first: int = 20,
        after: str | None = None,
        all_recruiters: bool = False,
    ) -> t.ThreadConnection:
        ctx = _ctx(info)
        p = ctx.caller()
        page = read(lambda: queries.sent_threads(ctx.deps, p, first, after, all_recruiters))
        return t.ThreadConnection.from_page(page)

    @strawberry.field(description="One thread the caller may see (R60), or null.")
    def thread(self, info: strawberry.Info, id: strawberry.ID) -> t.Thread | None:
        ctx = _ctx(info)
        p = ctx.caller()
        found = read(lambda: queries.thread(ctx.deps, p, str(id)))
        return t.Thread.from_domain(found, queries.recipient_view(ctx.deps, p, found)) if found else None

    @strawberry.field(description="Threads received by the calling candidate, newest first.")
    def inbox(self, info: strawberry.Info, first: int = 20, after: str | None = None) -> t.ThreadConnection:
        ctx = _ctx(info)
        p = ctx.caller()
        return t.ThreadConnection.from_page(read(lambda: queries.inbox(ctx.deps, p, first, after)), True)

    @strawberry.field(
        description="Credit charges and refunds, newest first: the caller's own, or the whole "
        "contract's for a contract admin."
    )
    def credit_ledger(
        self, info: strawberry.Info, first: int = 50, after: str | None = None
    ) -> t.CreditEntryConnection:
        ctx = _ctx(info)
        p = ctx.caller()
        return t.CreditEntryConnection.from_page(read(lambda: queries.credit_ledger(ctx.deps, p, first, after)))


def _text(value: str) -> str:
    """Text as its composed (NFC) form: R45 counts characters, and "é" typed as e plus an
    accent is one character, stored the same whichever way the keyboard sent it."""
    return unicodedata.normalize("NFC", value)


def _timing(delay_days: int | None, send_at: Any) -> FollowUpTiming:
    return FollowUpTiming(delay_days=delay_days, send_at=send_at)


def _errors(r: Refusal) -> list[t.UserError]:
    return [t.UserError.from_refusal(r)]


def _run(info: strawberry.Info, fn: Callable[[Deps, Principal], P], refused: Callable[[Refusal], P]) -> P:
    ctx = _ctx(info)
    p = ctx.caller()
    return mutate(lambda: fn(ctx.deps, p), refused)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Send a first message now, optionally with its follow-up (R01, R10-R12, R40-R44).")
    def send_in_mail(self, info: strawberry.Info, input: t.SendInMailInput) -> t.SendInMailPayload:
        fu = input.follow_up
        request = messaging.SendRequest(
            candidate_id=str(input.candidate_id),
            subject=_text(input.subject),
            body=_text(input.body),
            follow_up=messaging.FollowUpRequest(_text(fu.body), _timing(fu.delay_days, fu.send_at)) if fu else None,
            idempotency_key=input.idempotency_key,
        )

        def send(deps: Deps, p: Principal) -> t.SendInMailPayload:
            result = messaging.send_inmail(deps, p, request)
            errors = _errors(result.error) if result.error else []
            return t.SendInMailPayload(thread=t.Thread.from_domain(result.thread), user_errors=errors)

        return _run(info, send, lambda r: t.SendInMailPayload(user_errors=_errors(r)))

    @strawberry.mutation(description="Schedule the follow-up of a thread that has none (R02, R10-R12, R14).")
    def schedule_follow_up(self, info: strawberry.Info, input: t.ScheduleFollowUpInput) -> t.FollowUpPayload:
        request = messaging.ScheduleRequest(
            thread_id=str(input.thread_id),
            body=_text(input.body),
            timing=_timing(input.delay_days, input.send_at),
            idempotency_key=input.idempotency_key,
        )
        return _run(
            info,
            lambda deps, p: t.FollowUpPayload(
                thread=t.Thread.from_domain(messaging.schedule_follow_up(deps, p, request))
            ),
            lambda r: t.FollowUpPayload(user_errors=_errors(r)),
        )

    @strawberry.mutation(description="Schedule again a follow-up that was cancelled (R13, R29).")
    def reschedule_follow_up(self, info: strawberry.Info, input: t.RescheduleFollowUpInput) -> t.FollowUpPayload:
        request = messaging.RescheduleRequest(str(input.thread_id), _timing(input.delay_days, input.send_at))
        return _run(
            info,
            lambda deps, p: t.FollowUpPayload(
                thread=t.Thread.from_domain(messaging.reschedule_follow_up(deps, p, request))
            ),
            lambda r: t.FollowUpPayload(user_errors=_errors(r)),
        )

    @strawberry.mutation(description="Cancel a scheduled follow-up; its credit is refunded (R13).")
    def cancel_follow_up(self, info: strawberry.Info, input: t.CancelFollowUpInput) -> t.FollowUpPayload:
        return _run(
            info,
            lambda deps, p: t.FollowUpPayload(
                thread=t.Thread.from_domain(messaging.cancel_follow_up(deps, p, str(input.thread_id)))
            ),
            lambda r: t.FollowUpPayload(user_errors=_errors(r)),
        )

    @strawberry.mutation(
        description="Contract admins only: switch automated follow-ups on or off for every user on "
        "the contract (R50, R51)."
    )
    def set_follow_ups_enabled(
        self, info: strawberry.Info, input: t.SetFollowUpsEnabledInput
    ) -> t.SetFollowUpsEnabledPayload:
        def toggle(deps: Deps, p: Principal) -> t.SetFollowUpsEnabledPayload:
            contract = messaging.set_follow_ups_enabled(deps, p, input.enabled)
            return t.SetFollowUpsEnabledPayload(contract=t.Contract.from_domain(queries.contract_view(deps, contract)))

        return _run(info, toggle, lambda r: t.SetFollowUpsEnabledPayload(user_errors=_errors(r)))

    @strawberry.mutation(description="Set the caller's own daily maximum, up to the contract's cap (R42).")
    def set_daily_limit(self, info: strawberry.Info, input: t.SetDailyLimitInput) -> t.SetDailyLimitPayload:
        def set_limit(deps: Deps, p: Principal) -> t.SetDailyLimitPayload:
            seat = messaging.set_daily_limit(deps, p, input.daily_limit)
            return t.SetDailyLimitPayload(seat=t.Seat.from_domain(queries.seat_view(deps, seat)))

        return _run(info, set_limit, lambda r: t.SetDailyLimitPayload(user_errors=_errors(r)))

    @strawberry.mutation(description="Candidates only: reply in a thread sent to them (R05-R07).")
    def reply_to_in_mail(self, info: strawberry.Info, input: t.ReplyToInMailInput) -> t.ReplyToInMailPayload:
        body = _text(input.body)
        return _run(
            info,
            lambda deps, p: t.ReplyToInMailPayload(
                thread=t.Thread.from_domain(messaging.reply_to_inmail(deps, p, str(input.thread_id), body), True)
            ),
            lambda r: t.ReplyToInMailPayload(user_errors=_errors(r)),
        )

    @strawberry.mutation(description="Operator only: create a contract.")
    def create_contract(self, info: strawberry.Info, input: t.CreateContractInput) -> t.CreateContractPayload:
        new = operator.NewContract(
            str(input.id), _text(input.name), input.monthly_credits, input.max_daily_limit, input.follow_ups_enabled
        )

        def create(deps: Deps, p: Principal) -> t.CreateContractPayload:
            contract = operator.create_contract(deps, p, new)
            return t.CreateContractPayload(contract=t.Contract.from_domain(queries.contract_view(deps, contract)))

        return _run(info, create, lambda r: t.CreateContractPayload(user_errors=_errors(r)))

    @strawberry.mutation(description="Operator only: add a recruiter seat to a contract.")
    def add_seat(self, info: strawberry.Info, input: t.AddSeatInput) -> t.AddSeatPayload:
        new = operator.NewSeat(str(input.contract_id), str(input.recruiter_id), input.admin, input.daily_limit)
        return _run(
            info,
            lambda deps, p: t.AddSeatPayload(
                seat=t.Seat.from_domain(queries.seat_view(deps, operator.add_seat(deps, p, new)))
            ),
            lambda r: t.AddSeatPayload(user_errors=_errors(r)),
        )

    @strawberry.mutation(description="Operator only: register a candidate profile, or mark it deleted.")
    def upsert_candidate(self, info: strawberry.Info, input: t.UpsertCandidateInput) -> t.UpsertCandidatePayload:
        return _run(
            info,
            lambda deps, p: t.UpsertCandidatePayload(
                candidate=t.Candidate.from_domain(
                    operator.upsert_candidate(deps, p, str(input.candidate_id), _text(input.name), input.deleted)
                )
            ),
            lambda r: t.UpsertCandidatePayload(user_errors=_errors(r)),
        )

    @strawberry.mutation(description="Operator only: flag or unflag a recruiter (R22, R43).")
    def set_recruiter_restricted(
        self, info: strawberry.Info, input: t.SetRecruiterRestrictedInput
    ) -> t.SetRecruiterRestrictedPayload:
        return _run(
            info,
            lambda deps, p: t.SetRecruiterRestrictedPayload(
                seat=t.Seat.from_domain(
                    queries.seat_view(
                        deps,
                        operator.set_recruiter_restricted(deps, p, str(input.recruiter_id), input.restricted),
                    )
                )
            ),
            lambda r: t.SetRecruiterRestrictedPayload(user_errors=_errors(r)),
        )


class InMailSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Log unexpected errors with the request id; the client sees them masked."""
        request_id = "-"
        if execution_context is not None and isinstance(execution_context.context, Context):
            request_id = execution_context.context.request_id
        for error in errors:
            if should_mask(error):
                log.error(
                    "unexpected error in %s (request %s)",
                    error.path,
                    request_id,
                    exc_info=error.original_error,
                )


# Factories, so that each request gets fresh extension state.
_LIMITS: list[Callable[[], SchemaExtension]] = [
    # Strawberry's depth limit, safe on unknown fragments, and introspection bounded.
    lambda: RequestLimits(max_depth=MAX_DEPTH),
    lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
    lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
    lambda: MaskErrors(should_mask_error=should_mask, error_message="Unexpected error. It was logged."),
    # A bounded LRU shared across requests: a warm Lambda parses a frontend's operation once.
    lambda: ParserCache(maxsize=256),
]

schema = InMailSchema(query=Query, mutation=Mutation, extensions=_LIMITS)
