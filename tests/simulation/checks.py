"""Quiescence and what must hold after it (issue #5, "the drift simulation")."""

import asyncio
import time

from models.inbox import InboxStatus, WebhookInbox
from models.orders import Order, OrderLine, OrderStatus
from models.outbox import OutboxRow
from models.stock import StockLevel
from operations.drift import check as shopify_drift
from operations.stock.adjustments import check_ledger
from operations.sync import inbox as shopify_inbox
from operations.sync import order_actions as shopify_order_actions
from operations.sync import orders_poll as order_poll
from operations.sync import push as shopify_push
from tests.drift.conftest import unexplained

UNFINISHED = ("pending", "parked")


async def _busy() -> int:
    inbox = await WebhookInbox.filter(
        status__in=[InboxStatus.PENDING, InboxStatus.PROCESSING, InboxStatus.RETRYING]
    ).count()
    outbox = await OutboxRow.filter(status="pending").count()
    return inbox + outbox


async def quiesce(driver, within: float = 60.0) -> None:
    """Stop the faults, let the merchant catch up on Manual fulfilments, deliver every held webhook,
    poll, and run the workers until nothing is left to do and Shopify has nothing more to say."""
    shop = driver.w.shop
    shop.faults.reset()
    for sim_order in list(driver.model.orders.values()):
        if sim_order.manual_waiting:
            await driver._merchant_fulfils(sim_order, await Order.get(shopify_order_id=sim_order.gid))
    deadline = time.monotonic() + within
    quiet = 0
    while quiet < 2:
        assert time.monotonic() < deadline, f"no quiescence: {await _busy()} rows busy; seed {driver.seed}"
        await driver.deliver_webhooks(everything=True)
        await order_poll.poll_orders()
        await shopify_inbox.process_inbox(500)
        await shopify_order_actions.push_order_actions(500)
        await shopify_push.push_due(1000)
        await shop.webhooks.drain(10)
        busy = await _busy()
        fresh = len(driver.w.receiver.received) - driver.taken
        quiet = quiet + 1 if not busy and not fresh and not driver.held else 0
        if busy:
            await asyncio.sleep(0.1)  # rows leased by a killed round come due again after the lease


async def _lines_of(branch_id: int, variant_id: int) -> list[str]:
    """For a level that disagrees: the order lines of that variant, to read beside the trace."""
    out = []
    for line in await OrderLine.filter(variant_id=variant_id).prefetch_related("order"):
        order = line.order
        if order.branch_id == branch_id or line.reserved or line.fulfilled:
            out.append(
                f"  {order.shopify_order_id} {order.status.value} branch {order.branch_id} line {line.id}"
                f" {line.shopify_line_item_id} qty {line.quantity} reserved {line.reserved}"
                f" fulfilled {line.fulfilled} returned {line.returned} restocked {line.shopify_restocked}"
            )
    return out


async def assert_quiescent_state(driver) -> None:
    model, shop, problems = driver.model, driver.w.shop, []
    for (branch_id, variant_id), units in sorted(model.on_hand.items()):
        level = await StockLevel.get_or_none(branch_id=branch_id, variant_id=variant_id)
        mine = (level.on_hand, level.damaged) if level else (0, 0)
        damaged = model.damaged.get((branch_id, variant_id), 0)
        branch, variant = driver.branches[branch_id], driver.variants[variant_id]
        try:
            q = shop.quantities(variant.shopify_inventory_item_id, branch.shopify_location_id)
        except KeyError:
            q = {"available": 0, "damaged": 0}
        theirs = (q["available"] + q.get("committed", 0) + q.get("reserved", 0), q["damaged"])
        if not (mine == theirs == (units, damaged)):
            problems.append(
                f"{branch.code}/{variant.sku}: physical {(units, damaged)} branchline {mine} shopify {theirs}"
            )
        if level and level.reserved != q.get("committed", 0):
            problems.append(f"{branch.code}/{variant.sku}: reserved {level.reserved} vs committed {q.get('committed')}")
        if level and not (mine == theirs == (units, damaged) and level.reserved == q.get("committed", 0)):
            problems += await _lines_of(branch_id, variant_id)
    differences, sequences = await check_ledger()
    problems += [f"ledger: {d}" for d in differences] + [f"sequence: {s}" for s in sequences]
    for row in await OutboxRow.filter(status__in=UNFINISHED):
        problems.append(f"outbox {row.status} {row.key}: {row.last_error}")
    for row in await WebhookInbox.exclude(status__in=[InboxStatus.DONE, InboxStatus.STALE, InboxStatus.IGNORED]):
        problems.append(f"inbox {row.status} {row.topic} {row.subject}: {row.error_code} {row.last_error}")
    for order in await Order.filter(status__in=[OrderStatus.FULFILLED, OrderStatus.CANCELLED]):
        held = sum(line.reserved for line in await OrderLine.filter(order_id=order.id))
        if held:
            problems.append(f"order {order.name} {order.status} still reserves {held}")
    for line in await OrderLine.filter(shopify_line_item_id__startswith="exchange:", quantity__gt=0):
        problems.append(f"order line {line.id} still waits for Shopify's edit ({line.quantity} of {line.variant_id})")
    check = await shopify_drift.check_drift()
    if check.unexplained or check.explained or check.error:
        lines = [f"{ln.branch_id}/{ln.variant_id} {ln.explanation}" for ln in await unexplained(check.id)]
        problems.append(f"drift: {check.status} {check.unexplained} unexplained {check.explained} explained {lines}")
    assert not problems, "\n".join([f"seed {driver.seed}", *problems, "--- trace (last 80)", *driver.trace[-80:]])
