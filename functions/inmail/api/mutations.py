"""The API's mutations: each runs one use case as the verified caller and maps its result;
refusals become the payload's userErrors (errors.DomainErrors)."""

import strawberry

from ..services import follow_ups, operator, queries, reply, send, sending_settings
from .context import Info
from .errors import mutation
from .types.accounts import Candidate, Contract, Seat
from .types.common import UserError, text
from .types.messaging import (
    CancelFollowUpInput,
    FollowUpPayload,
    ReplyToInMailInput,
    ReplyToInMailPayload,
    RescheduleFollowUpInput,
    ScheduleFollowUpInput,
    SendInMailInput,
    SendInMailPayload,
    SendInMailsInput,
    SendInMailsPayload,
    SendResult,
)
from .types.operator import (
    AddSeatInput,
    AddSeatPayload,
    CreateContractInput,
    CreateContractPayload,
    SetRecruiterRestrictedInput,
    SetRecruiterRestrictedPayload,
    UpsertCandidateInput,
    UpsertCandidatePayload,
)
from .types.settings import (
    SetDailyLimitInput,
    SetDailyLimitPayload,
    SetFollowUpsEnabledInput,
    SetFollowUpsEnabledPayload,
    SetRescheduleOnDailyLimitInput,
    SetRescheduleOnDailyLimitPayload,
    SetSendWindowInput,
    SetSendWindowPayload,
)
from .types.templates import (
    DeleteTemplateInput,
    DeleteTemplatePayload,
    SaveTemplateInput,
    SaveTemplatePayload,
    Template,
)
from .types.threads import Thread


@strawberry.type
class Mutation:
    # ---- a recruiter's messages ---------------------------------------------------------

    @mutation("Send a first message now, optionally with its follow-up (R01, R10-R12, R40-R44).")
    def send_in_mail(self, info: Info, input: SendInMailInput) -> SendInMailPayload:
        result = info.context.call(send.send_inmail, input.request())
        errors = [UserError.from_refusal(result.error)] if result.error else []
        return SendInMailPayload(thread=Thread.from_domain(result.thread), user_errors=errors)

    @mutation(
        "Send one InMail (and follow-up) to 1 to 25 distinct candidates, each an independent send; "
        "results in input order (R90, R91)."
    )
    def send_in_mails(self, info: Info, input: SendInMailsInput) -> SendInMailsPayload:
        from ..services import bulk_send  # loaded on first use, off the cold start's path

        results = info.context.call(bulk_send.send_inmails, input.request())
        return SendInMailsPayload(results=[SendResult.from_domain(r) for r in results])

    @mutation("Schedule the follow-up of a thread that has none (R02, R10-R12, R14).")
    def schedule_follow_up(self, info: Info, input: ScheduleFollowUpInput) -> FollowUpPayload:
        thread = info.context.call(follow_ups.schedule_follow_up, input.request())
        return FollowUpPayload(thread=Thread.from_domain(thread))

    @mutation("Schedule again a follow-up that was cancelled (R13, R29).")
    def reschedule_follow_up(self, info: Info, input: RescheduleFollowUpInput) -> FollowUpPayload:
        thread = info.context.call(follow_ups.reschedule_follow_up, input.request())
        return FollowUpPayload(thread=Thread.from_domain(thread))

    @mutation("Cancel a scheduled follow-up; its credit is refunded (R13).")
    def cancel_follow_up(self, info: Info, input: CancelFollowUpInput) -> FollowUpPayload:
        thread = info.context.call(follow_ups.cancel_follow_up, str(input.thread_id))
        return FollowUpPayload(thread=Thread.from_domain(thread))

    # ---- templates ----------------------------------------------------------------------

    @mutation(
        "Save a template of the contract: create it (no id), or change it as its author or a contract admin (R92)."
    )
    def save_template(self, info: Info, input: SaveTemplateInput) -> SaveTemplatePayload:
        from ..services import templates

        template = info.context.call(templates.save_template, input.request())
        return SaveTemplatePayload(template=Template.from_domain(template))

    @mutation("Delete a template, as its author or a contract admin (R92).")
    def delete_template(self, info: Info, input: DeleteTemplateInput) -> DeleteTemplatePayload:
        from ..services import templates

        deleted = info.context.call(templates.delete_template, str(input.id))
        return DeleteTemplatePayload(deleted_id=strawberry.ID(deleted))

    # ---- sending settings ---------------------------------------------------------------

    @mutation("Contract admins only: switch automated follow-ups on or off for every user on the contract (R50, R51).")
    def set_follow_ups_enabled(self, info: Info, input: SetFollowUpsEnabledInput) -> SetFollowUpsEnabledPayload:
        contract = info.context.call(sending_settings.set_follow_ups_enabled, input.enabled)
        return SetFollowUpsEnabledPayload(
            contract=Contract.from_domain(queries.contract_view(info.context.deps, contract))
        )

    @mutation("Contract admins only: the contract's send window, or null to remove it (R71).")
    def set_send_window(self, info: Info, input: SetSendWindowInput) -> SetSendWindowPayload:
        contract = info.context.call(sending_settings.set_send_window, input.request())
        return SetSendWindowPayload(contract=Contract.from_domain(queries.contract_view(info.context.deps, contract)))

    @mutation("Contract admins only: move follow-ups that meet the daily maximum to the next day (R74).")
    def set_reschedule_on_daily_limit(
        self, info: Info, input: SetRescheduleOnDailyLimitInput
    ) -> SetRescheduleOnDailyLimitPayload:
        contract = info.context.call(sending_settings.set_reschedule_on_daily_limit, input.enabled)
        return SetRescheduleOnDailyLimitPayload(
            contract=Contract.from_domain(queries.contract_view(info.context.deps, contract))
        )

    @mutation("Set the caller's own daily maximum, up to the contract's cap (R42).")
    def set_daily_limit(self, info: Info, input: SetDailyLimitInput) -> SetDailyLimitPayload:
        seat = info.context.call(sending_settings.set_daily_limit, input.daily_limit)
        return SetDailyLimitPayload(seat=Seat.from_domain(queries.seat_view(info.context.deps, seat)))

    # ---- a candidate's reply ------------------------------------------------------------

    @mutation("Candidates only: reply in a thread sent to them (R05-R07).")
    def reply_to_in_mail(self, info: Info, input: ReplyToInMailInput) -> ReplyToInMailPayload:
        thread = info.context.call(reply.reply_to_inmail, str(input.thread_id), text(input.body))
        return ReplyToInMailPayload(thread=Thread.from_domain(thread, for_candidate=True))

    # ---- the operator -------------------------------------------------------------------

    @mutation("Operator only: create a contract.")
    def create_contract(self, info: Info, input: CreateContractInput) -> CreateContractPayload:
        contract = info.context.call(operator.create_contract, input.request())
        return CreateContractPayload(contract=Contract.from_domain(queries.contract_view(info.context.deps, contract)))

    @mutation("Operator only: add a recruiter seat to a contract.")
    def add_seat(self, info: Info, input: AddSeatInput) -> AddSeatPayload:
        seat = info.context.call(operator.add_seat, input.request())
        return AddSeatPayload(seat=Seat.from_domain(queries.seat_view(info.context.deps, seat)))

    @mutation("Operator only: register a candidate profile, or mark it deleted.")
    def upsert_candidate(self, info: Info, input: UpsertCandidateInput) -> UpsertCandidatePayload:
        candidate = info.context.call(
            operator.upsert_candidate, str(input.candidate_id), text(input.name), input.deleted, **input.profile()
        )
        return UpsertCandidatePayload(candidate=Candidate.from_domain(candidate))

    @mutation("Operator only: flag or unflag a recruiter (R22, R43).")
    def set_recruiter_restricted(self, info: Info, input: SetRecruiterRestrictedInput) -> SetRecruiterRestrictedPayload:
        seat = info.context.call(operator.set_recruiter_restricted, str(input.recruiter_id), input.restricted)
        return SetRecruiterRestrictedPayload(seat=Seat.from_domain(queries.seat_view(info.context.deps, seat)))
