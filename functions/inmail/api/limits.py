"""Validation rules bounding what one request may ask for, beyond Strawberry's own limiters."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from functools import cache

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
from strawberry.extensions.max_aliases import create_validator as aliases_validator
from strawberry.extensions.query_depth_limiter import create_validator

# The Query fields returning many items: connections (a page of at most 100) and the
# contract's templates (at most 100). A test holds this to the schema.
LISTINGS = frozenset({"awaitingReply", "sentThreads", "inbox", "creditLedger", "templates"})

# Fields counted per operation, through aliases and fragments, and how many each may have.
# One schema introspection is what GraphiQL and codegen send: twenty aliased copies would
# turn a 2 KB request into megabytes. A page reads up to `first` (at most 100) items: twenty
# aliased pages would be thousands of reads and a response over API Gateway's 6 MB.
COUNTED_FIELDS: tuple[tuple[frozenset[str], int, str], ...] = (
    (frozenset({"__schema"}), 1, "`__schema` field(s)"),
    (frozenset({"__type"}), 10, "`__type` field(s)"),
    (LISTINGS, 5, "listings (pages)"),
)


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


class FieldCountLimit(ValidationRule):
    """COUNTED_FIELDS per operation. (Strawberry's depth limit skips introspection, and
    graphql-core bounds only how deep it nests; aliases multiply pages.)"""

    def __init__(self, context: ValidationContext):
        super().__init__(context)
        fragments = _fragments(context.document)
        for operation in context.document.definitions:
            if not isinstance(operation, OperationDefinitionNode):
                continue
            names = Counter(field.name.value for field in _fields(operation.selection_set, fragments))
            for fields, limit, what in COUNTED_FIELDS:
                asked = sum(names[name] for name in fields)
                if asked > limit:
                    message = f"At most {limit} {what} per operation; this asks {asked}."
                    context.report_error(GraphQLError(message, operation))


@cache
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
    """The depth, alias and field-count rules. The same rule classes for every request (made
    once, cached): strawberry's ValidationCache keys on them, beside the document."""

    def __init__(self, max_depth: int, max_aliases: int):
        super().__init__([depth_limit(max_depth), aliases_limit(max_aliases), FieldCountLimit])


aliases_limit = cache(aliases_validator)  # Strawberry's MaxAliasesLimiter makes a new class per request
