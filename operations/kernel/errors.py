"""Business failures as typed errors.

Operations raise `OperationError`; resolvers turn it into `errors { field message code }` in the
mutation payload. Anything else that escapes is a bug and is masked for clients.
"""

from dataclasses import dataclass, field
from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    DUPLICATE = "DUPLICATE"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    STOCK_CHANGED = "STOCK_CHANGED"
    TOO_MANY = "TOO_MANY"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    LOCKED = "LOCKED"
    APPROVAL_REQUIRED = "APPROVAL_REQUIRED"
    REGISTER_CLOSED = "REGISTER_CLOSED"
    WRONG_STATE = "WRONG_STATE"
    NOT_CONNECTED = "NOT_CONNECTED"  # Shopify is not connected
    SHOPIFY_UNAVAILABLE = "SHOPIFY_UNAVAILABLE"  # Shopify kept failing after retries
    UNMAPPED_LOCATION = "UNMAPPED_LOCATION"  # stock at a Shopify location with no branch
    MALFORMED_FILE = "MALFORMED_FILE"  # an import file line that cannot be read
    IMPORT_FAILED = "IMPORT_FAILED"  # Shopify's bulk export failed or expired
    ALREADY_RETURNED = "ALREADY_RETURNED"  # a transfer discrepancy goes back to stock once only
    UNKNOWN_VARIANT = "UNKNOWN_VARIANT"  # a Shopify variant or inventory item Branchline does not hold
    UNKNOWN_LOCATION = "UNKNOWN_LOCATION"  # a Shopify location with no branch
    MALFORMED_WEBHOOK = "MALFORMED_WEBHOOK"  # a webhook body missing what its topic must carry
    ALREADY_FULFILLED = "ALREADY_FULFILLED"  # more units than are left to fulfil
    ARCHIVED = "ARCHIVED"  # an archived product's variant cannot be sold
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"  # a loyalty wallet holds fewer points than asked for


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request; `field` is the input path, e.g. `lines.2.quantity`."""

    code: ErrorCode
    message: str
    field: str | None = None


@dataclass
class OperationError(Exception):
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(p.message for p in self.problems)

    @classmethod
    def single(cls, code: ErrorCode, message: str, field: str | None = None) -> "OperationError":
        return cls([Problem(code, message, field)])


# An idempotency key's longest length (the column is wider: a derived key adds a prefix).
MAX_KEY_LENGTH = 200


class Problems:
    """Collects every problem in an input before failing, so a client fixes them in one go."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        self.items.append(Problem(code, message, field))

    def check_key(self, key: object, *, required: bool = True) -> None:
        """An idempotency key: 1 to MAX_KEY_LENGTH characters, not only spaces (the one check every
        operation makes; `required=False` lets an internal caller without a key through)."""
        if key is None and not required:
            return
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH:
            self.add(ErrorCode.INVALID, f"idempotencyKey must be 1–{MAX_KEY_LENGTH} characters", "idempotencyKey")

    def raise_if_any(self) -> None:
        if self.items:
            raise OperationError(list(self.items))
