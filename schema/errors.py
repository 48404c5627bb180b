"""Typed business errors in mutation payloads, and GraphQL errors for bad query arguments."""

import strawberry
from graphql import GraphQLError

from operations.kernel import ErrorCode as OperationCode
from operations.kernel import OperationError
from schema.enums import mirrored

ErrorCode = mirrored(OperationCode, "ErrorCode")


@strawberry.type(description="Why a mutation did nothing. `field` is the input path, e.g. `lines.0.quantity`.")
class UserError:
    field: str | None
    message: str
    code: ErrorCode  # type: ignore[valid-type]


def user_errors(error: OperationError) -> list[UserError]:
    return [UserError(field=p.field, message=p.message, code=ErrorCode[p.code.name]) for p in error.problems]


def user_error(code: OperationCode, message: str, field: str | None) -> UserError:
    return UserError(field=field, message=message, code=ErrorCode[code.name])


class BadRequest(GraphQLError):
    """A query or subscription argument that cannot be served; shown to the client as is."""

    def __init__(self, message: str, *, code: str = "BAD_USER_INPUT", field: str | None = None):
        super().__init__(message, extensions={"code": code, **({"field": field} if field else {})})
