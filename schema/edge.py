"""What every operation passes before any resolver runs, over HTTP and WebSocket alike.

1. A caller without a session may only sign in: any other root field is answered UNAUTHENTICATED
   here, so no resolver can tell a stranger that something does not exist (NOT_FOUND) or how a
   document it should not send would fail. WebSockets already refuse a connection_init without a
   valid token; this covers HTTP, where each request may come without one.
2. Validation: graphql-core's rules, Strawberry's, our size limits (schema/limits.py) and text
   limits (schema/text_limits.py), cached per document so a POS client's few documents are checked
   once. Suggestions ("Did you mean ...?") are left out when introspection is off.
3. The variables' text, which changes with every request, so it is checked outside the cache.
"""

from collections.abc import Iterator
from functools import lru_cache

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    validate,
)
from graphql.validation import ASTValidationRule, OverlappingFieldsCanBeMergedRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule

from operations.kernel import ANONYMOUS, AccessDenied
from schema.text_limits import variable_errors

# Root fields a caller without a session may ask for (besides introspection, when it is on).
SIGN_IN_FIELDS = {
    OperationType.QUERY: frozenset({"__typename"}),
    OperationType.MUTATION: frozenset({"__typename", "login", "counterLogin"}),
    OperationType.SUBSCRIPTION: frozenset({"__typename"}),
}
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})

# graphql-core's overlapping-fields rule compares fields sharing a response name pairwise, under a
# work budget of 500,000 units: 990 copies of `me { id }` (within the token limit) exhaust it after
# three quarters of a second of CPU. The documents in our tests and README spend under a hundred
# units, so a much smaller budget answers such a document "Validation aborted." in milliseconds.
OVERLAP_BUDGET = 20_000


class BudgetedOverlappingFields(OverlappingFieldsCanBeMergedRule):
    def __init__(self, context):
        super().__init__(context)
        self.rule_context.remaining_complexity_budget = OVERLAP_BUDGET


def _with_budget(rules: tuple[type[ASTValidationRule], ...]) -> tuple[type[ASTValidationRule], ...]:
    return tuple(BudgetedOverlappingFields if r is OverlappingFieldsCanBeMergedRule else r for r in rules)


@lru_cache(maxsize=256)
def _validate(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    # Keyed by the document object: the parser cache hands out the same one for the same text.
    return validate(schema, document, rules, hide_suggestions=hide_suggestions)


def _root_fields(document: DocumentNode, operation_name: str | None) -> Iterator[tuple[OperationType, str]]:
    """The root fields of the operation that will run (of every operation when that is not clear
    yet; execution then refuses the document), through fragments, each fragment once."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    for operation in operations:
        seen: set[str] = set()
        pending = list(operation.selection_set.selections)
        while pending:
            node = pending.pop()
            if isinstance(node, FieldNode):
                yield operation.operation, node.name.value
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                if name in fragments and name not in seen:
                    seen.add(name)
                    pending.extend(fragments[name].selection_set.selections)
            elif node.selection_set is not None:  # an inline fragment
                pending.extend(node.selection_set.selections)


def signs_in_only(document: DocumentNode, operation_name: str | None, *, introspection: bool) -> bool:
    for operation_type, field in _root_fields(document, operation_name):
        allowed = SIGN_IN_FIELDS[operation_type]
        if field not in allowed and not (introspection and field in INTROSPECTION_FIELDS):
            return False
    return True


def _has_session(context) -> bool:
    actor = getattr(context, "actor", None)
    return actor is not None and actor.name != ANONYMOUS.name


def unauthenticated() -> GraphQLError:
    refusal = AccessDenied("sign in first: send Authorization: Bearer <token>", code="UNAUTHENTICATED")
    return GraphQLError(str(refusal), original_error=refusal)


class EdgeChecks(SchemaExtension):
    """Replaces Strawberry's validation step (and its ValidationCache) with the checks above."""

    def __init__(
        self,
        *,
        rules: tuple[type[ASTValidationRule], ...],
        introspection: bool,
        max_text_length: int,
    ):
        super().__init__()
        self.rules = rules
        self.introspection = introspection
        self.max_text_length = max_text_length

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if not _has_session(context.context) and not signs_in_only(
            document, context.operation_name, introspection=self.introspection
        ):
            context.pre_execution_errors = [unauthenticated()]
        else:
            rules = (
                *_with_budget(tuple(context.validation_rules)),
                # @oneOf inputs are checked by graphql-core's own rules (schema/build.py marks them).
                MaybeNullValidationRule,
                *self.rules,
            )
            errors = _validate(context.schema._schema, document, rules, not self.introspection)
            if not errors:
                errors = variable_errors(context.variables, self.max_text_length)
            context.pre_execution_errors = errors
        yield
