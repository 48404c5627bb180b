"""Guess limits: how many wrong passwords or PINs a scope may send before it is locked out.

A scope is a key such as ``pin-counter:7`` or ``password-address:10.0.0.5``. A guess first takes a
slot in every scope it belongs to, in one conditional UPDATE per scope, and only then is the secret
checked. The slot is taken atomically on both engines (SQLite runs one statement at a time; PostgreSQL
re-checks the WHERE clause on the row it locked), so however many guesses arrive at once, at most
``max_failures`` of them are ever checked per window: the rest are refused without looking at the
secret. A right guess gives its slot back; a wrong one keeps it, and the one that fills the window
locks the scope, for longer each time it happens again within a day.

A right guess never clears the failures of others: a cashier with a valid PIN must not be able to wipe
the count of wrong ones between guesses at a manager's PIN.

Each step commits on its own, outside the caller's transaction: a failure must stay counted when the
operation that asked for the check rolls back.
"""

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from operations.kernel.errors import ErrorCode, OperationError
from operations.kernel.sql import fetch
from operations.kernel.transactions import transaction, within_transaction

T = TypeVar("T")

LOCKS_FORGOTTEN_AFTER = 24 * 3600.0  # a day without a lock and the next one is the shortest again


@dataclass(frozen=True)
class Limit:
    scope: str
    max_failures: int
    window: float  # seconds over which failures are counted
    first_lock: float  # seconds; doubled for each further lock within LOCKS_FORGOTTEN_AFTER
    longest_lock: float

    def key(self, subject: object) -> str:
        return f"{self.scope}:{subject}"[:300]

    def lock_length(self, earlier_locks: int) -> float:
        return min(self.first_lock * 2 ** min(earlier_locks, 20), self.longest_lock)


_MINUTE, _HOUR = 60.0, 3600.0
PIN_AT_COUNTER = Limit("pin-counter", 5, 15 * _MINUTE, 5 * _MINUTE, 24 * _HOUR)
PIN_AT_BRANCH = Limit("pin-branch", 15, 15 * _MINUTE, 15 * _MINUTE, 24 * _HOUR)
PASSWORD_FOR_ACCOUNT_FROM_ADDRESS = Limit("password-account-address", 5, 15 * _MINUTE, 15 * _MINUTE, 24 * _HOUR)
PASSWORD_FROM_ADDRESS = Limit("password-address", 20, 15 * _MINUTE, 15 * _MINUTE, 24 * _HOUR)


@dataclass(frozen=True)
class Locked:
    key: str
    until: float | None  # None: the window is full of guesses still being checked


_TAKE = (
    "UPDATE guess_limit SET"
    " attempts = CASE WHEN window_started <= ? THEN 1 ELSE attempts + 1 END,"
    " window_started = CASE WHEN window_started <= ? THEN ? ELSE window_started END"
    " WHERE scope_key = ? AND locked_until <= ? AND (attempts < ? OR window_started <= ?)"
    " RETURNING attempts"
)
_GIVE_BACK = "UPDATE guess_limit SET attempts = attempts - 1 WHERE scope_key = ? AND attempts > 0"
_LOCK = (
    "UPDATE guess_limit SET attempts = 0, locks = ?, last_locked = ?, locked_until = ?, window_started = ?"
    " WHERE scope_key = ? AND attempts >= ? AND locked_until <= ? RETURNING scope_key"
)


async def _take(limit: Limit, key: str, now: float) -> Locked | None:
    stale = now - limit.window
    async with transaction() as tx:
        await fetch(
            tx.conn,
            "INSERT INTO guess_limit (scope_key, attempts, window_started, locked_until, locks, last_locked)"
            " VALUES (?, 0, ?, 0, 0, 0) ON CONFLICT (scope_key) DO NOTHING",
            [key, now],
        )
        taken = await fetch(tx.conn, _TAKE, [stale, stale, now, key, now, limit.max_failures, stale])
        if taken:
            return None
        rows = await fetch(tx.conn, "SELECT locked_until FROM guess_limit WHERE scope_key = ?", [key])
    until = rows[0]["locked_until"] if rows else 0
    return Locked(key, until if until > now else None)


async def _give_back(keys: list[str]) -> None:
    async with transaction() as tx:
        for key in keys:
            await fetch(tx.conn, _GIVE_BACK, [key])


async def _lock_if_full(limit: Limit, key: str, now: float) -> bool:
    async with transaction() as tx:
        rows = await fetch(tx.conn, "SELECT locks, last_locked FROM guess_limit WHERE scope_key = ?", [key])
        if not rows:
            return False
        earlier = rows[0]["locks"] if now - rows[0]["last_locked"] < LOCKS_FORGOTTEN_AFTER else 0
        until = now + limit.lock_length(earlier)
        locked = await fetch(tx.conn, _LOCK, [earlier + 1, now, until, until, key, limit.max_failures, now])
    return bool(locked)


def locked_error(locked: Locked, what: str, field: str) -> OperationError:
    if locked.until is None:
        return OperationError.single(ErrorCode.LOCKED, f"too many {what} at once: try again in a minute", field)
    at = datetime.fromtimestamp(locked.until, UTC)
    return OperationError.single(ErrorCode.LOCKED, f"too many {what}: try again after {at:%H:%M} UTC", field)


@dataclass(frozen=True)
class Outcome(Generic[T]):
    value: T | None  # what `check` found; None: the guess was wrong
    newly_locked: list[str]  # scopes this wrong guess locked


async def guess(scopes: list[tuple[Limit, object]], check: Callable[[], Awaitable[T | None]]) -> Outcome[T] | Locked:
    """Check one guess against every scope's limit: `Locked` (nothing was checked), or the outcome.

    `check` returns what the guess unlocks (a staff member), or None when it is wrong.
    """
    if within_transaction():
        raise RuntimeError("guess limits commit on their own: check the secret before opening a transaction")
    now = time.time()
    taken: list[str] = []
    for limit, subject in scopes:
        key = limit.key(subject)
        refused = await _take(limit, key, now)
        if refused is not None:
            await _give_back(taken)
            return refused
        taken.append(key)
    value = await check()  # if it raises, the slots stay taken: a fault must not open the door wider
    if value is not None:
        await _give_back(taken)
        return Outcome(value, [])
    newly_locked = [key for (limit, _), key in zip(scopes, taken, strict=True) if await _lock_if_full(limit, key, now)]
    return Outcome(None, newly_locked)
