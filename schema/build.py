"""The schema built from the root types (schema/root.py, which wires the resolvers) and the edge's
rules and extensions. `schema.graphql` in this package is its exported SDL (kept in sync by a test)."""

import logging

import strawberry
from graphql import GraphQLError, GraphQLInputObjectType
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaskErrors, MaxTokensLimiter, ParserCache
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.graphql import OperationType

from operations.kernel import AccessDenied
from schema.client_errors import is_client_error, is_model_validation, is_refusal, tidy
from schema.edge import EdgeChecks
from schema.limits import query_limits_rule
from schema.root import Mutation, Query, Subscription
from schema.scalars import SCALARS
from schema.text_limits import text_limits_rule

log = logging.getLogger("branchline.graphql")


def _is_bug(error: GraphQLError) -> bool:
    """Mask only unexpected exceptions; validation, bad-argument and auth errors stay readable."""
    return not is_client_error(error) and not isinstance(error.original_error, AccessDenied)


class BranchlineSchema(strawberry.Schema):
    def __init__(self, *args, hide_suggestions: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.hide_suggestions = hide_suggestions

    async def execute(self, *args, allowed_operation_types=None, **kwargs):
        """Subscriptions stream over WebSocket only (which subscribes, never executes): over plain HTTP,
        Strawberry would run one as a query and fail on the stream ("Unexpected error."). Refused
        there as the wrong operation type: HTTP 400."""
        if allowed_operation_types is not None:
            allowed_operation_types = set(allowed_operation_types) - {OperationType.SUBSCRIPTION}
        return await super().execute(*args, allowed_operation_types=allowed_operation_types, **kwargs)

    def process_errors(self, errors: list[GraphQLError], execution_context=None) -> None:
        """Every error of a request comes here before it is answered (and masked).

        Refusals (UNAUTHENTICATED, FORBIDDEN) are answers: not logged. A client's mistake (a document
        that does not validate, a variable that cannot be read, a limit) is logged once at INFO,
        without a traceback and without the values; at WARNING when it is a text only the ORM refused
        (an operation may be missing a check). Only the rest are faults, logged as errors with their
        tracebacks."""
        for error in errors:
            tidy(error, hide_suggestions=self.hide_suggestions)
        client = [e for e in errors if is_client_error(e) and not is_refusal(e)]
        if client:
            name = getattr(execution_context, "operation_name", None) or "anonymous"
            shown = "; ".join(e.message for e in client[:3]) + (
                f" (+{len(client) - 3} more)" if len(client) > 3 else ""
            )
            level = logging.WARNING if any(map(is_model_validation, client)) else logging.INFO
            log.log(level, "client error in operation '%s': %s", name, shown)
        faults = [e for e in errors if not is_client_error(e) and not is_refusal(e)]
        if faults:
            super().process_errors(faults, execution_context)


def _one_of_known_to_graphql_core(schema: strawberry.Schema) -> None:
    """Strawberry checks its @oneOf inputs after graphql-core has read them, and a variable naming a
    variant two ways then fails with a bare message that says neither where nor which code. Marked as
    oneOf for graphql-core (which knows them since 3.3), it is refused like any bad variable, "Variable
    '$input' has invalid value at .lines[0].variant: ... exactly one field must be specified ...",
    code BAD_USER_INPUT (schema/client_errors.py), and a literal by graphql-core's validation rules."""
    for graphql_type in schema._schema.type_map.values():
        if isinstance(graphql_type, GraphQLInputObjectType):
            definition = (graphql_type.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if definition is not None and definition.is_one_of:
                graphql_type.is_one_of = True


def build_schema(
    *,
    max_depth: int = 12,
    max_tokens: int = 4000,
    max_aliases: int = 30,
    max_cost: int = 3000,
    max_text_length: int = 10_000,
    introspection: bool = True,
) -> strawberry.Schema:
    # Made once per schema: the validation cache is keyed by these very rule classes.
    rules = (
        query_limits_rule(max_depth=max_depth, max_cost=max_cost, max_aliases=max_aliases),
        text_limits_rule(max_text_length),
        *(() if introspection else (NoSchemaIntrospectionCustomRule,)),
    )
    extensions = [
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: MaskErrors(should_mask_error=_is_bug, error_message="Unexpected error."),
        # POS clients send the same few documents all day: parse each text once (EdgeChecks
        # validates each document once).
        lambda: ParserCache(maxsize=256),
        lambda: EdgeChecks(rules=rules, introspection=introspection, max_text_length=max_text_length),
    ]
    built = BranchlineSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALARS),
        extensions=extensions,
        hide_suggestions=not introspection,
    )
    _one_of_known_to_graphql_core(built)
    return built


schema = build_schema()
