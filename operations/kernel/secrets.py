"""Secrets at rest (Shopify access token and client secret, later the FBR token).

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under a key derived from the server
secret with HKDF, so the database file alone never reveals a token: a stolen backup without
`BRANCHLINE_SECRET_KEY` is useless. The derivation is labelled per purpose, so the same server
secret never serves as two different keys. Secrets encrypted under a previous server secret still
decrypt (operations/kernel/keys.py explains rotation); `reencrypt` rewrites one under the current secret.
"""

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from operations.kernel import settings
from operations.kernel.settings import SecretKeys


class SecretUnreadable(Exception):
    """The stored secret was encrypted under another server secret (or was tampered with)."""


def _fernet(purpose: str, secret: bytes) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"branchline-secrets-v1", info=purpose.encode()).derive(
        secret
    )
    return Fernet(base64.urlsafe_b64encode(derived))


@lru_cache(maxsize=8)
def _keys_for(purpose: str, keys: SecretKeys) -> MultiFernet:
    return MultiFernet([_fernet(purpose, s.encode()) for s in (keys.secret, *keys.previous)])


def _fernets(purpose: str) -> MultiFernet:
    """Encrypts under the current secret; decrypts under it or any previous one (the installed
    settings' keys, derived once per settings value)."""
    return _keys_for(purpose, settings.current().keys)


def encrypt(plaintext: str, purpose: str = "shopify") -> str:
    return _fernets(purpose).encrypt(plaintext.encode()).decode()


def reencrypt(token: str, purpose: str = "shopify") -> str:
    """The same secret encrypted under the current server secret (after a rotation)."""
    try:
        return _fernets(purpose).rotate(token.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable("a stored secret cannot be decrypted under any configured secret key") from error


def decrypt(token: str, purpose: str = "shopify") -> str:
    try:
        return _fernets(purpose).decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable(
            "a stored secret cannot be decrypted: was BRANCHLINE_SECRET_KEY changed? Reconnect to store it again"
        ) from error
