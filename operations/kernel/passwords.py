"""Password hashing (argon2id). Production parameters by default; tests set cheap ones at start.

A hash carries its own parameters, so changing them affects new hashes only: hashes made under
other parameters still verify.
"""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults, RFC 9106's second recommended option: 3 passes over 64 MiB, 4 lanes.
PRODUCTION = {"time_cost": 3, "memory_cost": 65536, "parallelism": 4}

_hasher = PasswordHasher(**PRODUCTION)
_dummy_hash: str | None = None


def configure(*, time_cost: int, memory_cost: int, parallelism: int) -> None:
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    _dummy_hash = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password_hash: str | None, password: str | None) -> bool:
    """Checks against a dummy hash of the same cost when there is no hash, so an unknown account
    takes as long to refuse as a wrong password."""
    global _dummy_hash
    if password_hash is None:
        _dummy_hash = _dummy_hash or _hasher.hash("not anyone's password")
    try:
        matches = _hasher.verify(password_hash or _dummy_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False
    return matches and password_hash is not None
