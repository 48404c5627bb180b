"""What the client raises, and the typed business error it returns.

Business failures (not enough stock, an unknown SKU, a reused idempotency key) are data: every mutation's
payload has `errors: list[UserError]` (generated, with `code`, `field`, `message`), nothing raises. What
raises is what a caller cannot fix by changing the input: not signed in or not allowed, a bug on the
server, or the network.
"""

from typing import Any


class BranchlineError(Exception):
    """A GraphQL error: `code` is the server's `extensions.code` (UNAUTHENTICATED, FORBIDDEN, BAD_REQUEST,
    INTERNAL_SERVER_ERROR...) or HTTP_<status> for an HTTP refusal."""

    def __init__(
        self, *, code: str, message: str, path: list[Any] | None = None, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.path = path
        self.errors = errors or []


class AuthError(BranchlineError):
    """Sign-in refused (the payload's errors say why), or the token is missing, expired or revoked."""


class ConnectionLost(Exception):
    """The server could not be reached (after the retries) or a live connection broke."""


AUTH_CODES = frozenset({"UNAUTHENTICATED", "FORBIDDEN"})
