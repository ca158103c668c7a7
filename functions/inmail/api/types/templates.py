"""R92: a contract's saved templates, their inputs and payloads."""

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry

from ...domain import model as dm
from .common import UserError, text

if TYPE_CHECKING:  # the templates' use cases load on first use, off the cold start's path
    from ...services.templates import SaveRequest


@strawberry.type(description="A contract's saved subject, body and follow-up body, with placeholders (R91, R92).")
class Template:
    id: strawberry.ID
    name: str
    subject: str
    body: str
    follow_up_body: str | None
    author_id: strawberry.ID
    updated_at: datetime

    @staticmethod
    def from_domain(t: dm.Template) -> "Template":
        return Template(
            id=strawberry.ID(t.template_id),
            name=t.name,
            subject=t.subject,
            body=t.body,
            follow_up_body=t.follow_up_body,
            author_id=strawberry.ID(t.author_id),
            updated_at=t.updated_at,
        )


@strawberry.input
class SaveTemplateInput:
    id: strawberry.ID | None = strawberry.field(
        default=None, description="Omit to create; give to change an existing one."
    )
    name: str = strawberry.field(description="Unique within the contract, whatever its case and spacing.")
    subject: str
    body: str
    follow_up_body: str | None = None

    def request(self) -> "SaveRequest":
        from ...services.templates import SaveRequest

        return SaveRequest(
            template_id=None if self.id is None else str(self.id),
            name=text(self.name),
            subject=text(self.subject),
            body=text(self.body),
            follow_up_body=None if self.follow_up_body is None else text(self.follow_up_body),
        )


@strawberry.type
class SaveTemplatePayload:
    template: Template | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class DeleteTemplateInput:
    id: strawberry.ID


@strawberry.type
class DeleteTemplatePayload:
    deleted_id: strawberry.ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
