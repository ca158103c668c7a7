"""How failures reach the client: userErrors for refusals, coded GraphQL errors for
identity and permission, a masked message (with a correlation id in the logs) for the rest."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from graphql import GraphQLError

from ..domain.errors import AccessDenied, ErrorCode, Refusal, TransientStoreError, Unauthenticated

log = logging.getLogger(__name__)

T = TypeVar("T")


class ApiError(GraphQLError):
    """A GraphQL error the client is meant to see, with extensions.code."""

    def __init__(self, message: str, code: str):
        super().__init__(message, extensions={"code": code})


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


@contextmanager
def _identity_errors() -> Iterator[None]:
    """Identity and permission failures are GraphQL errors, for queries and mutations alike."""
    try:
        yield
    except Unauthenticated as exc:
        raise unauthenticated() from exc
    except AccessDenied as exc:
        raise forbidden(str(exc)) from exc


def read(fn: Callable[[], T]) -> T:
    """Run a query's service call, turning domain errors into GraphQL errors."""
    with _identity_errors():
        try:
            return fn()
        except Refusal as exc:
            raise ApiError(exc.message, "BAD_USER_INPUT") from exc
        except TransientStoreError as exc:
            raise ApiError("The service is busy; try again.", "SERVICE_UNAVAILABLE") from exc


def mutate(fn: Callable[[], T], on_refusal: Callable[[Refusal], T]) -> T:
    """Run a mutation's service call: refusals become the payload's userErrors."""
    with _identity_errors():
        try:
            return fn()
        except Refusal as exc:
            return on_refusal(exc)
        except TransientStoreError:
            return on_refusal(Refusal(ErrorCode.TECHNICAL_ISSUE, "The service is busy; try again."))
