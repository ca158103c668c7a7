"""R92: a contract's templates. Any recruiter of the contract lists and uses them; only the
author or a contract admin changes or deletes one. Names are unique within the contract,
held by a name claim written in the same transaction as the template (never read, then
written). Every read names the caller's contract, so another contract's template is
NOT_FOUND (R60)."""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

from ..domain import personalization, rules
from ..domain.errors import AccessDenied, ErrorCode, LimitExceeded, NameTaken, Refusal
from ..domain.model import Changes, CounterChange, CounterKind, NameClaim, Principal, Seat, Template
from . import access, refusals
from .deps import Deps
from .retries import commit_or_technical_issue, retry_on_conflict

ID = ("input", "id")
NAME = ("input", "name")


class SaveRequest(NamedTuple):
    template_id: str | None  # None: a new template
    name: str
    subject: str
    body: str
    follow_up_body: str | None


def list_templates(deps: Deps, principal: Principal) -> list[Template]:
    """The caller's contract's templates, by name."""
    seat = access.acting_seat(deps, principal)
    return deps.store.list_templates(seat.contract_id)


def usable(deps: Deps, seat: Seat, template_id: str, field: tuple[str, ...]) -> Template:
    """A template of the seat's contract; any other id, another contract's included, is
    NOT_FOUND, so a template's existence never leaks."""
    template = deps.store.get_template(seat.contract_id, template_id)
    if template is None:
        raise Refusal(ErrorCode.NOT_FOUND, "No such template.", field)
    return template


def save_template(deps: Deps, principal: Principal, request: SaveRequest) -> Template:
    """Create a template (no id) or change one (its author or a contract admin)."""
    seat = access.acting_seat(deps, principal)
    _validate(request)
    if request.template_id is None:
        return _create(deps, seat, request)
    return _change(deps, principal, seat, request)


def _validate(request: SaveRequest) -> None:
    """R45 and R91 on the texts as written: a template saved is a template that can be used."""
    if request.template_id is not None:
        rules.check_id(request.template_id, ID, "id")
    rules.check_text(request.name, NAME, 1, rules.NAME_MAX, "Name")
    personalization.subject(request.subject, ("input", "subject"))
    personalization.body(request.body, ("input", "body"))
    if request.follow_up_body is not None:
        personalization.body(request.follow_up_body, ("input", "followUpBody"))


def _create(deps: Deps, seat: Seat, request: SaveRequest) -> Template:
    template = Template(
        template_id=deps.ids.new_id(),
        contract_id=seat.contract_id,
        name=request.name,
        subject=request.subject,
        body=request.body,
        follow_up_body=request.follow_up_body,
        author_id=seat.recruiter_id,
        updated_at=deps.clock.now(),
    )
    changes = Changes()
    stored = changes.put(template, None)
    changes.claim_name(_claim(stored))
    changes.counters.append(
        CounterChange(CounterKind.TEMPLATES, rules.templates_key(seat.contract_id), 1, limit=rules.TEMPLATES_MAX)
    )
    _commit(deps, changes, request.name)
    return stored


@retry_on_conflict
def _change(deps: Deps, principal: Principal, seat: Seat, request: SaveRequest) -> Template:
    assert request.template_id is not None
    previous = _changeable(deps, principal, seat, request.template_id)
    changed = replace(
        previous,
        name=request.name,
        subject=request.subject,
        body=request.body,
        follow_up_body=request.follow_up_body,
        updated_at=deps.clock.now(),
    )
    changes = Changes()
    stored = changes.put(changed, previous)
    if _claim(previous) != _claim(stored):  # renamed: the new name is claimed, the old one let go
        changes.release_name(_claim(previous))
        changes.claim_name(_claim(stored))
    _commit(deps, changes, request.name)
    return stored


def delete_template(deps: Deps, principal: Principal, template_id: str) -> str:
    """Its author or a contract admin deletes it; its name is free again."""
    seat = access.acting_seat(deps, principal)
    rules.check_id(template_id, ID, "id")
    return _delete(deps, principal, seat, template_id)


@retry_on_conflict
def _delete(deps: Deps, principal: Principal, seat: Seat, template_id: str) -> str:
    template = _changeable(deps, principal, seat, template_id)
    changes = Changes()
    changes.delete_template(template)
    changes.release_name(_claim(template))
    changes.counters.append(CounterChange(CounterKind.TEMPLATES, rules.templates_key(template.contract_id), -1))
    commit_or_technical_issue(deps, changes)
    return template.template_id


def _changeable(deps: Deps, principal: Principal, seat: Seat, template_id: str) -> Template:
    template = usable(deps, seat, template_id, ID)
    if template.author_id != seat.recruiter_id and not access.is_admin(principal, seat):
        raise AccessDenied("Only the template's author or a contract admin may change or delete it.")
    return template


def _claim(template: Template) -> NameClaim:
    return NameClaim(template.contract_id, rules.template_name_key(template.name), template.template_id)


def _commit(deps: Deps, changes: Changes, name: str) -> None:
    try:
        commit_or_technical_issue(deps, changes)
    except NameTaken as exc:
        raise Refusal(ErrorCode.CONFLICT, f"The contract already has a template named {name!r}.", NAME) from exc
    except LimitExceeded as exc:
        raise refusals.over_limit(exc) from exc
