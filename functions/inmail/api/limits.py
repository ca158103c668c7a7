"""Validation rules bounding what one request may ask for, beyond Strawberry's own limiters."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import AddValidationRules
from strawberry.extensions.query_depth_limiter import create_validator

# One schema introspection per operation is what GraphiQL and codegen send; twenty aliased
# copies would turn a 2 KB request into megabytes of response.
MAX_SCHEMA_INTROSPECTIONS = 1
MAX_TYPE_INTROSPECTIONS = 10
# Pages per operation: each reads up to `first` (at most 100) items, so aliases could
# otherwise ask one request for thousands of reads and a response over API Gateway's 6 MB.
MAX_LISTINGS = 5
LISTINGS = frozenset(
    {"awaitingReply", "sentThreads", "inbox", "creditLedger"}
)  # the Query fields returning connections


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _fields(
    selections: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str] = frozenset(),
) -> Iterator[FieldNode]:
    """Every field an operation selects, each fragment spread expanded where it is spread
    (a cycle or an unknown fragment is left to graphql-core's own rules)."""
    for selection in selections.selections if selections else ():
        if isinstance(selection, FieldNode):
            yield selection
            yield from _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:
                yield from _fields(fragments[name].selection_set, fragments, seen | {name})


class IntrospectionLimit(ValidationRule):
    """At most MAX_SCHEMA_INTROSPECTIONS `__schema` and MAX_TYPE_INTROSPECTIONS `__type`
    fields per operation, counted through aliases and fragments. (Strawberry's depth limit
    skips introspection, and graphql-core bounds only how deep it nests.)"""

    def __init__(self, context: ValidationContext):
        super().__init__(context)
        fragments = _fragments(context.document)
        for operation in context.document.definitions:
            if not isinstance(operation, OperationDefinitionNode):
                continue
            names = [field.name.value for field in _fields(operation.selection_set, fragments)]
            for field, limit in (("__schema", MAX_SCHEMA_INTROSPECTIONS), ("__type", MAX_TYPE_INTROSPECTIONS)):
                if names.count(field) > limit:
                    context.report_error(GraphQLError(f"At most {limit} `{field}` field(s) per operation.", operation))


class ListingLimit(ValidationRule):
    """At most MAX_LISTINGS paginated listings per operation, through aliases and fragments."""

    def __init__(self, context: ValidationContext):
        super().__init__(context)
        fragments = _fragments(context.document)
        for operation in context.document.definitions:
            if not isinstance(operation, OperationDefinitionNode):
                continue
            listings = sum(field.name.value in LISTINGS for field in _fields(operation.selection_set, fragments))
            if listings > MAX_LISTINGS:
                context.report_error(
                    GraphQLError(
                        f"At most {MAX_LISTINGS} listings (pages) per operation; this asks {listings}.", operation
                    )
                )


def depth_limit(max_depth: int) -> type[ValidationRule]:
    """Strawberry's depth rule, run only when every fragment spread names a fragment the
    document defines: on an unknown one it raises KeyError, where graphql-core's
    KnownFragmentNamesRule gives the client a proper validation error."""
    depth_rule = create_validator(max_depth, should_ignore=None)

    class DepthLimit(ValidationRule):
        def __init__(self, context: ValidationContext):
            super().__init__(context)
            fragments = _fragments(context.document)
            spreads = {
                field.name.value
                for definition in context.document.definitions
                if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode)
                for field in _spreads(definition.selection_set)
            }
            if spreads <= fragments.keys():
                depth_rule(context)  # reports on the context as it is built

    return DepthLimit


def _spreads(selections: SelectionSetNode | None) -> Iterator[FragmentSpreadNode]:
    for selection in selections.selections if selections else ():
        if isinstance(selection, FragmentSpreadNode):
            yield selection
        elif isinstance(selection, FieldNode | InlineFragmentNode):
            yield from _spreads(selection.selection_set)


class RequestLimits(AddValidationRules):
    def __init__(self, max_depth: int):
        super().__init__([depth_limit(max_depth), IntrospectionLimit, ListingLimit])
