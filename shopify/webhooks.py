"""Verification of Shopify webhook signatures (``X-Shopify-Hmac-Sha256``).

Shopify signs the exact bytes it sends: base64(HMAC-SHA256(raw body, app client secret)). Verify
before parsing: re-serialising the JSON changes the bytes and breaks the check.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable

HMAC_HEADER = "X-Shopify-Hmac-Sha256"


def webhook_hmac(raw_body: bytes, secret: str) -> str:
    """The header value Shopify would send for ``raw_body`` signed with ``secret``."""
    digest = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_webhook(raw_body: bytes, header_value: str | None, secrets: Iterable[str]) -> bool:
    """True if ``header_value`` is a valid signature of ``raw_body`` under any of ``secrets``.

    Several secrets are accepted so a client-secret rotation does not drop deliveries signed with
    the old one while both are live. The comparison is on decoded digests with
    ``hmac.compare_digest`` (constant time), and every secret is tried even after a match so the
    time taken does not reveal which one matched. A missing, empty or non-base64 header is False.
    """
    if isinstance(secrets, str | bytes):
        # Iterating a string would try each character as a secret: a one-character key is forgeable.
        raise TypeError("secrets must be a list of secrets, not a single string")
    if not header_value or not isinstance(raw_body, bytes | bytearray):
        return False
    try:
        received = base64.b64decode(header_value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    if len(received) != hashlib.sha256().digest_size:
        return False
    ok = False
    for secret in secrets:
        if not secret:
            continue  # an unset secret must never verify anything
        expected = hmac.new(secret.encode("utf-8"), bytes(raw_body), hashlib.sha256).digest()
        ok |= hmac.compare_digest(expected, received)
    return ok
