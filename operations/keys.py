"""The server secret as operations need it (PIN digests); set once by the server or CLI at start."""

import hashlib
import hmac

_secret = b"dev-only-change-me"


def use_secret(secret: str) -> None:
    global _secret
    _secret = secret.encode()


def server_secret() -> bytes:
    return _secret


def pin_digest(pin: str) -> str:
    return hmac.new(_secret, f"counter-pin:{pin}".encode(), hashlib.sha256).hexdigest()


def token_digest(token: str) -> str:
    # Tokens are 256 random bits: a plain SHA-256 is enough, no slow hash needed.
    return hashlib.sha256(token.encode()).hexdigest()
