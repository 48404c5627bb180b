"""Exceptions raised by the Shopify Admin API client.

Every error carries a stable ``code`` so that callers (the sync jobs, the GraphQL resolvers that show
sync status) can branch on it and show it without parsing messages. Messages are written for a person
reading a log or an admin screen, and never contain credentials: the client builds them from status
codes, operation names and Shopify's own error text, and scrubs the token out of anything it echoes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shopify.bulk import BulkOperation


class ShopifyError(Exception):
    """Base class: anything that went wrong talking to Shopify."""

    code = "SHOPIFY_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class ShopifyInputError(ShopifyError, ValueError):
    """Our own input was unusable (bad shop domain, malformed document); nothing was sent."""

    code = "INVALID_INPUT"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class ShopifyAuthError(ShopifyError):
    """401/403: the token is wrong, revoked or lacks a scope. Retrying cannot help; reconnect the shop."""

    code = "SHOPIFY_AUTH"

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class ShopifyNotFound(ShopifyError):
    """404: no such shop at that domain, or the API version is not served. Retrying cannot help."""

    code = "SHOPIFY_NOT_FOUND"


class ShopifyShopUnavailable(ShopifyError):
    """402 (frozen / unpaid) or 423 (locked): the shop itself is blocked; wait for the merchant."""

    code = "SHOPIFY_SHOP_UNAVAILABLE"

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class ShopifyUnavailable(ShopifyError):
    """Shopify could not be reached or kept failing (5xx, 429, timeouts) after every allowed attempt.

    ``maybe_applied`` is True when a mutation without an idempotency key got an ambiguous failure
    (the request may have been executed); the caller must re-read state before trying again.
    """

    code = "SHOPIFY_UNAVAILABLE"

    def __init__(self, message: str, *, attempts: int, last_status: int | None = None, maybe_applied: bool = False):
        super().__init__(message)
        self.attempts = attempts
        self.last_status = last_status
        self.maybe_applied = maybe_applied


class ShopifyGraphQLError(ShopifyError):
    """The document was rejected (syntax, validation, unknown field, cost too high) or the response
    carried top-level ``errors``. ``errors`` keeps Shopify's error objects; ``data`` any partial data."""

    code = "SHOPIFY_GRAPHQL"

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None, data: Any = None) -> None:
        super().__init__(message)
        self.errors = errors or []
        self.data = data

    @property
    def error_codes(self) -> list[str]:
        return [str(e.get("extensions", {}).get("code")) for e in self.errors if e.get("extensions", {}).get("code")]


@dataclass(frozen=True)
class UserError:
    """One entry of a mutation's ``userErrors`` (a business-rule failure, not a transport failure)."""

    field: list[str] | None
    message: str
    code: str | None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> UserError:
        field = raw.get("field")
        return cls(
            field=list(field) if field is not None else None, message=str(raw.get("message", "")), code=raw.get("code")
        )


class ShopifyUserErrors(ShopifyError):
    """A mutation (or bulk request) answered with non-empty ``userErrors``: nothing, or not all, was applied."""

    code = "SHOPIFY_USER_ERRORS"

    def __init__(self, errors: list[UserError], *, field: str | None = None) -> None:
        where = f"{field}: " if field else ""
        shown = "; ".join(f"{e.message} ({e.code})" if e.code else e.message for e in errors) or "unknown user error"
        super().__init__(f"Shopify rejected {where}{shown}")
        self.errors = errors
        self.mutation = field

    @property
    def codes(self) -> list[str]:
        return [e.code for e in self.errors if e.code]


class BulkOperationFailed(ShopifyError):
    """A bulk operation ended without a usable result (FAILED, CANCELED or EXPIRED).

    ``partial_data_url`` may point at the rows Shopify got through before failing; they are not a
    complete result and must never be imported as if they were.
    """

    code = "BULK_FAILED"

    def __init__(self, operation: BulkOperation | None, message: str | None = None) -> None:
        self.operation = operation
        self.status = operation.status if operation else None
        self.error_code = operation.error_code if operation else None
        self.partial_data_url = operation.partial_data_url if operation else None
        if message is None:
            assert operation is not None
            message = f"bulk operation {operation.id} ended {operation.status}"
            if operation.error_code:
                message += f" (error code {operation.error_code})"
            if operation.partial_data_url:
                message += "; partial data is available"
        super().__init__(message)


class BulkResultExpired(BulkOperationFailed):
    """The result file's signed URL no longer works (403/404/410 or status EXPIRED): run the job again."""

    code = "BULK_RESULT_EXPIRED"

    def __init__(self, message: str, operation: BulkOperation | None = None) -> None:
        super().__init__(operation, message)


class BulkWaitTimeout(ShopifyError):
    """``wait_for_bulk`` gave up before the job finished; the job itself may still complete later."""

    code = "BULK_WAIT_TIMEOUT"

    def __init__(self, operation: BulkOperation, waited: float) -> None:
        super().__init__(f"bulk operation {operation.id} still {operation.status} after {waited:.0f}s")
        self.operation = operation
