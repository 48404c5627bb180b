"""Regressions from the review of the fulfillment webhooks: a Smart fulfillment the merchant also fulfils by
hand, a cancellation that arrives before its create, one Shopify fulfillment standing for several Manual
ones, and cancellations of lines with no variant."""

from models.orders import Fulfillment, FulfillmentStatus, OrderLine
from models.outbox import OutboxRow
from operations.kernel.access import SYSTEM
from operations.orders.fulfillment import ShipLine, Shipment, fulfill_order, record_manual_fulfillment
from operations.sync.fulfillment_webhooks import on_fulfillment_webhook
from tests.fulfillment.conftest import (
    assert_agree,
    deliver,
    key,
    level_of,
    settle,
    stocked,
    take_order,
    use_workflow,
)


def _report(gid, order, branch, lines, status="success", **extra):
    return {
        "admin_graphql_api_id": gid,
        "order_id": order.shopify_order_id,
        "location_id": branch.shopify_location_id,
        "status": status,
        "line_items": [{"admin_graphql_api_id": g, "quantity": q} for g, q in lines],
        **extra,
    }


async def test_smart_pending_then_merchant_fulfils_part_in_shopify_deducts_once(shop):
    branch, variant, before = await stocked(3)
    await use_workflow(branch, "smart")
    order = await take_order(shop, branch, variant, 2)
    await fulfill_order(SYSTEM, Shipment(order.id, key()))
    line = await OrderLine.get(order_id=order.id)
    body = _report("gid://shopify/Fulfillment/990001", order, branch, [(line.shopify_line_item_id, 1)])
    await on_fulfillment_webhook("fulfillments/create", body)
    await on_fulfillment_webhook("fulfillments/create", body)  # and its duplicate
    assert (await level_of(branch.id, variant.id)).on_hand == before.on_hand - 2
    line = await OrderLine.get(id=line.id)
    assert line.fulfilled == 2
    # The unit the merchant fulfilled is split off the pending Smart one and linked; one unit is still to send.
    parts = await Fulfillment.filter(order_id=order.id).prefetch_related("lines")
    assert sorted((f.status, sum(fl.quantity for fl in f.lines)) for f in parts) == [
        (FulfillmentStatus.PENDING, 1),
        (FulfillmentStatus.SYNCED, 1),
    ]
    synced = next(f for f in parts if f.status is FulfillmentStatus.SYNCED)
    assert synced.matched_shopify_fulfillment_id == "gid://shopify/Fulfillment/990001"


async def test_smart_pending_merchant_fulfils_part_in_shopify_then_worker_sends_only_the_rest(shop):
    branch, variant, before = await stocked(3)
    await use_workflow(branch, "smart")
    order = await take_order(shop, branch, variant, 2)
    await fulfill_order(SYSTEM, Shipment(order.id, key()))
    line = await OrderLine.get(order_id=order.id)
    shop.shop.fulfill(order.shopify_order_id, lines=[(line.shopify_line_item_id, 1)])  # by hand, before the worker
    await deliver(shop, "fulfillments/", times=2)
    await settle(shop)
    await deliver(shop, "fulfillments/")  # the webhook of Branchline's own fulfillmentCreate for the last unit
    sim_order = shop.shop.orders[int(order.shopify_order_id.rsplit("/", 1)[1])]
    made = [shop.shop.fulfillments[i] for i in sim_order.fulfillment_ids]
    assert sorted(sum(li["quantity"] for li in f.lines) for f in made) == [1, 1]
    row = await OutboxRow.get(topic="shopify.order_action")
    assert row.status.value == "done"
    assert (await level_of(branch.id, variant.id)).on_hand == before.on_hand - 2
    assert not await Fulfillment.filter(order_id=order.id, status=FulfillmentStatus.PENDING).exists()
    await assert_agree(shop)


async def test_cancelled_update_before_create_deducts_nothing(shop):
    branch, variant, before = await stocked(3)
    await use_workflow(branch, "branch_sync")
    order = await take_order(shop, branch, variant, 1)
    line = await OrderLine.get(order_id=order.id)
    body = _report("gid://shopify/Fulfillment/990002", order, branch, [(line.shopify_line_item_id, 1)])
    await on_fulfillment_webhook("fulfillments/update", {**body, "status": "cancelled"})
    await on_fulfillment_webhook("fulfillments/create", body)
    await on_fulfillment_webhook("fulfillments/update", {**body, "status": "cancelled"})
    lv = await level_of(branch.id, variant.id)
    assert lv.on_hand == before.on_hand
    assert lv.reserved == before.reserved + 1  # still reserved for the order
    assert (await OrderLine.get(id=line.id)).fulfilled == 0


async def test_cancel_of_shopify_fulfillment_matched_to_two_manual_ones_restores_both(shop):
    branch, variant, before = await stocked(3)
    await use_workflow(branch, "manual")
    order = await take_order(shop, branch, variant, 2)
    line = await OrderLine.get(order_id=order.id)
    for _ in range(2):
        await record_manual_fulfillment(SYSTEM, Shipment(order.id, key(), [ShipLine(line.id, 1)]))
    gid = "gid://shopify/Fulfillment/990003"
    body = _report(gid, order, branch, [(line.shopify_line_item_id, 2)])
    await on_fulfillment_webhook("fulfillments/create", body)
    await on_fulfillment_webhook("fulfillments/update", {**body, "tracking_number": "TCS-77"})
    numbers = await Fulfillment.filter(order_id=order.id).values_list("tracking_number", flat=True)
    assert numbers == ["TCS-77", "TCS-77"]  # the tracking reaches both
    await on_fulfillment_webhook("fulfillments/update", {**body, "status": "cancelled"})
    await on_fulfillment_webhook("fulfillments/update", {**body, "status": "cancelled"})
    lv = await level_of(branch.id, variant.id)
    assert (lv.on_hand, lv.reserved) == (before.on_hand, before.reserved + 2)
    assert (await OrderLine.get(id=line.id)).fulfilled == 0
    statuses = await Fulfillment.filter(order_id=order.id).values_list("status", flat=True)
    assert statuses == [FulfillmentStatus.CANCELLED, FulfillmentStatus.CANCELLED]


async def test_manual_partly_matched_with_branch_sync_rest_is_all_linked(shop):
    branch, variant, before = await stocked(3)
    await use_workflow(branch, "manual")
    order = await take_order(shop, branch, variant, 3)
    line = await OrderLine.get(order_id=order.id)
    await record_manual_fulfillment(SYSTEM, Shipment(order.id, key(), [ShipLine(line.id, 1)]))
    gid = "gid://shopify/Fulfillment/990004"
    body = _report(gid, order, branch, [(line.shopify_line_item_id, 3)])
    await on_fulfillment_webhook("fulfillments/create", body)
    lv = await level_of(branch.id, variant.id)
    assert (lv.on_hand, lv.reserved) == (before.on_hand - 3, before.reserved)
    await on_fulfillment_webhook("fulfillments/update", {**body, "status": "cancelled"})
    lv = await level_of(branch.id, variant.id)
    assert (lv.on_hand, lv.reserved) == (before.on_hand, before.reserved + 3)


async def test_merchant_fulfils_part_of_a_smart_one_and_the_worker_runs_before_the_webhook(shop):
    branch, variant, before = await stocked(3)
    await use_workflow(branch, "smart")
    order = await take_order(shop, branch, variant, 2)
    await fulfill_order(SYSTEM, Shipment(order.id, key()))
    line = await OrderLine.get(order_id=order.id)
    shop.shop.fulfill(order.shopify_order_id, lines=[(line.shopify_line_item_id, 1)])
    await settle(shop)  # the worker finds the merchant's fulfillment itself, takes it in, sends only the rest
    row = await OutboxRow.get(topic="shopify.order_action")
    assert (row.status.value, row.outcome) == ("done", "fulfilled")
    await deliver(shop, "fulfillments/", times=2)  # both webhooks, late and twice
    sim_order = shop.shop.orders[int(order.shopify_order_id.rsplit("/", 1)[1])]
    assert sorted(sum(li["quantity"] for li in shop.shop.fulfillments[i].lines) for i in sim_order.fulfillment_ids) == [
        1,
        1,
    ]
    assert (await level_of(branch.id, variant.id)).on_hand == before.on_hand - 2
    assert (await OrderLine.get(id=line.id)).fulfilled == 2
    await assert_agree(shop)


async def test_undoing_a_fulfillment_of_a_line_with_no_variant_reserves_nothing(shop):
    from models.catalog import Variant
    from models.orders import Order
    from operations.orders import steps as order_steps

    branch, variant, before = await stocked(2)
    await use_workflow(branch, "branch_sync")
    placed = shop.shop.place_order(
        [(variant.shopify_variant_id, 1)], gateway="shopify_payments", location=branch.shopify_location_id
    )
    await Variant.filter(id=variant.id).update(shopify_variant_id=None)  # not known to Branchline
    await shop.hooks.deliver()
    order = await Order.get(shopify_order_id=placed.gid)
    line = await OrderLine.get(order_id=order.id)
    assert line.variant_id is None
    body = _report("gid://shopify/Fulfillment/990005", order, branch, [(line.shopify_line_item_id, 1)])
    await on_fulfillment_webhook("fulfillments/create", body)
    await on_fulfillment_webhook("fulfillments/update", {**body, "status": "cancelled"})
    line = await OrderLine.get(id=line.id)
    assert (line.fulfilled, line.reserved) == (0, 0)
    await order_steps.cancel_order(
        SYSTEM, order.id, key("cancel")
    )  # releases nothing, posts no movement without a variant
    lv = await level_of(branch.id, variant.id)
    assert (lv.on_hand, lv.reserved) == (before.on_hand, before.reserved)


async def test_an_order_action_taken_over_after_its_lease_is_neither_run_again_nor_overwritten(shop):
    import asyncio

    from operations.sync import order_actions as actions

    branch, variant, _ = await stocked(3)
    await use_workflow(branch, "smart")
    for _ in range(2):
        order = await take_order(shop, branch, variant, 1)
        await fulfill_order(SYSTEM, Shipment(order.id, key()))
    stalled = await actions._claim(10, 0.05)  # a worker claims both rows, then stalls past its lease
    assert len(stalled) == 2
    await asyncio.sleep(0.1)
    assert await actions.push_order_actions() == 2  # another worker takes them over and carries them out
    for row in stalled:  # the stalled worker wakes up: each row is no longer its to run or to finish
        assert not await actions._renew(row, 60)
        await actions._finish(row, "parked", "late", outcome=None)
        await actions._back_off(row, "late")
    done = await OutboxRow.filter(topic="shopify.order_action").values_list("status", "outcome", "last_error")
    assert [(s.value, o, e) for s, o, e in done] == [("done", "fulfilled", None)] * 2
    assert len(shop.shop.fulfillments) == 2


async def test_a_dropped_fulfillment_webhook_is_recovered_by_the_poll(shop):
    from operations.sync.orders_poll import poll_orders
    from tests.fulfillment.conftest import webhooks

    branch, variant, before = await stocked(3)
    await use_workflow(branch, "branch_sync")
    order = await take_order(shop, branch, variant, 2)
    line = await OrderLine.get(order_id=order.id)
    shop.shop.fulfill(order.shopify_order_id, lines=[(line.shopify_line_item_id, 1)])
    lost = await webhooks(shop, "fulfillments/")  # delivered to nobody: the webhook is lost
    assert [t for t, _ in lost] == ["fulfillments/create"]
    await shop.hooks.collect()  # the orders/updated it caused too
    assert (await level_of(branch.id, variant.id)).on_hand == before.on_hand
    await poll_orders()
    await poll_orders()  # a second look changes nothing
    lv = await level_of(branch.id, variant.id)
    assert (lv.on_hand, lv.reserved) == (before.on_hand - 1, before.reserved + 1)
    assert (await OrderLine.get(id=line.id)).fulfilled == 1
    for topic, body in lost:  # the webhook turns up after all: already taken in, nothing changes
        await on_fulfillment_webhook(topic, body)
    assert (await level_of(branch.id, variant.id)).on_hand == before.on_hand - 1
    await settle(shop)
    await assert_agree(shop)


async def test_create_and_cancel_of_one_shopify_fulfillment_at_once_leave_nothing_deducted(shop):
    import asyncio

    branch, variant, before = await stocked(3)
    await use_workflow(branch, "branch_sync")
    order = await take_order(shop, branch, variant, 1)
    line = await OrderLine.get(order_id=order.id)
    body = _report("gid://shopify/Fulfillment/990006", order, branch, [(line.shopify_line_item_id, 1)])
    await asyncio.gather(
        on_fulfillment_webhook("fulfillments/create", body),
        on_fulfillment_webhook("fulfillments/update", {**body, "status": "cancelled"}),
        on_fulfillment_webhook("fulfillments/create", body),
    )
    lv = await level_of(branch.id, variant.id)
    assert (lv.on_hand, lv.reserved) == (before.on_hand, before.reserved + 1)
    assert (await OrderLine.get(id=line.id)).fulfilled == 0
