"""Errors that are the client's doing, and how they are worded back to the client and in the logs.

A refused variable's message quotes the value graphql-core could not read (`String cannot represent
a non string value: <the value>`, `... found: {'email': ..., 'password': ...}`). That value may be
a password or a Shopify token sent in the wrong shape, so it is cut from the message before the
message is answered or logged. "Did you mean 'createStaff'?" lists schema names: cut when
introspection is off, so the schema is not read out one typo at a time. A text the ORM refuses as
too long for its column (where an operation has no check of its own) is answered as the client's
mistake too, on both backends, instead of "Unexpected error.".
"""

import re

from graphql import GraphQLError
from strawberry.utils.str_converters import to_camel_case
from tortoise.exceptions import ValidationError as ModelValidationError

from operations.kernel import AccessDenied

REFUSAL_CODES = frozenset({"UNAUTHENTICATED", "FORBIDDEN"})

_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")
# Where graphql-core appends the value it refused. Each pattern drops the value and what follows it.
_FOUND = re.compile(r"(?:, but encountered error |, found| Found:).*\Z", re.S)
_CANNOT_REPRESENT = re.compile(r"( cannot represent [^:]*): .*\Z", re.S)  # String, Int, ..., Enum 'E', Strawberry's
_NO_SUCH_ENUM_VALUE = re.compile(r"\bValue '.*?' does not exist in '", re.S)
# Tortoise checks a CharField's max_length when a value is saved or filtered on, on every backend,
# and says so quoting the value: "vendor: Length of '...' 300 > 120".
_TOO_LONG_FOR_COLUMN = re.compile(r"(\w+): Length of '.*' \d+ > (\d+)", re.S)


def is_refusal(error: GraphQLError) -> bool:
    """UNAUTHENTICATED or FORBIDDEN: an answer, not a fault."""
    return isinstance(error.original_error, AccessDenied) or (error.extensions or {}).get("code") in REFUSAL_CODES


def is_client_error(error: GraphQLError) -> bool:
    """A document that does not parse or validate, a variable or argument that cannot be read, a
    limit exceeded, a BadRequest from a resolver, a text too long for its column: nothing went
    wrong on our side."""
    original = error.original_error
    return original is None or isinstance(original, GraphQLError | ModelValidationError)


def is_model_validation(error: GraphQLError) -> bool:
    """A value the operations let through and the ORM refused: the client's, or a check missing."""
    return isinstance(error.original_error, ModelValidationError)


def without_values(message: str) -> str:
    if "Expected value of type" in message:
        message = _FOUND.sub(lambda m: "" if message[m.start() - 1] in ".?" else ".", message)
    message = _CANNOT_REPRESENT.sub(r"\1.", message)
    return _NO_SUCH_ENUM_VALUE.sub("The value does not exist in '", message)


def without_suggestions(message: str) -> str:
    return _SUGGESTION.sub("", message)


def tidy(error: GraphQLError, *, hide_suggestions: bool) -> None:
    """Reword a client error in place (idempotent: cached validation errors come back here again)."""
    if not is_client_error(error):
        return
    if is_model_validation(error):
        _reword_model_validation(error)
        return
    message = without_values(error.message)
    error.message = without_suggestions(message) if hide_suggestions else message
    if message.startswith("Variable '$") and "code" not in (error.extensions or {}):
        error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}


def _reword_model_validation(error: GraphQLError) -> None:
    too_long = _TOO_LONG_FOR_COLUMN.fullmatch(str(error.original_error))
    if too_long:
        field = to_camel_case(too_long[1])
        error.message = f"'{field}' is longer than {too_long[2]} characters"
    else:
        field = to_camel_case(str(error.original_error).partition(":")[0])
        error.message = f"'{field}' has a value that cannot be stored"
    error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT", "field": field}
