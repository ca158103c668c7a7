"""The GraphQL schema: the queries and mutations, and the limits every request is held to."""

from __future__ import annotations

import logging
from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from .context import Context
from .errors import should_mask
from .limits import RequestLimits
from .mutations import Mutation
from .queries import Query

log = logging.getLogger(__name__)

MAX_DEPTH = 8
MAX_ALIASES = 20
MAX_TOKENS = 2_000


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
    lambda: RequestLimits(max_depth=MAX_DEPTH, max_aliases=MAX_ALIASES),
    lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
    lambda: MaskErrors(should_mask_error=should_mask, error_message="Unexpected error. It was logged."),
    # A bounded LRU shared across requests: a warm Lambda parses a frontend's operation once.
    lambda: ParserCache(maxsize=256),
    # Validation is a pure function of the parsed document (shared by ParserCache) and the
    # rules (the same classes every request): a quarter of the local stack's CPU under load.
    lambda: ValidationCache(maxsize=256),
]

schema = InMailSchema(query=Query, mutation=Mutation, extensions=_LIMITS)
