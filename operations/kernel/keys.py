"""The server secret as operations need it (PIN digests, keys for secrets at rest), from the installed
settings (operations/kernel/settings.py `SecretKeys`).

Rotation: the new secret becomes BRANCHLINE_SECRET_KEY and the old one moves to
BRANCHLINE_PREVIOUS_SECRET_KEYS. Stored secrets still decrypt under the old one until
`branchline reencrypt-secrets` has rewritten them; a PIN digested under the old one still signs in and
is digested again under the new one when it does (a PIN cannot be re-digested without the PIN).
"""

import hashlib
import hmac
import secrets

from operations.kernel import settings
from operations.kernel.settings import DEVELOPMENT_SECRET

MIN_SECRET_LENGTH = 32


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


def _digest(secret: bytes, pin: str) -> str:
    return hmac.new(secret, f"counter-pin:{pin}".encode(), hashlib.sha256).hexdigest()


def pin_digest(pin: str) -> str:
    return _digest(settings.current().keys.secret.encode(), pin)


def pin_digests(pin: str) -> list[str]:
    """The PIN's digest under the current secret first, then under each previous one."""
    keys = settings.current().keys
    return [_digest(s.encode(), pin) for s in (keys.secret, *keys.previous)]


def token_digest(token: str) -> str:
    # Tokens are 256 random bits: a plain SHA-256 is enough, no slow hash needed.
    return hashlib.sha256(token.encode()).hexdigest()
