"""The GraphQL schema. `schema.graphql` beside this file is its exported SDL (kept in sync by a test)."""

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from operations.access import AccessDenied
from schema.errors import BadRequest
from schema.root import Mutation, Query, Subscription


def _is_bug(error: GraphQLError) -> bool:
    """Mask only unexpected exceptions; validation, bad-argument and auth errors stay readable."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError | AccessDenied)


class AccessErrorCodes(SchemaExtension):
    """Give refusals a machine-readable code: extensions.code = UNAUTHENTICATED | FORBIDDEN."""

    def on_execute(self):
        yield
        result = self.execution_context.result
        for error in getattr(result, "errors", None) or []:
            if isinstance(error.original_error, AccessDenied):
                error.extensions = {**(error.extensions or {}), "code": error.original_error.code}


class BranchlineSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context=None) -> None:
        """Log what went wrong, but not refusals: a missing or expired token and a caller acting outside
        their branches are answers (UNAUTHENTICATED, FORBIDDEN), and logging each with a traceback
        would bury real faults in a busy shop's logs."""
        faults = [e for e in errors if not isinstance(e.original_error, AccessDenied)]
        if faults:
            super().process_errors(faults, execution_context)


def build_schema(
    *, max_depth: int = 12, max_tokens: int = 4000, max_aliases: int = 30, introspection: bool = True
) -> strawberry.Schema:
    extensions = [
        lambda: QueryDepthLimiter(max_depth=max_depth),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: MaxAliasesLimiter(max_alias_count=max_aliases),
        lambda: MaskErrors(should_mask_error=_is_bug, error_message="Unexpected error."),
        AccessErrorCodes,
        # POS clients send the same few documents all day: parse and validate each text once.
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ]
    if not introspection:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    return BranchlineSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(auto_camel_case=True),
        extensions=extensions,
    )


schema = build_schema()

__all__ = ["BadRequest", "build_schema", "schema"]
