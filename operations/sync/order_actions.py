"""Telling Shopify what happened to its orders in Branchline: the order-actions outbox worker.

Rows with topic `shopify.order_action` are written in the transaction of the change that needs them:

- `fulfillment_create` `{fulfillmentId}` (Smart fulfillment, operations/orders/fulfillment.py) → `fulfillmentCreate`
  with tracking and the fulfillment order line items at the branch's location;
- `fulfillment_order_move` `{orderId, branchId[, fromBranchId]}` (routing) → `fulfillmentOrderMove` of the
  order's open fulfillment orders to the branch's location;
- `order_cancel` `{orderId[, reason, restock, refund, staffNote]}` (cancelled in Branchline) → `orderCancel`
  (restock true, refund false unless the payload says otherwise).

None of these three mutations takes `@idempotent` (reference §3.5, simulator config), so each send is
made safe by reading Shopify's state first, every time: a fulfillment Shopify already holds for the same
lines at the same location (and not linked to another Branchline fulfillment) is adopted instead of
created again; a fulfillment order already at the destination is not moved; a cancelled order is not
cancelled again. A send that may or may not have been applied (timeout) is never blindly repeated:
the row backs off and the next attempt re-reads first (the calls: operations/sync/order_calls.py).

Claiming, leases, backoff and parking are the queues' own (operations/sync/queue.py): due rows are taken
with `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite takes its write lock first) and leased; a worker that
dies leaves them due again after the lease. Each row's lease is renewed right before it is carried out, and
the claim's token (kept in `outbox.batch`) guards every update of the row, so a worker whose lease ran out
can neither run it a second time nor overwrite what the worker that took it over decided. Unlike the
inventory push, whose batch id is a token any worker shares, the token is drawn per claim: these calls are
keyless, so only one worker may hold a row. Failures that may heal back off exponentially and park after
`max_attempts`; refusals that will not heal (a closed fulfillment order, an unknown order) park at once with
the reason. Lease, attempts and backoff are the inventory push's settings (operations/sync/push.py).
Parked rows are counted by `order_action_figures()` for syncStatus and put back by
`retry_parked_order_actions()`.
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from tortoise import Tortoise

from operations.kernel import (
    SYSTEM,
    Actor,
    Permission,
    current_settings,
    fetch,
    read_time,
    record_audit,
    require,
    transaction,
)
from operations.orders import ORDER_ACTION_TOPIC as TOPIC
from operations.sync import push as shopify_push
from operations.sync import queue
from operations.sync.order_calls import ACTIONS, NotYet, Refused
from shopify.client import ShopifyClient
from shopify.errors import ShopifyGraphQLError, ShopifyUserErrors

log = logging.getLogger(__name__)

_TRANSIENT = shopify_push.TRANSIENT_ERRORS

QUEUE = queue.outbox(TOPIC)
Row = queue.Claimed  # a claimed row (operations/sync/queue.py)


# -- claiming -------------------------------------------------------------------------------------


async def _claim(limit: int, lease_seconds: float) -> list[Row]:
    return await queue.claim_outbox(QUEUE, limit, lease_seconds)


async def _renew(row: Row, lease_seconds: float) -> bool:
    """A fresh lease right before carrying the row out (two fulfillmentCreate calls otherwise, see
    operations/sync/queue.py). False when this claim no longer holds the row."""
    return await queue.renew_claim(QUEUE, row, lease_seconds)


async def push_order_actions(limit: int = 100) -> int:
    """One round: claim up to `limit` due rows and carry them out, in the order they were written (a move
    before the fulfillment that follows it). Returns the rows claimed."""
    client = await shopify_push.shopify_client()
    if client is None:
        return 0
    lease_seconds = current_settings().push.lease_seconds
    rows = await _claim(limit, lease_seconds)
    for row in rows:
        if await _renew(row, lease_seconds):
            await _run(client, row)
    return len(rows)


async def drain_order_actions(max_seconds: float = 30.0) -> int:
    """Carry out rows until none is pending (waiting out back-offs) or time runs out; returns rows claimed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_seconds
    claimed = 0
    while loop.time() < deadline:
        n = await push_order_actions()
        claimed += n
        if n:
            continue
        wait = await _seconds_until_next_due()
        if wait is None or await shopify_push.shopify_client() is None:
            break
        await asyncio.sleep(min(max(wait, 0.01), max(deadline - loop.time(), 0)))
    return claimed


async def _seconds_until_next_due() -> float | None:
    return await queue.next_due(Tortoise.get_connection("default"), QUEUE)


# -- one row --------------------------------------------------------------------------------------


async def _run(client: ShopifyClient, row: Row) -> None:
    action = row.payload.get("action")
    handler = ACTIONS.get(action)
    try:
        if handler is None:
            raise Refused(f"unknown order action {action!r}")
        outcome = await handler(client, row.payload)
    except Refused as error:
        await _finish(row, "parked", str(error), outcome=None)
    except ShopifyUserErrors as error:
        await _finish(row, "parked", str(error), outcome=None)
    except ShopifyGraphQLError as error:
        await _finish(row, "parked", str(error), outcome=None)
    except (NotYet, *_TRANSIENT) as error:
        await _back_off(row, f"{type(error).__name__}: {error}")
    except Exception as error:  # a bug: keep the row, count the attempt, park eventually
        log.exception("order action %s failed unexpectedly", row.key)
        await _back_off(row, f"{type(error).__name__}: {error}")
    else:
        await _finish(row, "done", None, outcome=outcome)


async def _finish(row: Row, status: str, error: str | None, *, outcome: str | None) -> None:
    if status == "parked":
        log.error("order action %s parked: %s", row.key, error)
    await queue.settle(
        QUEUE, row.id, row.token, row.attempts, parked_by=error if status == "parked" else None, outcome=outcome
    )


async def _back_off(row: Row, error: str) -> None:
    push = current_settings().push
    parked = await queue.retry_later(
        QUEUE,
        row.id,
        row.token,
        row.attempts,
        error,
        max_attempts=push.max_attempts,
        base=push.backoff_base,
        cap=push.backoff_cap,
    )
    if parked:
        log.error("order action %s parked after %d attempts: %s", row.key, row.attempts + 1, error)
    else:
        log.warning("order action %s failed (attempt %d), retrying later: %s", row.key, row.attempts + 1, error)


# -- for syncStatus -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderActionFigures:
    pending: int
    parked: int
    last_done_at: datetime | None


async def order_action_figures() -> OrderActionFigures:
    conn = Tortoise.get_connection("default")
    counts = await fetch(
        conn,
        "SELECT status, COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'parked') AND topic = ? GROUP BY status",
        [TOPIC],
    )
    by_status = {r["status"]: r["n"] for r in counts}
    last = await fetch(conn, "SELECT MAX(done_at) AS at FROM outbox WHERE status = 'done' AND topic = ?", [TOPIC])
    return OrderActionFigures(
        by_status.get("pending", 0), by_status.get("parked", 0), read_time(last[0]["at"]) if last else None
    )


async def parked_order_actions(limit: int = 20, after_id: int | None = None) -> list[dict]:
    """The oldest parked order actions first (after the row `after_id`: a page's cursor), at most 101: a
    page of 100 and one more, which says whether there is a next page."""
    rows = await fetch(
        Tortoise.get_connection("default"),
        "SELECT id, key, last_error, attempts FROM outbox WHERE status = 'parked' AND topic = ? AND id > ?"
        " ORDER BY id LIMIT ?",
        [TOPIC, after_id or 0, max(0, min(limit, 101))],
    )
    return [dict(r) for r in rows]


async def retry_parked_order_actions(actor: Actor = SYSTEM) -> int:
    require(actor, Permission.MANAGE_INTEGRATIONS)
    async with transaction() as tx:
        rows = await shopify_push.requeue_parked(tx, TOPIC)
        if rows:
            await record_audit(actor, "shopify.order_actions_retried", target=("outbox", TOPIC), order_actions=rows)
    return rows
