"""The webhook inbox: what Shopify told us, stored first, then handed to the domain by topic.

`store_webhook()` (operations/sync/inbox_store.py) is all the HTTP endpoint does. A worker then
calls `process_inbox()`, which:

1. claims due rows in one short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite the
   claim begins with a write, so two processes cannot both take a row) and leases them
   (`status = processing`, `next_attempt_at = now + lease`): rows a dead worker held are due again
   once the lease ends (the machinery is operations/sync/queue.py);
2. only claims the earliest unfinished row of each resource (an order with its fulfillments and
   refunds, an inventory level, a product...), so one resource's webhooks run in the order received;
3. skips a row as STALE when a newer version of the same object under the same topic was already
   processed (Shopify does not deliver in order);
4. calls the topic's handler, `async def handler(topic, payload, *, webhook_id=None)`, imported
   lazily from "module:function" so a missing module is an exception row, never a crash;
5. records the outcome: done; `OperationError` = bad input → EXCEPTION, kept for a person, never
   retried by itself; anything else = transient → RETRYING with exponential backoff, PARKED after
   `max_attempts`. Exceptions and parked rows go back to the queue with `retry_webhooks()`.

Handlers run outside the inbox's own transactions (they may call Shopify, and no transaction may
wait on the network), so a crash between a handler's commit and the row being marked done replays
that webhook after the lease: handlers are idempotent by contract (keys derived from the webhook).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from operations.kernel import (
    SYSTEM,
    Actor,
    OperationError,
    Permission,
    Transaction,
    current_settings,
    fetch,
    json_value,
    read_time,
    record_audit,
    require,
    transaction,
)
from operations.sync import queue
from operations.sync.inbox_store import OVERRIDES, Delivery, Stored, store
from operations.sync.webhook_topics import HANDLERS

log = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[None]]

# Unlike the outbox, an inbox row's status says where it stands (models/inbox.py): `processing` while a
# claim holds it, `retrying` while it backs off. And every claim counts as an attempt, not only a failure:
# a webhook whose handler kills its worker never reports one, and must still park rather than come back
# for ever (tests/webhooks/test_inbox.py).
QUEUE = queue.Queue("webhook_inbox", ("pending", "retrying"), "processing", "claimed_by", counts_claims=True)
UNFINISHED = QUEUE.unfinished

__all__ = ["Delivery", "Stored", "drain_inbox", "override_handlers", "process_inbox", "store_webhook"]


async def store_webhook(delivery: Delivery) -> Stored:
    return await store(delivery)


@contextmanager
def override_handlers(handlers: dict[str, Handler]) -> Iterator[None]:
    """Use these handlers for these topics inside the block (tests, and a deployment that wants to
    route a topic elsewhere). They win over the "module:function" table; a topic given here is
    also stored as handled rather than ignored."""
    saved = dict(OVERRIDES)
    OVERRIDES.update(handlers)
    try:
        yield
    finally:
        OVERRIDES.clear()
        OVERRIDES.update(saved)


def _handler_for(topic: str) -> Handler | None:
    return OVERRIDES.get(topic) or HANDLERS.get(topic)


# -- claiming ------------------------------------------------------------------------------------


@dataclass
class Claimed:
    id: int
    topic: str
    webhook_id: str
    payload: dict | None
    subject: str | None
    shopify_updated_at: Any
    attempts: int
    token: str


# The inbox's own rule: only the earliest unfinished row of each resource is due, so one resource's
# webhooks (an order, its fulfillments and refunds) run in the order received, never side by side.
_IN_ORDER = (
    " AND NOT EXISTS (SELECT 1 FROM webhook_inbox e WHERE e.resource_key = i.resource_key AND e.id < i.id"
    f"  AND e.status IN ({queue.statuses(UNFINISHED)}))"
)
_COLUMNS = "i.id, i.topic, i.webhook_id, i.payload, i.subject, i.shopify_updated_at, i.attempts"


async def claim(limit: int, now: datetime | None = None) -> list[Claimed]:
    now = now or datetime.now(UTC)
    token = queue.new_token()
    async with transaction() as tx:
        lock = await queue.claim_lock(tx.conn, QUEUE.table)
        rows = await queue.due_rows(tx.conn, QUEUE, _COLUMNS, now, limit, lock, alias="i", also=_IN_ORDER)
        if not rows:
            return []
        until = queue.lease_until(now, current_settings().inbox.lease_seconds)
        await queue.take(tx.conn, QUEUE, [r["id"] for r in rows], until, token)
    return [
        Claimed(
            r["id"],
            r["topic"],
            r["webhook_id"],
            json_value(r["payload"]),
            r["subject"],
            r["shopify_updated_at"],
            r["attempts"] + 1,
            token,
        )
        for r in rows
    ]


# -- processing ----------------------------------------------------------------------------------


async def process_inbox(limit: int = 100) -> int:
    """One round: claim up to `limit` due rows and handle them one by one; returns the rows claimed."""
    rows = await claim(limit)
    for row in rows:
        try:
            if not await _renew(row):
                continue  # its lease ran out while it waited its turn and another worker took it over
            await _process(row)
        except asyncio.CancelledError:
            raise
        except Exception:  # recording the outcome failed (database away): the lease brings it back
            log.exception("inbox row %s: could not record the outcome; it is retried after its lease", row.id)
    return len(rows)


async def _renew(row: Claimed) -> bool:
    """A fresh lease right before handling the row: one claim takes a batch of rows under one lease and
    handles them one by one, so the last ones would otherwise be due again (and taken twice) while waiting.
    False when this claim no longer holds the row."""
    async with transaction() as tx:
        until = queue.lease_until(datetime.now(UTC), current_settings().inbox.lease_seconds)
        return await queue.renew(tx.conn, QUEUE, [row.token], until, row_id=row.id)


async def _process(row: Claimed) -> None:
    inbox = current_settings().inbox
    if queue.is_beyond_last_attempt(row.attempts, inbox.max_attempts):
        # Claimed that often without an outcome: the workers handling it died (or it kills them).
        await _finish(row, "parked", error=f"claimed {row.attempts - 1} times without finishing")
        return
    if row.payload is None:
        await _finish(row, "exception", code="MALFORMED_WEBHOOK", error="nothing readable was stored for this row")
        return
    if await _is_stale(row):
        log.info("inbox row %s (%s %s) is older than one already processed: skipped", row.id, row.topic, row.subject)
        await _finish(row, "stale")
        return
    handler = _handler_for(row.topic)
    if handler is None:
        await _finish(row, "ignored", error=f"Branchline does not act on {row.topic} webhooks")
        return
    try:
        await asyncio.wait_for(
            handler(row.topic, row.payload, webhook_id=row.webhook_id), timeout=inbox.handler_timeout
        )
    except OperationError as error:
        code = error.problems[0].code.value if error.problems else "INVALID"
        log.warning("inbox row %s (%s) needs a person: %s", row.id, row.topic, error)
        await _finish(row, "exception", code=code, error=str(error))
        return
    except asyncio.CancelledError:
        raise
    except Exception as error:
        await _failed(row, error)
        return
    await _finish(row, "done")


async def _is_stale(row: Claimed) -> bool:
    if not row.subject or row.shopify_updated_at is None:
        return False
    async with transaction() as tx:
        newer = await fetch(
            tx.conn,
            "SELECT 1 AS x FROM webhook_inbox WHERE subject = ? AND topic = ? AND status = 'done'"
            " AND shopify_updated_at > ? AND id <> ? LIMIT 1",
            [row.subject, row.topic, row.shopify_updated_at, row.id],
        )
    return bool(newer)


async def _failed(row: Claimed, error: BaseException) -> None:
    message = f"{type(error).__name__}: {error}"
    inbox = current_settings().inbox
    if queue.is_last_attempt(row.attempts, inbox.max_attempts):
        log.error("inbox row %s (%s) parked after %d attempts: %s", row.id, row.topic, row.attempts, message)
        await _finish(row, "parked", error=message)
        return
    log.warning("inbox row %s (%s) failed (attempt %d), retrying: %s", row.id, row.topic, row.attempts, message)
    when = queue.retry_at(datetime.now(UTC), row.attempts, inbox.backoff_base, inbox.backoff_cap)
    await _finish(row, "retrying", error=message, next_attempt_at=when)


async def _finish(
    row: Claimed, status: str, *, code: str | None = None, error: str | None = None, next_attempt_at=None
) -> None:
    """Record the outcome, only if this claim still holds the row (a late worker cannot overwrite
    what the worker that took over after the lease decided)."""
    changes = {
        "status": status,
        "error_code": code,
        "last_error": error[:4000] if error else None,
        "next_attempt_at": next_attempt_at or None,
        "processed_at": datetime.now(UTC) if status not in UNFINISHED else None,
        "claimed_by": None,
    }
    async with transaction() as tx:
        await queue.record(tx.conn, QUEUE, changes, token=row.token, ids=[row.id])


async def drain_inbox(max_seconds: float = 30.0) -> int:
    """Process until nothing is due — waiting out the backoff of rows that failed for a moment — or
    time runs out; returns the rows claimed. Exceptions and parked rows wait for a person."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_seconds
    handled = 0
    while loop.time() < deadline:
        claimed = await process_inbox()
        handled += claimed
        if claimed:
            continue
        wait = await _seconds_until_next_due()
        if wait is None:
            break
        await asyncio.sleep(min(max(wait, 0.02), max(deadline - loop.time(), 0)))
    return handled


async def _seconds_until_next_due() -> float | None:
    """None when nothing is unfinished; else how long until the earliest backoff or lease ends."""
    async with transaction() as tx:
        return await queue.next_due(tx.conn, QUEUE)


# -- for people ----------------------------------------------------------------------------------


async def retry_webhooks(actor: Actor = SYSTEM, ids: list[int] | None = None) -> int:
    """Put exception and parked rows (all, or these ids) back in the queue, due now, attempts reset.
    Rows whose body could not be read stay as they are: there is nothing to hand to a handler."""
    require(actor, Permission.MANAGE_INTEGRATIONS)
    async with transaction() as tx:
        rows = await requeue_stuck(tx, ids)
        if rows:
            await record_audit(actor, "shopify.webhooks_retried", rows=len(rows))
    return len(rows)


async def requeue_stuck(tx: Transaction, ids: list[int] | None = None) -> list[int]:
    """The retry itself, in the caller's transaction: the ids of the rows put back in the queue."""
    only = " AND payload IS NOT NULL" + (f" AND id IN ({queue.marks(ids)})" if ids else "")
    return await queue.requeue(
        tx.conn, QUEUE, ["exception", "parked"], clear=["claimed_by", "processed_at"], also=only, values=ids or []
    )


@dataclass
class InboxFigures:
    pending: int = 0  # waiting, being processed or retrying
    exceptions: int = 0
    parked: int = 0
    oldest_pending_at: datetime | None = None


async def inbox_figures() -> InboxFigures:
    async with transaction() as tx:
        rows = await fetch(
            tx.conn,
            "SELECT status, COUNT(*) AS n, MIN(received_at) AS oldest FROM webhook_inbox"
            " WHERE status IN ('pending', 'processing', 'retrying', 'exception', 'parked') GROUP BY status",
        )
    figures = InboxFigures()
    for r in rows:
        if r["status"] in UNFINISHED:
            figures.pending += r["n"]
            oldest = read_time(r["oldest"])
            if oldest is not None and (figures.oldest_pending_at is None or oldest < figures.oldest_pending_at):
                figures.oldest_pending_at = oldest
        elif r["status"] == "exception":
            figures.exceptions = r["n"]
        else:
            figures.parked = r["n"]
    return figures
