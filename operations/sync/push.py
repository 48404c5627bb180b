"""Telling Shopify about every stock movement it does not already know about (docs/architecture.md, Shopify sync).

The ledger writes one outbox row per PUSH movement in the sale's own transaction. This module drains
those rows: `push_due()` claims a round of them (operations/sync/push_claim.py), sends each batch as
one `inventoryAdjustQuantities` call with an `@idempotent` key derived from the movements it covers,
and records the outcome:

- accepted → the rows are done;
- Shopify cannot be reached, throttles past the client's patience, times out → the batch keeps its
  composition and key and is retried with exponential backoff; after `max_attempts` it is PARKED
  (never dropped) and shown in `syncStatus` until someone retries it;
- `ITEM_NOT_STOCKED_AT_LOCATION` → the item is activated there (`inventoryActivate`, itself keyed)
  and the batch is sent again under the next key generation (Shopify answers a reused key with its
  stored refusal);
- any other refusal (userErrors) → the refused lines are parked with Shopify's message; the other
  lines of the call, which Shopify did not apply either, go back to the queue to travel again.

Shopify not connected → rows stay pending, untouched, until it is.
"""

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from operations.kernel import (
    SYSTEM,
    Actor,
    Permission,
    Transaction,
    current_settings,
    fetch,
    json_value,
    record_audit,
    require,
    transaction,
)
from operations.sync import queue
from operations.sync.connection import client_for, current_connection
from operations.sync.push_claim import PUSHED, QUEUE, TOPIC, Batch, claim
from shopify import documents
from shopify.client import ShopifyClient, payload
from shopify.errors import (
    ShopifyAuthError,
    ShopifyGraphQLError,
    ShopifyNotFound,
    ShopifyShopUnavailable,
    ShopifyUnavailable,
    ShopifyUserErrors,
    UserError,
)
from subscriptions import live

log = logging.getLogger(__name__)

SYNC_CHANNEL = "sync:shopify"  # one message after each push round that changed something

# Refusals that say "not now" rather than "never": retried with the same key. The errors are the
# transient ones for every worker that calls Shopify (order actions and shop writes add their own).
_TRANSIENT_CODES = {"IDEMPOTENCY_CONCURRENT_REQUEST", "SERVICE_UNAVAILABLE"}
TRANSIENT_ERRORS = (
    ShopifyUnavailable,
    ShopifyShopUnavailable,
    ShopifyAuthError,  # the merchant reconnects; until then the rows wait (and park if it takes long)
    ShopifyNotFound,
    httpx.HTTPError,
    OSError,
    TimeoutError,
)
_MAX_KEY_GENERATIONS_PER_SEND = 3  # activation rounds within one send


@dataclass
class PushReport:
    """What one round did, in rows (movements)."""

    claimed: int = 0
    pushed: int = 0
    skipped: int = 0  # finished without a call: not on Shopify, no Shopify counterpart, nothing net
    retrying: int = 0  # backed off after a failure that may heal
    parked: int = 0
    calls: int = 0  # inventoryAdjustQuantities calls made
    not_connected: bool = False
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def handled(self) -> int:
        return self.pushed + self.skipped + self.parked

    @property
    def changed(self) -> bool:
        return self.claimed > 0


# -- one client per shop, shared by every round in this process, so its cost bucket paces them all --

_clients: dict[tuple, ShopifyClient] = {}


async def shopify_client() -> ShopifyClient | None:
    """The connected shop's client for this event loop, shared by the sync's workers (push, order actions,
    shop writes); None while no shop is connected."""
    connection = await current_connection()
    if connection is None:
        return None
    key = (id(asyncio.get_running_loop()), connection.id, connection.access_token_encrypted)
    client = _clients.get(key)
    if client is None:
        for old in [k for k in _clients if k[0] == key[0]]:  # reconnected: the old token is gone
            await _clients.pop(old).aclose()
        client = await client_for(connection)
        _clients[key] = client
    client.max_attempts = current_settings().push.client_attempts
    return client


async def close_clients() -> None:
    """Close this loop's clients (worker shutdown, test teardown)."""
    loop = id(asyncio.get_running_loop())
    for key in [k for k in _clients if k[0] == loop]:
        await _clients.pop(key).aclose()


# -- the public API ---------------------------------------------------------------------------------


async def push_due(limit: int = 1000) -> PushReport:
    """One round: claim up to `limit` due rows, push them, record the outcomes, announce the change."""
    client = await shopify_client()
    if client is None:
        return PushReport(not_connected=True)
    claimed = await claim(limit, current_settings().push.lease_seconds)
    report = PushReport(claimed=claimed.rows, skipped=sum(claimed.finished.values()), outcomes=dict(claimed.finished))
    results = await asyncio.gather(*(_push(client, batch) for batch in claimed.batches))
    for result in results:
        for name, n in result.items():
            setattr(report, name, getattr(report, name) + n)
    if report.changed:
        await live.publish_many([(SYNC_CHANNEL, {"at": datetime.now(UTC).isoformat(), "rows": report.claimed})])
    return report


async def drain_outbox(max_seconds: float = 30.0) -> int:
    """Push until no row is pending — waiting out the back-off of rows that failed for a moment —
    or time runs out; returns the rows handled. Parked rows are not pending: they wait for a person."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_seconds
    handled = 0
    while loop.time() < deadline:
        report = await push_due()
        handled += report.handled
        if report.not_connected:
            break
        if report.claimed == 0:
            wait = await _seconds_until_next_due()
            if wait is None:
                break
            await asyncio.sleep(min(max(wait, 0.01), max(deadline - loop.time(), 0)))
    return handled


async def _seconds_until_next_due() -> float | None:
    """None when nothing is pending; else how long until the earliest pending row is due (or its lease ends)."""
    async with transaction() as tx:
        return await queue.next_due(tx.conn, QUEUE)


async def retry_parked(actor: Actor = SYSTEM) -> int:
    """Put every parked row back in the queue, due now, with a fresh attempt count."""
    require(actor, Permission.MANAGE_INTEGRATIONS)
    async with transaction() as tx:
        rows = await requeue_parked(tx, TOPIC)
        if rows:
            await record_audit(actor, "shopify.sync_retried", target=("outbox", TOPIC), stock_changes=rows)
    return rows


async def requeue_parked(tx: Transaction, topic: str) -> int:
    """Parked outbox rows of `topic` due again now with a fresh attempt count (inventory pushes and order
    actions alike), in the caller's transaction; syncStatus subscribers hear of it once it commits."""
    # `batch` stays: a push batch keeps its composition and key (Shopify may have applied an attempt of
    # it); an order action's old token there is replaced by its next claim.
    rows = await queue.requeue(tx.conn, queue.outbox(topic), ["parked"])
    if rows:
        tx.publish_after_commit(SYNC_CHANNEL, {"at": datetime.now(UTC).isoformat(), "rows": len(rows)})
    return len(rows)


# -- one batch ----------------------------------------------------------------------------------------


async def _push(client: ShopifyClient, batch: Batch) -> dict[str, int]:
    try:
        for _ in range(_MAX_KEY_GENERATIONS_PER_SEND):
            outcome = await _send(client, batch)
            if outcome is not None:
                return outcome
        return await _back_off(batch, "inventory still not stocked after activating it")
    except ShopifyUserErrors as error:
        if set(error.codes) & _TRANSIENT_CODES:
            return await _back_off(batch, str(error))
        return await _refused(batch, error.errors, str(error))
    except ShopifyGraphQLError as error:
        # The document itself was refused: nothing ran, and nothing will until the code changes.
        return await _park(batch, batch.row_ids, str(error), fresh_key=True)
    except TRANSIENT_ERRORS as error:
        return await _back_off(batch, f"{type(error).__name__}: {error}")
    except Exception as error:  # a bug: keep the rows, count the attempt, park eventually
        log.exception("pushing outbox batch %s failed unexpectedly", batch.id)
        return await _back_off(batch, f"{type(error).__name__}: {error}")


def _variables(batch: Batch) -> dict[str, Any]:
    changes = []
    for change in batch.changes:
        line: dict[str, Any] = {
            "inventoryItemId": change.inventory_item_id,
            "locationId": change.location_id,
            "delta": change.delta,
            "changeFromQuantity": None,  # a delta commutes with Shopify's own moves: no compare
        }
        if batch.name != "available":  # required for every other name, and never a gid://shopify URI
            line["ledgerDocumentUri"] = f"gid://branchline/StockMovement/{change.movement_ids[0]}"
        changes.append(line)
    return {
        "input": {
            "name": batch.name,
            "reason": "correction",
            "referenceDocumentUri": f"gid://branchline/OutboxBatch/{batch.id}",
            "changes": changes,
        }
    }


async def _send(client: ShopifyClient, batch: Batch) -> dict[str, int] | None:
    """Send once; None means "items were activated: send again under the next key"."""
    data = await client.mutate(documents.PUSH_INVENTORY, _variables(batch), idempotency_key=batch.idempotency_key)
    result = data.get("inventoryAdjustQuantities") if isinstance(data, dict) else None
    errors = [UserError.from_dict(e) for e in (result or {}).get("userErrors") or []]
    if errors and (result or {}).get("inventoryAdjustmentGroup") is not None:
        # Applied in part: resending could double what went through. A person must look.
        return await _park(batch, batch.row_ids, f"Shopify applied this push only in part: {errors}", fresh_key=False)
    if errors and all(e.code == "ITEM_NOT_STOCKED_AT_LOCATION" for e in errors):
        await _activate(client, batch, errors)
        return None
    if errors and any(e.code == "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED" for e in errors):
        await _next_key(batch)
        return None
    payload(data, "inventoryAdjustQuantities")  # raises ShopifyUserErrors for any other refusal
    await _finish_pushed(batch)
    return {"pushed": batch.movement_count, "calls": 1}


async def _activate(client: ShopifyClient, batch: Batch, errors: list[UserError]) -> None:
    lines = {i for e in errors if (i := _change_index(e)) is not None} or set(range(len(batch.changes)))
    for i in sorted(lines):
        change = batch.changes[i]
        log.info("stocking %s at %s on Shopify before pushing to it", change.inventory_item_id, change.location_id)
        data = await client.mutate(
            documents.STOCK_ITEM_AT_LOCATION,
            {"item": change.inventory_item_id, "location": change.location_id},
            idempotency_key=f"branchline-activate-{batch.id}-{i}",
        )
        payload(data, "inventoryActivate")
    await _next_key(batch)


def _change_index(error: UserError) -> int | None:
    """`["input", "changes", "3", "locationId"]` → 3."""
    path = error.field or []
    if len(path) >= 3 and path[1] == "changes" and str(path[2]).isdigit():
        return int(path[2])
    return None


# -- recording outcomes ----------------------------------------------------------------------------


# Every outcome is recorded under the batch id, the token shared by whoever holds the batch
# (operations/sync/push_claim.py), and the push renews no lease before sending, unlike the other queues:
# a worker that takes over a batch whose lease ran out sends the very same call under the same `@idempotent`
# key, so Shopify applies it once and either worker's "pushed" is true. `status = 'pending'` keeps a late
# worker from reopening a finished row, and the batch id from touching a row that left its batch since
# (a refusal puts the other lines back in the queue, where a later claim batches them anew).


async def _finish_pushed(batch: Batch) -> None:
    async with transaction() as tx:
        done = {"status": "done", "outcome": PUSHED, "done_at": datetime.now(UTC)}
        await queue.record(tx.conn, QUEUE, done | {"next_attempt_at": None, "last_error": None}, token=batch.id)


async def _next_key(batch: Batch) -> None:
    """Shopify refused the whole call (nothing applied): later sends use the next key generation."""
    batch.generation += 1
    async with transaction() as tx:
        await fetch(
            tx.conn,
            "UPDATE outbox SET key_generation = ? WHERE batch = ? AND status = 'pending'",
            [batch.generation, batch.id],
        )


async def _back_off(batch: Batch, error: str) -> dict[str, int]:
    attempts = batch.attempts + 1
    push = current_settings().push
    if queue.is_last_attempt(attempts, push.max_attempts):
        # The same key: Shopify may have applied an attempt that timed out, so a retry must not re-key.
        return await _park(batch, batch.row_ids, error, fresh_key=False, attempts=attempts)
    log.warning("outbox batch %s failed (attempt %d), retrying later: %s", batch.id, attempts, error)
    async with transaction() as tx:
        when = queue.retry_at(datetime.now(UTC), attempts, push.backoff_base, push.backoff_cap)
        retry = {"attempts": attempts, "next_attempt_at": when, "last_error": error[:2000]}
        await queue.record(tx.conn, QUEUE, retry, token=batch.id)
    return {"retrying": batch.movement_count}


async def _park(
    batch: Batch, row_ids: list[int], error: str, *, fresh_key: bool, attempts: int | None = None
) -> dict[str, int]:
    log.error("outbox batch %s parked (%d rows): %s", batch.id, len(row_ids), error)
    attempts = attempts if attempts is not None else batch.attempts + 1
    parked = {"status": "parked", "attempts": attempts, "last_error": error[:2000], "next_attempt_at": None}
    async with transaction() as tx:
        # These rows (a refusal parks only the lines Shopify named: _refused), while the batch still holds them.
        bump = ["key_generation"] if fresh_key else []
        await queue.record(tx.conn, QUEUE, parked, token=batch.id, ids=row_ids, bump=bump)
    return {"parked": len(row_ids)}


async def _refused(batch: Batch, errors: list[UserError], message: str) -> dict[str, int]:
    """Park the lines Shopify named; the rest of the call was not applied either and goes back to the
    queue as new batches (a new composition, so new keys), so one bad item never holds up the others."""
    bad = {i for e in errors if (i := _change_index(e)) is not None}
    if not bad or len(bad) == len(batch.changes):
        return await _park(batch, batch.row_ids, message, fresh_key=True)
    bad_movements = {m for i in bad for m in batch.changes[i].movement_ids}
    by_line = {i: [e.message for e in errors if _change_index(e) == i] for i in bad}
    async with transaction() as tx:
        rows = await fetch(tx.conn, "SELECT id, payload FROM outbox WHERE batch = ? AND status = 'pending'", [batch.id])
        bad_rows = [r["id"] for r in rows if json_value(r["payload"])["movementId"] in bad_movements]
        good_rows = [r["id"] for r in rows if r["id"] not in set(bad_rows)]
        if good_rows:
            await fetch(
                tx.conn,
                "UPDATE outbox SET batch = NULL, target = NULL, key_generation = 0, next_attempt_at = NULL"
                f" WHERE id IN ({queue.marks(good_rows)}) AND batch = ? AND status = 'pending'",
                [*good_rows, batch.id],
            )
    detail = "; ".join(f"{batch.changes[i].inventory_item_id}: {' '.join(m)}" for i, m in sorted(by_line.items()))
    result = await _park(batch, bad_rows, f"Shopify refused: {detail}", fresh_key=True) if bad_rows else {}
    return result | {"retrying": len(good_rows)}
