"""How failures reach the client: userErrors for refusals, coded GraphQL errors for
identity and permission, a masked message (with a correlation id in the logs) for the rest."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import FieldExtension
from strawberry.types import Info
from strawberry.types.field import StrawberryField

from ..domain.errors import AccessDenied, Refusal, TransientStoreError, Unauthenticated
from ..services import refusals
from .types.common import UserError

log = logging.getLogger(__name__)


class ApiError(GraphQLError):
    """A GraphQL error the client is meant to see, with extensions.code."""

    def __init__(self, message: str, code: str, **extensions: object):
        super().__init__(message, extensions={"code": code, **extensions})


def unauthenticated(message: str = "A valid bearer token is required.") -> ApiError:
    return ApiError(message, "UNAUTHENTICATED")


def forbidden(message: str) -> ApiError:
    return ApiError(message, "FORBIDDEN")


def should_mask(error: GraphQLError) -> bool:
    """Mask what we did not mean to say. Kept: validation errors, ApiErrors, and errors
    wrapping a GraphQLError, which graphql-core and Strawberry raise for clients (a variable
    or literal of the wrong type: "Variable '$first' got invalid value 'abc'...")."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class DomainErrors(FieldExtension):
    """Every root field's error mapping, so a resolver only calls its use case:

    - no verified caller: a GraphQL error UNAUTHENTICATED; not allowed: FORBIDDEN;
    - a business refusal: the payload's userErrors (a mutation), or a BAD_USER_INPUT error
      (a query, which has no payload) carrying the refusal's UserErrorCode and field;
    - the store stayed busy: a TECHNICAL_ISSUE userError, or SERVICE_UNAVAILABLE.
    """

    payload: Any = None

    def apply(self, field: StrawberryField) -> None:
        kind = field.type
        if dataclasses.is_dataclass(kind) and "user_errors" in {f.name for f in dataclasses.fields(kind)}:
            self.payload = kind

    def resolve(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        try:
            return next_(source, info, **kwargs)
        except Unauthenticated as exc:
            raise unauthenticated() from exc
        except AccessDenied as exc:
            raise forbidden(str(exc)) from exc
        except Refusal as exc:
            return self._refused(exc)
        except TransientStoreError as exc:
            return self._refused(refusals.store_busy(), exc)

    def _refused(self, refusal: Refusal, cause: Exception | None = None) -> Any:
        if self.payload is not None:
            return self.payload(user_errors=[UserError.from_refusal(refusal)])
        if cause is not None:
            raise ApiError(refusal.message, "SERVICE_UNAVAILABLE") from cause
        raise ApiError(
            refusal.message,
            "BAD_USER_INPUT",
            userErrorCode=refusal.code.value,
            field=list(refusal.field) if refusal.field else None,
        ) from refusal


def query(description: str) -> Any:
    """A root query field whose errors DomainErrors maps."""
    return strawberry.field(description=description, extensions=[DomainErrors()])


def mutation(description: str) -> Any:
    """A root mutation field whose refusals DomainErrors turns into its payload's userErrors."""
    return strawberry.mutation(description=description, extensions=[DomainErrors()])
