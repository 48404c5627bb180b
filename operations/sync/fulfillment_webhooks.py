"""Shopify's own fulfillments and refunds, as its webhooks report them (docs/architecture.md, Shopify sync).

`on_fulfillment_webhook` (fulfillments/create, fulfillments/update). A Shopify fulfillment is either
- one Branchline already deducted for: the same gid (Smart, once its fulfillmentCreate answered), or a
  PENDING Smart/Manual fulfillment of the same order covering exactly the same lines (the merchant
  fulfilling a Manual one by hand, or the webhook of our own fulfillmentCreate arriving before its
  answer was stored) → linked and marked SYNCED, nothing deducted; or
- a Branch Sync fulfillment → ON_HAND − at the branch of the fulfilling location and RESERVED − where
  the order held its units, effect SHOPIFY_KNOWS, posting key `fulfillment:<gid>`: once, however often
  and in whatever order the webhook comes (a fulfillment before its order fetches the order first).

`on_refund_webhook` (refunds/create). Only lines restocked as RETURN (fulfilled units coming back) are
ours: CANCEL lines lower the line's quantity and are released by the order update (order_intake).
Each line keeps two counts of units that came back: `returned` (received at a branch in Branchline,
`receive_returned_order`) and `shopify_restocked` (restocked by Shopify itself). They are the same
physical units seen from two sides, so the units back in Branchline's stock are
`max(returned, shopify_restocked)`, whichever side saw them first:
- Shopify restocks q units: Branchline takes back `max(R, S+q) − max(R, S)` of them (ON_HAND + at the
  restocking location's branch, SHOPIFY_KNOWS: Shopify already counted them); the rest Branchline had
  already received and pushed to Shopify, so Shopify now counts them twice: a compensating delta (−)
  goes to Shopify through the inventory outbox, with no ledger change.
- `receive_returned_order` applies the same rule from the other side (operations/orders/returns.py).
"""

import logging
from datetime import UTC, datetime
from typing import Any

import orjson
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.branches import Branch
from models.idempotency import IdempotentRequest
from models.orders import (
    Fulfillment,
    FulfillmentLine,
    FulfillmentStatus,
    FulfillmentWorkflow,
    Order,
    OrderLine,
    OrderStatus,
)
from models.stock import Bucket, ShopifyEffect
from operations.kernel import ErrorCode, OperationError, Transaction, db_time, fetch, transaction
from operations.orders import (
    FULFILLMENT_REASON,
    ShipLine,
    add_fulfillment_lines,
    fulfillment_deductions,
    lock_order,
    mark_shipped,
    match_pending,
    post_fulfillment,
    record_order_event,
    take_fulfillment_lines,
)
from operations.stock import Movement, Posting, apply_to_ledger

log = logging.getLogger(__name__)

RETURN_REASON = "order_returned"
UNDO_REASON = "fulfillment_cancelled"
_RETURN_KINDS = {"return", "legacy_restock"}
_DEAD = {"cancelled", "error", "failure"}
_CANCELLED_OP = "shopify.fulfillment_cancelled"  # claimed once per cancelled Shopify fulfillment


def _malformed(message: str, field: str | None = None) -> OperationError:
    return OperationError.single(ErrorCode.MALFORMED_WEBHOOK, message, field)


def _gid(kind: str, value: Any, field: str) -> str:
    if isinstance(value, str) and value.startswith(f"gid://shopify/{kind}/"):
        return value
    if (isinstance(value, int) and not isinstance(value, bool) and value > 0) or (
        isinstance(value, str) and value.isdigit()
    ):
        return f"gid://shopify/{kind}/{value}"
    raise _malformed(f"the webhook has no valid {field}", field)


def _units(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= 1_000_000:
        raise _malformed(f"{field} must be a whole number of units", field)
    return value


async def _order(order_gid: str) -> Order:
    order = await Order.get_or_none(shopify_order_id=order_gid)
    if order is not None:
        return order
    from operations.sync.orders_in import ensure_order  # the order has not arrived yet: fetch it

    return await ensure_order(order_gid)


async def _branch_at(location_gid: str, field: str) -> Branch:
    branch = await Branch.get_or_none(shopify_location_id=location_gid)
    if branch is None:
        raise OperationError.single(
            ErrorCode.UNKNOWN_LOCATION, f"Shopify location {location_gid} is not mapped to a branch", field
        )
    return branch


# -- fulfillments ---------------------------------------------------------------------------------


def _fulfillment_report(payload: Any) -> dict:
    if not isinstance(payload, dict):
        raise _malformed("the webhook body is not a JSON object")
    items = payload.get("line_items")
    if not isinstance(items, list) or not items:
        raise _malformed("the fulfillment has no line_items", "line_items")
    lines: dict[str, int] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise _malformed(f"line {i} is not an object", f"line_items.{i}")
        line_gid = _gid("LineItem", item.get("admin_graphql_api_id") or item.get("id"), f"line_items.{i}.id")
        lines[line_gid] = lines.get(line_gid, 0) + _units(item.get("quantity"), f"line_items.{i}.quantity")
    return {
        "gid": _gid("Fulfillment", payload.get("admin_graphql_api_id") or payload.get("id"), "id"),
        "order": _gid("Order", payload.get("order_id"), "order_id"),
        "location": _gid("Location", payload.get("location_id"), "location_id"),
        "status": str(payload.get("status") or "success").lower(),
        "company": (payload.get("tracking_company") or None),
        "number": (payload.get("tracking_number") or None),
        "lines": lines,
    }


async def on_fulfillment_webhook(topic: str, payload: dict, *, webhook_id: str | None = None) -> None:
    report = _fulfillment_report(payload)
    if report["status"] == "cancelled":
        await _undo(report)
        return
    if report["status"] in _DEAD:  # the fulfillment never happened in Shopify: nothing left, nothing to deduct
        log.warning("Shopify fulfillment %s is %s: not applied", report["gid"], report["status"])
        return
    known = await Fulfillment.get_or_none(shopify_fulfillment_id=report["gid"])
    if known is not None and not _tracking_changes(known, report):
        return  # a duplicate with nothing new: not even the order's lock is needed
    order = await _order(report["order"])
    async with transaction() as tx:
        locked = await lock_order(tx, order.id, allow_cancelled=True)
        known = await Fulfillment.get_or_none(shopify_fulfillment_id=report["gid"], using_db=tx.conn)
        if known is not None:
            await _update_tracking(tx, known, report)
            return
        if await _cancelled_before(tx, report["gid"]):
            log.info("Shopify fulfillment %s was cancelled before it was taken in: nothing to deduct", report["gid"])
            return
        match = await match_pending(tx, locked, report["lines"], report["gid"])
        if match.synced:
            detail = {"fulfillmentIds": match.synced, "shopifyFulfillmentId": report["gid"], "matched": True}
            await record_order_event(tx, locked, "updated", detail)
        if not match.leftover:  # every unit was deducted here already: link it, deduct nothing
            if match.synced:  # (nothing at all when Shopify reports only units no line here has left)
                await (
                    Fulfillment.filter(id=match.synced[0], shopify_fulfillment_id__isnull=True)
                    .using_db(tx.conn)
                    .update(shopify_fulfillment_id=report["gid"], status=FulfillmentStatus.SYNCED)
                )
            return
        await _branch_sync(tx, locked, {**report, "lines": match.leftover})


def _linked(gid: str):
    """Every Branchline fulfillment one Shopify fulfillment stands for (it, or matched/split to it)."""
    return Fulfillment.filter(Q(shopify_fulfillment_id=gid) | Q(matched_shopify_fulfillment_id=gid))


async def _cancelled_before(tx: Transaction, gid: str) -> bool:
    return await IdempotentRequest.filter(operation=_CANCELLED_OP, key=gid[:200]).using_db(tx.conn).exists()


def _tracking_changes(known: Fulfillment, report: dict) -> dict:
    changes = {}
    if report["company"] and report["company"] != known.tracking_company:
        changes["tracking_company"] = str(report["company"])[:80]
    if report["number"] and report["number"] != known.tracking_number:
        changes["tracking_number"] = str(report["number"])[:120]
    return changes


async def _update_tracking(tx: Transaction, known: Fulfillment, report: dict) -> None:
    if changes := _tracking_changes(known, report):
        await _linked(report["gid"]).using_db(tx.conn).update(**changes)


async def _branch_sync(tx: Transaction, order: Order, report: dict) -> None:
    branch = await _branch_at(report["location"], "location_id")
    by_gid = {line.shopify_line_item_id: line for line in await OrderLine.filter(order_id=order.id).using_db(tx.conn)}
    missing = [g for g in report["lines"] if g not in by_gid]
    if missing:
        raise _malformed(f"order {order.name} has no line {missing[0]}", "line_items")
    wanted = [ShipLine(by_gid[g].id, q) for g, q in report["lines"].items()]
    # At most what is still open here, as match_pending capped it — which may exceed the line's quantity here
    # while an exchange's order edit is pending: Shopify's fact, taken as reported.
    picks = await take_fulfillment_lines(tx, order, wanted, strict=False)
    try:
        async with in_transaction():  # savepoint: the unique key is the last word on "once"
            fulfillment = await Fulfillment.create(
                order_id=order.id,
                branch_id=branch.id,
                workflow=FulfillmentWorkflow.BRANCH_SYNC,
                status=FulfillmentStatus.SYNCED,
                shopify_fulfillment_id=report["gid"],
                matched_shopify_fulfillment_id=report["gid"],
                tracking_company=(str(report["company"])[:80] if report["company"] else None),
                tracking_number=(str(report["number"])[:120] if report["number"] else None),
                idempotency_key=f"shopify:{report['gid']}"[:200],
                created_by="shopify",
            )
    except IntegrityError:
        raise OperationError.single(ErrorCode.DUPLICATE, f"{report['gid']} was taken in meanwhile") from None
    await add_fulfillment_lines(tx, fulfillment, picks)
    shipped = await mark_shipped(tx, order, report["company"], report["number"])
    detail = {"fulfillmentId": fulfillment.id, "workflow": "branch_sync", "shopifyFulfillmentId": report["gid"]}
    await record_order_event(tx, shipped, "fulfilled", detail)
    if shipped.is_cod and shipped.cod_status != order.cod_status:
        await record_order_event(
            tx, shipped, "dispatched", {"courier": report["company"], "trackingNumber": report["number"]}
        )
    # Shopify has shipped these units already: a fact, applied even below zero (then an exception to look at).
    posting = Posting(
        f"fulfillment:{report['gid']}",
        FULFILLMENT_REASON,
        "shopify",
        "fulfillment",
        str(fulfillment.id),
        allow_negative=True,
    )
    reserved_at = order.branch_id if order.branch_id is not None else branch.id
    await post_fulfillment(
        tx, posting, fulfillment_deductions(reserved_at, branch.id, picks, ShopifyEffect.SHOPIFY_KNOWS)
    )


async def _undo(report: dict) -> None:
    """The merchant cancelled a fulfillment in Shopify: its units are unfulfilled again there (back in on hand
    and committed), so here too — ON_HAND + where they left, RESERVED + where the order holds its units,
    SHOPIFY_KNOWS, once (key `fulfillment:<gid>:cancelled`), for every Branchline fulfillment it stood for.
    The cancellation is remembered under the order's lock (the create path takes it too), so a cancel that
    arrives before its create makes the late create deduct nothing."""
    order = await _order(report["order"])
    async with transaction() as tx:
        order = await lock_order(tx, order.id, allow_cancelled=True)
        if not await _claim(tx, _CANCELLED_OP, report["gid"], order.id):
            return  # a duplicate of a cancellation already applied
        ids = [
            r["id"]
            for r in await fetch(
                tx.conn,
                "UPDATE online_fulfillment SET status = 'cancelled' WHERE status <> 'cancelled'"
                " AND (shopify_fulfillment_id = ? OR matched_shopify_fulfillment_id = ?) RETURNING id",
                [report["gid"], report["gid"]],
            )
        ]
        if not ids:
            return  # never taken in here (or already cancelled): nothing was deducted, nothing to give back
        holding = order.status is not OrderStatus.CANCELLED and order.branch_id is not None
        movements = []
        lines = (
            await FulfillmentLine.filter(fulfillment_id__in=ids)
            .using_db(tx.conn)
            .prefetch_related("order_line", "fulfillment")
        )
        for fl in lines:
            q, line = fl.quantity, fl.order_line
            # No variant, no reservation: the next intake would otherwise post a RESERVED movement for nothing.
            again = q if holding and line.variant_id else 0
            await fetch(
                tx.conn,
                "UPDATE online_order_line SET fulfilled = fulfilled - ?, reserved = reserved + ? WHERE id = ?",
                [q, again, line.id],
            )
            if line.variant_id is None:
                continue
            effect = ShopifyEffect.SHOPIFY_KNOWS
            movements.append(
                Movement(fl.fulfillment.branch_id, line.variant_id, q, Bucket.ON_HAND, UNDO_REASON, effect)
            )
            if again:
                movements.append(Movement(order.branch_id, line.variant_id, q, Bucket.RESERVED, UNDO_REASON, effect))
        shipped = await fetch(
            tx.conn, "SELECT SUM(fulfilled) AS n FROM online_order_line WHERE order_id = ?", [order.id]
        )
        if holding:
            status = OrderStatus.PARTIALLY_FULFILLED if shipped[0]["n"] else OrderStatus.OPEN
            await Order.filter(id=order.id).using_db(tx.conn).update(status=status)
        detail = {"fulfillmentIds": ids, "shopifyFulfillmentId": report["gid"], "cancelled": True}
        await record_order_event(tx, await Order.get(id=order.id, using_db=tx.conn), "updated", detail)
        posting = Posting(
            f"fulfillment:{report['gid']}:cancelled",
            UNDO_REASON,
            "shopify",
            "fulfillment",
            str(ids[0]),
            allow_negative=True,
        )
        if movements:
            await apply_to_ledger(tx, posting, movements)


# -- refunds --------------------------------------------------------------------------------------


def _refund_report(payload: Any) -> dict:
    if not isinstance(payload, dict):
        raise _malformed("the webhook body is not a JSON object")
    items = payload.get("refund_line_items")
    if not isinstance(items, list):
        raise _malformed("the refund has no refund_line_items", "refund_line_items")
    restocks = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise _malformed(f"refund line {i} is not an object", f"refund_line_items.{i}")
        kind = str(item.get("restock_type") or "no_restock").lower()
        if kind not in _RETURN_KINDS:
            continue
        restocks.append(
            {
                "id": _gid("RefundLineItem", item.get("id"), f"refund_line_items.{i}.id"),
                "line": _gid("LineItem", item.get("line_item_id"), f"refund_line_items.{i}.line_item_id"),
                "quantity": _units(item.get("quantity"), f"refund_line_items.{i}.quantity"),
                "location": _gid("Location", item.get("location_id"), f"refund_line_items.{i}.location_id"),
            }
        )
    return {
        "gid": _gid("Refund", payload.get("admin_graphql_api_id") or payload.get("id"), "id"),
        "order": _gid("Order", payload.get("order_id"), "order_id"),
        "restocks": restocks,
    }


async def on_refund_webhook(topic: str, payload: dict, *, webhook_id: str | None = None) -> None:
    report = _refund_report(payload)
    if not report["restocks"]:
        return  # nothing came back into stock on Shopify's side
    if await IdempotentRequest.exists(operation="shopify.refund", key=report["gid"][:200]):
        return  # a duplicate of a refund already applied
    order = await _order(report["order"])
    branches = {r["location"]: await _branch_at(r["location"], "location_id") for r in report["restocks"]}
    async with transaction() as tx:
        locked = await lock_order(tx, order.id, allow_cancelled=True)
        if not await _claim(tx, "shopify.refund", report["gid"], locked.id):
            return  # a duplicate of a refund already applied
        by_gid = {
            line.shopify_line_item_id: line for line in await OrderLine.filter(order_id=locked.id).using_db(tx.conn)
        }
        movements, detail = [], []
        for n, r in enumerate(report["restocks"]):
            line = by_gid.get(r["line"])
            if line is None:
                raise _malformed(f"order {locked.name} has no line {r['line']}", f"refund_line_items.{n}")
            rows = await fetch(
                tx.conn,
                "UPDATE online_order_line SET shopify_restocked = shopify_restocked + ? WHERE id = ?"
                " RETURNING returned, shopify_restocked",
                [r["quantity"], line.id],
            )
            received, restocked = rows[0]["returned"], rows[0]["shopify_restocked"]
            back = max(received, restocked) - max(received, restocked - r["quantity"])
            twice = r["quantity"] - back
            branch = branches[r["location"]]
            detail.append({"line": line.id, "restocked": r["quantity"], "takenBack": back, "compensated": twice})
            if line.variant_id is None:
                continue
            if back:
                movements.append(
                    Movement(
                        branch.id, line.variant_id, back, Bucket.ON_HAND, RETURN_REASON, ShopifyEffect.SHOPIFY_KNOWS
                    )
                )
            if twice:
                await _compensate(tx, r, branch.id, line.variant_id, -twice)
        await record_order_event(tx, locked, "returned", {"refundId": report["gid"], "lines": detail})
        posting = Posting(f"refund:{report['gid']}", RETURN_REASON, "shopify", "refund", report["gid"])
        if movements:
            await apply_to_ledger(tx, posting, movements)


async def _claim(tx: Transaction, operation: str, key: str, result_id: int) -> bool:
    """True the first time `key` is seen (the claim commits with the change it guards)."""
    try:
        async with in_transaction():  # savepoint: a duplicate's unique violation must not abort the rest
            await IdempotentRequest.create(
                operation=operation, key=key[:200], request_hash="-", result_type="order", result_id=result_id
            )
    except IntegrityError:
        return False
    return True


async def _compensate(tx: Transaction, refund_line: dict, branch_id: int, variant_id: int, delta: int) -> None:
    """Undo on Shopify a restock Branchline had already pushed: an inventory outbox row with no movement
    behind it. Its `movementId` is the negated refund line id, so the push batches (keyed by the ids they
    carry) of two compensations never share an @idempotent key."""
    number = int(refund_line["id"].rsplit("/", 1)[1])
    payload = {
        "movementId": -number,
        "branchId": branch_id,
        "variantId": variant_id,
        "bucket": Bucket.ON_HAND.value,
        "delta": delta,
        "compensates": refund_line["id"],
    }
    await fetch(
        tx.conn,
        "INSERT INTO outbox (topic, key, payload, status, attempts, key_generation, created_at)"
        " VALUES ('shopify.inventory_delta', ?, ?, 'pending', 0, 0, ?) ON CONFLICT (key) DO NOTHING",
        [f"refund:{refund_line['id']}:compensate", orjson.dumps(payload).decode(), db_time(tx.conn, datetime.now(UTC))],
    )
