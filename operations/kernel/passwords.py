"""Password hashing (argon2id), with the installed settings' parameters (operations/kernel/settings.py):
production ones by default, cheap ones in tests.

A hash carries its own parameters, so changing them affects new hashes only: hashes made under
other parameters still verify.
"""

import dataclasses
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from operations.kernel import settings
from operations.kernel.settings import PasswordHashing

PRODUCTION = dataclasses.asdict(PasswordHashing())


@lru_cache(maxsize=4)
def _hasher(parameters: PasswordHashing) -> PasswordHasher:
    """One hasher per set of parameters, made when first needed."""
    return PasswordHasher(**dataclasses.asdict(parameters))


@lru_cache(maxsize=4)
def _dummy_hash(parameters: PasswordHashing) -> str:
    return _hasher(parameters).hash("not anyone's password")


def hash_password(password: str) -> str:
    return _hasher(settings.current().passwords).hash(password)


def verify(password_hash: str | None, password: str | None) -> bool:
    """Checks against a dummy hash of the same cost when there is no hash, so an unknown account
    takes as long to refuse as a wrong password."""
    parameters = settings.current().passwords
    try:
        matches = _hasher(parameters).verify(password_hash or _dummy_hash(parameters), password or "")
    except (VerificationError, InvalidHashError):
        return False
    return matches and password_hash is not None
