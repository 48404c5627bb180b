"""Steps people take on an online order in Branchline: the cash-on-delivery lifecycle and cancelling.

COD: PENDING_CONFIRMATION → CONFIRMED (the shop called the customer) → DISPATCHED (fulfilment,
operations/fulfillment) → DELIVERED (cash collected), or REFUSED at the door → RETURNING (return
to origin) → RETURNED (received back, operations/fulfillment). Before dispatch the customer may
cancel. Each step takes the order row with a guarded UPDATE that also checks the state it leaves
(`... WHERE id = ? AND cod_status IN (...)`), so two people pressing the same button take turns
and the second gets WRONG_STATE — or, when it asked for the state the order is already in, the
order back (a retry is not an error). Each step takes an idempotency key: a repeat with the same key
returns the first result and changes nothing, even after the order moved on (the same key for another
order or reason is IDEMPOTENCY_KEY_REUSED).

Cancelling in Branchline releases the reservation here and writes an outbox row asking Shopify to
cancel with restock (`shopify.order_action` / `order_cancel`, run by the order-actions worker);
Shopify's own cancelled webhook that follows finds nothing left to release.

Who: confirming, delivering and refusing need SELL at the order's branch; cancelling needs REFUND
there (money goes back to the customer). An order that has no branch yet is acted on only by
someone who sees every branch.
"""

from datetime import UTC, datetime

import orjson

from models.orders import CodStatus, Order, OrderLine, OrderStatus
from models.stock import Bucket, ShopifyEffect
from operations.kernel import (
    AccessDenied,
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Transaction,
    db_time,
    fetch,
    require,
    run_once,
    transaction,
)
from operations.orders import events as order_events
from operations.stock import Movement, Posting, apply_to_ledger

ORDER_ACTION_TOPIC = "shopify.order_action"
BEFORE_DISPATCH = (CodStatus.PENDING_CONFIRMATION, CodStatus.CONFIRMED)
# Why an order is cancelled, as Shopify records it (OrderCancelReason in its Admin API).
CANCEL_REASONS = ("CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF")


def require_at(actor: Actor, permission: Permission, branch_id: int | None) -> None:
    require(actor, permission, branch_id)
    if branch_id is None and actor.branch_ids is not None:
        raise AccessDenied(f"{actor.label} may not act on an order that has no branch yet")


async def load(order_id: int) -> Order:
    order = await Order.get_or_none(id=order_id)
    if order is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "no such order", "orderId")
    return order


async def take(tx: Transaction, order: Order, allowed: tuple[CodStatus, ...], **changes) -> Order:
    """Lock the order if its COD status is one of `allowed` (and it is not cancelled), applying
    `changes`; WRONG_STATE naming the state it is really in otherwise."""
    sets, values = ["version = version + 1"], []
    for column, value in changes.items():
        sets.append(f"{column} = ?")
        values.append(db_time(tx.conn, value) if isinstance(value, datetime) else getattr(value, "value", value))
    states = ", ".join("?" for _ in allowed)
    rows = await fetch(
        tx.conn,
        f"UPDATE online_order SET {', '.join(sets)} WHERE id = ? AND cod_status IN ({states}) RETURNING id",
        [*values, order.id, *(s.value for s in allowed)],
    )
    if not rows:
        current = await Order.get(id=order.id)
        state = current.cod_status.value.upper() if current.cod_status else "not cash on delivery"
        wanted = " or ".join(s.value.upper() for s in allowed)
        raise OperationError.single(
            ErrorCode.WRONG_STATE, f"order {current.name} is {state}; this needs it {wanted}", "orderId"
        )
    return await Order.get(id=order.id)


async def _cod_step(
    actor: Actor,
    order_id: int,
    idempotency_key: str,
    operation: str,
    allowed: tuple[CodStatus, ...],
    target: CodStatus,
    kind: str,
) -> Order:
    order = await load(order_id)
    require_at(actor, Permission.SELL, order.branch_id)

    async def step(tx: Transaction) -> Order:
        if order.cod_status is target:
            return order  # the step already happened (another key, or another person): nothing to do
        taken = await take(tx, order, allowed, cod_status=target)
        await order_events.record(tx, taken, kind, {}, actor=actor.label)
        return taken

    async with transaction() as tx:
        result, _ = await run_once(tx, operation, idempotency_key, {"order": order_id}, lambda: step(tx), load)
    return await load(result.id)


async def confirm_order(actor: Actor, order_id: int, idempotency_key: str) -> Order:
    return await _cod_step(
        actor,
        order_id,
        idempotency_key,
        "confirmOrder",
        (CodStatus.PENDING_CONFIRMATION,),
        CodStatus.CONFIRMED,
        "confirmed",
    )


async def mark_delivered(actor: Actor, order_id: int, idempotency_key: str) -> Order:
    return await _cod_step(
        actor,
        order_id,
        idempotency_key,
        "markOrderDelivered",
        (CodStatus.DISPATCHED,),
        CodStatus.DELIVERED,
        "delivered",
    )


async def mark_refused(actor: Actor, order_id: int, idempotency_key: str) -> Order:
    """Refused at the door: the parcel is on its way back (RTO); receiving it is a separate step."""
    return await _cod_step(
        actor, order_id, idempotency_key, "markOrderRefused", (CodStatus.DISPATCHED,), CodStatus.RETURNING, "refused"
    )


async def cancel_order(actor: Actor, order_id: int, idempotency_key: str, reason: str = "CUSTOMER") -> Order:
    """Cancel before anything left the branch: release the reservation, ask Shopify to cancel."""
    order = await load(order_id)
    require_at(actor, Permission.REFUND, order.branch_id)
    reason = reason if reason in CANCEL_REASONS else "OTHER"

    async def cancel(tx: Transaction) -> Order:
        if order.status is OrderStatus.CANCELLED:
            return order  # already cancelled, here or in Shopify: nothing left to release
        return await _cancel(tx, order, reason, actor)

    request = {"order": order_id, "reason": reason}
    async with transaction() as tx:
        result, _ = await run_once(tx, "cancelOrder", idempotency_key, request, lambda: cancel(tx), load)
    return await load(result.id)


async def _cancel(tx: Transaction, order: Order, reason: str, actor: Actor) -> Order:
    now = datetime.now(UTC)
    rows = await fetch(
        tx.conn,
        "UPDATE online_order SET status = ?, cancelled_at = ?, version = version + 1,"
        " cod_status = CASE WHEN cod_status IS NULL THEN NULL ELSE ? END"
        " WHERE id = ? AND status = ? AND (cod_status IS NULL OR cod_status IN (?, ?)) RETURNING version",
        [
            OrderStatus.CANCELLED.value,
            db_time(tx.conn, now),
            CodStatus.CANCELLED.value,
            order.id,
            OrderStatus.OPEN.value,
            *(s.value for s in BEFORE_DISPATCH),
        ],
    )
    if not rows:
        current = await Order.get(id=order.id)
        state = (current.cod_status or current.status).value.upper()
        raise OperationError.single(
            ErrorCode.WRONG_STATE,
            f"order {current.name} is {state}: only an order not yet shipped can be cancelled",
        )
    version = rows[0]["version"]
    order = await Order.get(id=order.id)
    # A line with no variant holds no stock here (any count on it is not a reservation): nothing to release.
    lines = [line for line in await OrderLine.filter(order_id=order.id) if line.reserved > 0 and line.variant_id]
    if any(line.fulfilled for line in await OrderLine.filter(order_id=order.id)):
        raise OperationError.single(
            ErrorCode.WRONG_STATE, f"order {order.name} has units shipped already; refund them instead"
        )
    await OrderLine.filter(order_id=order.id).update(reserved=0)
    await write_order_action(
        tx,
        f"order_action:cancel:{order.id}",
        {
            "action": "order_cancel",
            "orderId": order.id,
            "shopifyOrderId": order.shopify_order_id,
            "restock": True,
            "reason": reason,
        },
    )
    if order.exception_code == ErrorCode.INSUFFICIENT_STOCK.value:
        order.exception_code = order.exception_message = None
        await order.save(update_fields=["exception_code", "exception_message"])
    await order_events.record(tx, order, "cancelled", {"by": "branchline", "reason": reason}, actor=actor.label)
    if lines and order.branch_id is not None:
        await apply_to_ledger(
            tx,
            Posting(
                f"order:{order.shopify_order_id}:cancel:v{version}",
                "order_released",
                actor=actor.label[:120],
                reference_type="online_order",
                reference_id=str(order.id),
            ),
            # Shopify puts its committed units back itself when the cancel reaches it.
            [
                Movement(
                    order.branch_id,
                    line.variant_id,
                    -line.reserved,
                    Bucket.RESERVED,
                    "order_released",
                    ShopifyEffect.FULFILLMENT,
                )
                for line in lines
            ],
        )
    return order


async def write_order_action(tx: Transaction, key: str, payload: dict) -> None:
    """An outbox row for the order-actions worker, in the caller's transaction; written once per key."""
    await fetch(
        tx.conn,
        "INSERT INTO outbox (topic, key, payload, status, attempts, created_at) VALUES (?, ?, ?, 'pending', 0, ?)"
        " ON CONFLICT (key) DO NOTHING",
        [ORDER_ACTION_TOPIC, key, orjson.dumps(payload).decode(), db_time(tx.conn, datetime.now(UTC))],
    )
