"""The one way a mutation turns an operation's outcome into its payload."""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from operations.kernel import OperationError
from schema.errors import user_errors

P = TypeVar("P")


async def payload(payload_type: type[P], run: Callable[[], Awaitable[dict[str, Any]]]) -> P:
    """`run` returns the payload's fields; a business failure becomes `errors` and nothing changed."""
    try:
        return payload_type(**await run())
    except OperationError as error:
        return payload_type(errors=user_errors(error))
