"""The server secret as operations need it (PIN digests, keys for secrets at rest); set once at start.

Rotation: the new secret becomes BRANCHLINE_SECRET_KEY and the old one moves to
BRANCHLINE_PREVIOUS_SECRET_KEYS. Stored secrets still decrypt under the old one until
`branchline reencrypt-secrets` has rewritten them; a PIN digested under the old one still signs in and
is digested again under the new one when it does (a PIN cannot be re-digested without the PIN).
"""

import hashlib
import hmac
import secrets

DEVELOPMENT_SECRET = "dev-only-change-me"
MIN_SECRET_LENGTH = 32

_secret = DEVELOPMENT_SECRET.encode()
_previous: tuple[bytes, ...] = ()


def use_secret(secret: str, previous: tuple[str, ...] | list[str] = ()) -> None:
    global _secret, _previous
    _secret = secret.encode()
    _previous = tuple(p.encode() for p in previous if p and p != secret)


def secret_problem(secret: str | None) -> str | None:
    """Why this secret must not guard a real shop's data, or None if it may."""
    if not secret:
        return "BRANCHLINE_SECRET_KEY is not set"
    if secret == DEVELOPMENT_SECRET:
        return "BRANCHLINE_SECRET_KEY is the built-in development value"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"BRANCHLINE_SECRET_KEY is shorter than {MIN_SECRET_LENGTH} characters"
    return None


def generate_secret() -> str:
    return secrets.token_urlsafe(48)  # 384 random bits


def server_secret() -> bytes:
    return _secret


def previous_secrets() -> tuple[bytes, ...]:
    return _previous


def _digest(secret: bytes, pin: str) -> str:
    return hmac.new(secret, f"counter-pin:{pin}".encode(), hashlib.sha256).hexdigest()


def pin_digest(pin: str) -> str:
    return _digest(_secret, pin)


def pin_digests(pin: str) -> list[str]:
    """The PIN's digest under the current secret first, then under each previous one."""
    return [_digest(s, pin) for s in (_secret, *_previous)]


def token_digest(token: str) -> str:
    # Tokens are 256 random bits: a plain SHA-256 is enough, no slow hash needed.
    return hashlib.sha256(token.encode()).hexdigest()
