"""Routing an online order to the branch that ships it.

`assign_order_branch` moves the order's reservation (RESERVED − at the old branch, + at the new,
effect FULFILLMENT: Shopify moves its own commitment when it gets the fulfillmentOrderMove) and
writes the `fulfillment_order_move` order action in the same transaction. The new branch's
available stock is the ledger's guard: two orders racing for a branch's last unit, or a routing
racing a counter sale of it, cannot both have it — the loser gets INSUFFICIENT_STOCK.

Automatic routing (`route_if_short`) runs after intake when the assigned branch cannot ship the
whole order: branches on Shopify by `routing_priority` (then id), only one that can ship every
line while keeping its `online_safety_stock` for walk-in customers. If none can, the order stays
where Shopify put it, with its shortage shown as an exception.
"""

import logging
from dataclasses import dataclass

from models.branches import Branch
from models.orders import ExchangeStatus, Order, OrderExchange, OrderLine, OrderStatus
from models.stock import Bucket, ShopifyEffect, StockLevel
from operations.kernel import SYSTEM, Actor, ErrorCode, OperationError, Permission, fetch, run_once, transaction
from operations.orders import events as order_events
from operations.orders.steps import load, require_at, write_order_action
from operations.stock import Movement, Posting, apply_to_ledger

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Need:
    variant_id: int
    units: int


async def assign_order_branch(actor: Actor, order_id: int, branch_id: int, idempotency_key: str) -> tuple[Order, bool]:
    """Returns (order, replayed)."""
    order = await load(order_id)
    branch = await Branch.get_or_none(id=branch_id)
    if branch is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, f"branch {branch_id} does not exist", "branchId")
    require_at(actor, Permission.ADJUST_STOCK, order.branch_id)
    require_at(actor, Permission.ADJUST_STOCK, branch.id)
    request = {"order": order_id, "branch": branch_id}

    async def move(tx) -> Order:
        return await _move(tx, order, branch, actor)

    async with transaction() as tx:
        result, replayed = await run_once(tx, "assignOrderBranch", idempotency_key, request, lambda: move(tx), load)
    return await load(result.id), replayed


async def _move(tx, order: Order, branch: Branch, actor: Actor) -> Order:
    if not branch.shopify_location_id:
        raise OperationError.single(
            ErrorCode.UNKNOWN_LOCATION,
            f"branch {branch.code} is not a Shopify location: Shopify could not ship from it",
            "branchId",
        )
    if order.branch_id == branch.id:
        raise OperationError.single(
            ErrorCode.INVALID, f"order {order.name} is already at branch {branch.code}", "branchId"
        )
    old_branch, old_location = order.branch_id, order.shopify_location_id
    where_old = "branch_id = ?" if old_branch is not None else "branch_id IS NULL"
    rows = await fetch(
        tx.conn,
        "UPDATE online_order SET branch_id = ?, shopify_location_id = ?, version = version + 1"
        f" WHERE id = ? AND status = ? AND {where_old} RETURNING version",
        [branch.id, branch.shopify_location_id, order.id, OrderStatus.OPEN.value]
        + ([old_branch] if old_branch is not None else []),
    )
    if not rows:
        current = await Order.get(id=order.id)
        raise OperationError.single(
            ErrorCode.WRONG_STATE,
            f"order {current.name} is {current.status.value.upper()} or was moved meanwhile: only an open order that"
            " has shipped nothing can be routed",
            "orderId",
        )
    version = rows[0]["version"]
    lines = await OrderLine.filter(order_id=order.id)
    if await OrderExchange.filter(order_id=order.id, status=ExchangeStatus.PENDING).exists():
        # The exchange's edit adds its units at the current branch's location: moving now would split them.
        raise OperationError.single(
            ErrorCode.WRONG_STATE, f"an exchange on {order.name} is on its way to Shopify: try again shortly", "orderId"
        )
    if any(line.fulfilled for line in lines):
        raise OperationError.single(ErrorCode.WRONG_STATE, f"order {order.name} has shipped units already", "orderId")
    movements, held = [], {}
    for line in lines:
        units = max(0, line.quantity - line.fulfilled) if line.variant_id else 0
        if units == 0:
            continue
        if old_branch is not None and line.reserved:
            movements.append(
                Movement(
                    old_branch,
                    line.variant_id,
                    -line.reserved,
                    Bucket.RESERVED,
                    "order_routed",
                    ShopifyEffect.FULFILLMENT,
                )
            )
        movements.append(
            Movement(branch.id, line.variant_id, units, Bucket.RESERVED, "order_routed", ShopifyEffect.FULFILLMENT)
        )
        held[line.id] = units
    for line in lines:
        if line.reserved != held.get(line.id, 0):
            line.reserved = held.get(line.id, 0)
            await line.save(update_fields=["reserved"])
    order = await Order.get(id=order.id)
    if order.exception_code in (ErrorCode.INSUFFICIENT_STOCK.value, ErrorCode.UNKNOWN_LOCATION.value):
        order.exception_code = order.exception_message = None
        await order.save(update_fields=["exception_code", "exception_message"])
    await write_order_action(
        tx,
        f"order_action:move:{order.id}:{version}",
        {
            "action": "fulfillment_order_move",
            "orderId": order.id,
            "shopifyOrderId": order.shopify_order_id,
            "fromLocationId": old_location,
            "newLocationId": branch.shopify_location_id,
        },
    )
    await order_events.record(
        tx, order, "routed", {"fromBranchId": old_branch, "toBranchId": branch.id}, actor=actor.label
    )
    if movements:  # the ledger last: its sequence locks are held only until commit
        await apply_to_ledger(
            tx,
            Posting(
                f"order:{order.shopify_order_id}:route:v{version}",
                "order_routed",
                actor=actor.label[:120],
                reference_type="online_order",
                reference_id=str(order.id),
            ),
            movements,
        )
    return order


async def needs_of(order: Order) -> list[Need]:
    lines = await OrderLine.filter(order_id=order.id, variant_id__isnull=False)
    by_variant: dict[int, int] = {}
    for line in lines:
        by_variant[line.variant_id] = by_variant.get(line.variant_id, 0) + max(0, line.quantity - line.fulfilled)
    return [Need(v, u) for v, u in sorted(by_variant.items()) if u > 0]


async def best_branch(order: Order, needs: list[Need]) -> Branch | None:
    """The first branch (by routing priority) that can ship every line and keep its safety stock."""
    if not needs:
        return None
    candidates = await Branch.filter(shopify_location_id__isnull=False).exclude(id=order.branch_id or 0)
    candidates.sort(key=lambda b: (b.routing_priority, b.id))
    variant_ids = [n.variant_id for n in needs]
    for branch in candidates:
        levels = {
            lv.variant_id: lv.on_hand - lv.reserved
            for lv in await StockLevel.filter(branch_id=branch.id, variant_id__in=variant_ids)
        }
        if all(levels.get(n.variant_id, 0) - branch.online_safety_stock >= n.units for n in needs):
            return branch
    return None


async def route_if_short(order_id: int) -> Order | None:
    """After intake: an order its branch cannot ship whole goes to the best branch that can."""
    order = await Order.get_or_none(id=order_id)
    if order is None or order.status is not OrderStatus.OPEN or order.exception_code != "INSUFFICIENT_STOCK":
        return None
    branch = await best_branch(order, await needs_of(order))
    if branch is None:
        return None
    try:
        moved, _ = await assign_order_branch(SYSTEM, order.id, branch.id, f"auto-route:{order.id}:{order.version}")
    except OperationError as error:  # lost a race for the stock, or the order moved on: it stays as it is
        log.info("could not route order %s to %s: %s", order.name, branch.code, error)
        return None
    return moved
