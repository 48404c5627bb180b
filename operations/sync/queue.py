"""Claiming, leasing, backing off and parking queued rows: the one machinery of the sync workers.

Three workers drain a table of rows, each due at its `next_attempt_at` (at once when NULL): the inventory
push (operations/sync/push.py, outbox rows of its topic), the order actions (operations/sync/order_actions.py,
outbox rows of theirs) and the webhook inbox (operations/sync/inbox.py, webhook_inbox). A row travels the
same way in each:

1. a CLAIM takes due rows in one short transaction: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent
   workers never take the same row; SQLite has one writer, and the claim begins with a write so two
   processes cannot both read and then upgrade (`claim_lock`, `due_rows`);
2. it LEASES them (`next_attempt_at = now + lease`) and marks them with the claim's token (`take`): the rows
   of a worker that dies are due again once the lease ends;
3. right before a row is carried out its lease is RENEWED under the token (`renew`): a claim takes several
   rows and runs them one by one, so a later row's lease could run out while it waits and another worker
   take it (the inventory push does without, its calls being keyed: operations/sync/push.py says why);
   every outcome is RECORDED only where the claim still holds the row (`record`), so a late worker never
   writes over what the worker that took over decided;
4. a failure that may heal BACKS OFF, exponentially with jitter up to a cap (`backoff_seconds`); the
   attempt that uses up `max_attempts` PARKS the row, never dropped, until a person REQUEUES it
   (`requeue`).

The pure parts come first, without `await` or models (tests/sync/test_queue.py), then the SQL steps,
written once for any table a `Queue` describes. What one worker does differently on purpose stays in
that worker, with the reason beside it.
"""

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from operations.kernel import db_time, fetch, is_sqlite, json_value, read_time, transaction


@dataclass(frozen=True)
class Queue:
    """A table of queued rows and how a claim marks them."""

    table: str
    waiting: tuple[str, ...]  # statuses of rows waiting for their turn; a requeued row gets the first
    held: str  # the status of a claimed row while its lease runs (one of `waiting` when a claim keeps it)
    holder: str  # the column that keeps the claim's token
    scope: str = ""  # which of the table's rows are this queue's, e.g. "topic = ?"
    scope_values: tuple[Any, ...] = ()
    counts_claims: bool = False  # every claim counts as an attempt, not only a failure

    @property
    def unfinished(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.waiting, self.held)))


def outbox(topic: str) -> Queue:
    """The outbox rows of one topic (models/outbox.py): pending while they wait and while they are leased,
    the claim's token in `batch`."""
    return Queue("outbox", ("pending",), "pending", "batch", "topic = ?", (topic,))


# -- the pure parts ---------------------------------------------------------------------------------


def backoff_seconds(attempt: int, base: float, cap: float, jitter: float | None = None) -> float:
    """How long a row waits after failing attempt number `attempt` (from 1): `base`, twice that, four times...
    at most `cap`, less up to half of it at random (`jitter` in [0, 1), drawn when None), so rows that
    failed together come back spread out."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return ceiling * (0.5 + (random.random() if jitter is None else jitter) / 2)


def retry_at(now: datetime, attempt: int, base: float, cap: float) -> datetime:
    """When a row that failed attempt number `attempt` is due again."""
    return now + timedelta(seconds=backoff_seconds(attempt, base, cap))


def is_last_attempt(attempt: int, max_attempts: int) -> bool:
    """Failing attempt number `attempt` (from 1) uses up the row's tries: it is parked, not retried."""
    return attempt >= max_attempts


def is_beyond_last_attempt(attempt: int, max_attempts: int) -> bool:
    """Claimed for attempt number `attempt` when every try is used up already (by workers that died on it)."""
    return attempt > max_attempts


def lease_until(now: datetime, lease_seconds: float) -> datetime:
    return now + timedelta(seconds=lease_seconds)


def new_token() -> str:
    """A claim's mark on its rows: only it may renew them or record their outcome."""
    return uuid.uuid4().hex


def seconds_until_due(count: int, due: datetime | None, now: datetime) -> float | None:
    """From the unfinished rows' count and earliest `next_attempt_at`: None when none is left, else how long
    until the earliest is due (a backoff or a lease ending; 0 for a row due at once)."""
    if not count:
        return None
    if due is None:
        return 0.0
    return (due - now).total_seconds()


def statuses(values: Sequence[str]) -> str:
    """Statuses as SQL literals: they are the code's own constants, never input."""
    return ", ".join(f"'{value}'" for value in values)


def marks(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


def due_condition(queue: Queue, alias: str = "") -> str:
    """The WHERE of due rows, one `?` for now per branch: waiting and due, or held under a lease that ran out.
    Where a claim keeps its rows in a waiting status the second branch is inside the first, so it is left out."""
    p = f"{alias}." if alias else ""
    due = f"({p}next_attempt_at IS NULL OR {p}next_attempt_at <= ?)"
    if queue.held in queue.waiting:
        condition = f"{_status_in(queue.waiting, p)} AND {due}"
    else:
        condition = (
            f"(({_status_in(queue.waiting, p)} AND {due}) OR ({p}status = '{queue.held}' AND {p}next_attempt_at <= ?))"
        )
    return f"{condition} AND {queue.scope}" if queue.scope else condition


def _status_in(values: Sequence[str], prefix: str = "") -> str:
    if len(values) == 1:
        return f"{prefix}status = '{values[0]}'"
    return f"{prefix}status IN ({statuses(values)})"


def due_values(queue: Queue, now: Any) -> list[Any]:
    return [now] * (1 if queue.held in queue.waiting else 2) + list(queue.scope_values)


def _rows(ids: Sequence[int]) -> str:
    return "id = ?" if len(ids) == 1 else f"id IN ({marks(ids)})"


# -- the SQL steps ----------------------------------------------------------------------------------


async def claim_lock(conn: BaseDBAsyncClient, table: str) -> str:
    """Begin a claim; returns the lock clause its SELECTs end with. SQLite's write lock is taken before
    reading, so two processes cannot both read then upgrade; PostgreSQL skips rows another claim locked."""
    if is_sqlite(conn):
        await fetch(conn, f"UPDATE {table} SET attempts = attempts WHERE id = -1")
        return ""
    return " FOR UPDATE SKIP LOCKED"


async def due_rows(
    conn: BaseDBAsyncClient,
    queue: Queue,
    columns: str,
    now: datetime,
    limit: int,
    lock: str,
    *,
    alias: str = "",
    also: str = "",
) -> list[dict]:
    """Up to `limit` due rows in the order they were written; `also` narrows them further (SQL, no values)."""
    table = f"{queue.table} {alias}" if alias else queue.table
    p = f"{alias}." if alias else ""
    return await fetch(
        conn,
        f"SELECT {columns} FROM {table} WHERE {due_condition(queue, alias)}{also} ORDER BY {p}id LIMIT ?{lock}",
        [*due_values(queue, db_time(conn, now)), limit],
    )


async def take(
    conn: BaseDBAsyncClient,
    queue: Queue,
    ids: Sequence[int],
    until: datetime,
    token: str,
    also: dict[str, Any] | None = None,
) -> None:
    """Lease claimed rows to `until` under the claim's `token`, in the held status, counting the claim as an
    attempt where the queue does; `also` is written beside it."""
    sets = {"next_attempt_at": db_time(conn, until), queue.holder: token, **(also or {})}
    if queue.held not in queue.waiting:
        sets["status"] = queue.held
    counted = ", attempts = attempts + 1" if queue.counts_claims else ""
    await fetch(
        conn,
        f"UPDATE {queue.table} SET {', '.join(f'{c} = ?' for c in sets)}{counted} WHERE id IN ({marks(ids)})",
        [*sets.values(), *ids],
    )


async def renew(
    conn: BaseDBAsyncClient, queue: Queue, tokens: Sequence[str], until: datetime, row_id: int | None = None
) -> bool:
    """A fresh lease to `until` for the rows (or the one row) these claims still hold; False when they
    hold none: their lease ran out and another worker took them over."""
    row = "id = ? AND " if row_id is not None else ""
    held = await fetch(
        conn,
        f"UPDATE {queue.table} SET next_attempt_at = ? WHERE {row}{queue.holder} IN ({marks(tokens)})"
        f" AND status = '{queue.held}' RETURNING id",
        [db_time(conn, until), *([row_id] if row_id is not None else []), *tokens],
    )
    return bool(held)


async def record(
    conn: BaseDBAsyncClient,
    queue: Queue,
    changes: dict[str, Any],
    *,
    token: str | None = None,
    ids: Sequence[int] = (),
    bump: Sequence[str] = (),
) -> None:
    """Write an outcome (`changes`, and +1 to each `bump` column) to held rows: those `ids`, only where
    `token` still holds them when one is given. Datetimes are converted for the dialect."""
    if token is None and not ids:
        raise ValueError("record needs the rows or the claim that holds them")
    values = [db_time(conn, v) if isinstance(v, datetime) else v for v in changes.values()]
    sets = ", ".join([*(f"{c} = ?" for c in changes), *(f"{c} = {c} + 1" for c in bump)])
    where = [*([_rows(ids)] if ids else []), *([f"{queue.holder} = ?"] if token is not None else [])]
    await fetch(
        conn,
        f"UPDATE {queue.table} SET {sets} WHERE {' AND '.join(where)} AND status = '{queue.held}'",
        [*values, *ids, *([token] if token is not None else [])],
    )


async def requeue(
    conn: BaseDBAsyncClient,
    queue: Queue,
    from_statuses: Sequence[str],
    *,
    clear: Sequence[str] = (),
    also: str = "",
    values: Sequence[Any] = (),
) -> list[int]:
    """Rows in `from_statuses` (parked, waiting for a person) due again now with a fresh attempt count, `clear`
    columns emptied; `also` (with its `values`) narrows them. Returns their ids."""
    cleared = "".join(f", {c} = NULL" for c in clear)
    scope = f" AND {queue.scope}" if queue.scope else ""
    rows = await fetch(
        conn,
        f"UPDATE {queue.table} SET status = '{queue.waiting[0]}', attempts = 0, next_attempt_at = NULL{cleared}"
        f" WHERE {_status_in(from_statuses)}{scope}{also} RETURNING id",
        [*queue.scope_values, *values],
    )
    return [r["id"] for r in rows]


async def next_due(conn: BaseDBAsyncClient, queue: Queue) -> float | None:
    """None when no row is unfinished; else how long until the earliest is due (its backoff or lease ends)."""
    scope = f" AND {queue.scope}" if queue.scope else ""
    rows = await fetch(
        conn,
        f"SELECT MIN(next_attempt_at) AS due, COUNT(*) AS n FROM {queue.table}"
        f" WHERE {_status_in(queue.unfinished)}{scope}",
        list(queue.scope_values),
    )
    if not rows:
        return None
    return seconds_until_due(rows[0]["n"], read_time(rows[0]["due"]), datetime.now(UTC))


# -- outbox rows carried out one at a time (order actions, shop writes, fiscal reports) --------------------


@dataclass(frozen=True)
class Claimed:
    """An outbox row a claim took, and the claim's token: its outcome is written only while the token holds it."""

    id: int
    topic: str
    key: str
    payload: dict
    attempts: int
    token: str


async def claim_outbox(queue: Queue, limit: int, lease_seconds: float) -> list[Claimed]:
    """Claim up to `limit` due outbox rows of the queue, oldest first, leased for `lease_seconds` (steps 1 and 2)."""
    now = datetime.now(UTC)
    token = new_token()
    async with transaction() as tx:
        lock = await claim_lock(tx.conn, queue.table)
        rows = await due_rows(tx.conn, queue, "id, topic, key, payload, attempts", now, limit, lock)
        if rows:
            await take(tx.conn, queue, [r["id"] for r in rows], lease_until(now, lease_seconds), token)
    return [Claimed(r["id"], r["topic"], r["key"], json_value(r["payload"]), r["attempts"], token) for r in rows]


async def renew_claim(queue: Queue, row: Claimed, lease_seconds: float) -> bool:
    """A fresh lease right before the row is carried out (step 3); False when the claim no longer holds it."""
    async with transaction() as tx:
        until = lease_until(datetime.now(UTC), lease_seconds)
        return await renew(tx.conn, queue, [row.token], until, row_id=row.id)


async def settle(
    queue: Queue, row_id: int, token: str, attempts: int, *, parked_by: str | None = None, outcome: str | None = None
) -> None:
    """A claimed outbox row carried out (`parked_by` None) or parked by the failure named, which counts as an
    attempt on top of the `attempts` it had; written only where the claim still holds the row."""
    parked = parked_by is not None
    changes = {
        "status": "parked" if parked else "done",
        "outcome": (outcome or "")[:20] or None,
        "last_error": parked_by[:2000] if parked else None,
        "attempts": attempts + parked,
        "next_attempt_at": None,
        "done_at": None if parked else datetime.now(UTC),
    }
    async with transaction() as tx:
        await record(tx.conn, queue, changes, token=token, ids=[row_id])


async def retry_later(
    queue: Queue, row_id: int, token: str, attempts: int, error: str, *, max_attempts: int, base: float, cap: float
) -> bool:
    """A failure that may heal, on an outbox row tried `attempts` times before: it backs off until its next
    attempt, or is parked when this was its last. Returns True when parked."""
    attempt = attempts + 1
    if is_last_attempt(attempt, max_attempts):
        await settle(queue, row_id, token, attempts, parked_by=error)
        return True
    retry = {
        "attempts": attempt,
        "next_attempt_at": retry_at(datetime.now(UTC), attempt, base, cap),
        "last_error": error[:2000],
    }
    async with transaction() as tx:
        await record(tx.conn, queue, retry, token=token, ids=[row_id])
    return False
