"""What every area of the schema shares: the enums, page info, user errors, and how text
arrives."""

import unicodedata
from typing import Any

import strawberry

from ...domain import model as dm
from ...domain.errors import ErrorCode, Refusal

Role = strawberry.enum(dm.Role, name="Role")
MessageKind = strawberry.enum(dm.MessageKind, name="MessageKind")
MessageStatus = strawberry.enum(dm.MessageStatus, name="MessageStatus")
ThreadStatus = strawberry.enum(dm.ThreadStatus, name="ThreadStatus")
FailureCode = strawberry.enum(dm.FailureCode, name="FailureCode")
CreditEntryKind = strawberry.enum(dm.LedgerKind, name="CreditEntryKind")
UserErrorCode = strawberry.enum(ErrorCode, name="UserErrorCode")
Weekday = strawberry.enum(dm.Weekday, name="Weekday")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None

    @staticmethod
    def from_page(page: dm.Page[Any]) -> "PageInfo":
        return PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor)


@strawberry.type(
    description="A business-rule refusal. Authentication and permission failures are GraphQL "
    "errors with extensions.code UNAUTHENTICATED or FORBIDDEN instead."
)
class UserError:
    code: UserErrorCode  # type: ignore[valid-type]
    field: list[str] | None = strawberry.field(description="Path to the input field at fault, if any.")
    message: str

    @staticmethod
    def from_refusal(r: Refusal) -> "UserError":
        return UserError(code=r.code, field=list(r.field) if r.field else None, message=r.message)


def text(value: str) -> str:
    """Text as its composed (NFC) form: R45 counts characters, and "é" typed as e plus an
    accent is one character, stored the same whichever way the keyboard sent it."""
    return unicodedata.normalize("NFC", value)
