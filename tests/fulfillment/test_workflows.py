"""The three fulfillment workflows end to end against the simulated Shopify: one order, one deduction,
Shopify and Branchline equal afterwards, whatever the webhooks do."""

from models.orders import CodStatus, Fulfillment, FulfillmentStatus, FulfillmentWorkflow, Order, OrderLine, OrderStatus
from models.outbox import OutboxRow
from models.stock import StockMovement
from operations.kernel.access import SYSTEM
from operations.orders.fulfillment import ShipLine, Shipment, fulfill_order, record_manual_fulfillment
from operations.sync import order_actions as shopify_order_actions
from operations.sync.fulfillment_webhooks import on_fulfillment_webhook
from tests.fulfillment.conftest import (
    assert_agree,
    confirm_cod,
    deliver,
    key,
    level_of,
    settle,
    stocked,
    take_order,
    use_workflow,
)


async def _deductions(order: Order) -> int:
    """Units that left stock for this order, by any workflow (ON_HAND movements of the fulfillment reason)."""
    lines = await OrderLine.filter(order_id=order.id)
    variants = {line.variant_id for line in lines}
    moves = await StockMovement.filter(reason="online_fulfillment", bucket="on_hand", variant_id__in=variants)
    return -sum(m.delta for m in moves)


async def test_smart_fulfillment_deducts_here_and_creates_the_shopify_fulfillment(shop):
    branch, variant, before = await stocked(3)
    await use_workflow(branch, "smart")
    order = await take_order(shop, branch, variant, 2, cod=True)
    await confirm_cod(order)

    shipment = Shipment(order.id, key(), courier="TCS", tracking_number="TCS-778")
    fulfillment, replayed = await fulfill_order(SYSTEM, shipment)
    assert not replayed and fulfillment.workflow is FulfillmentWorkflow.SMART
    assert fulfillment.status is FulfillmentStatus.PENDING
    level = await level_of(branch.id, variant.id)
    assert (level.on_hand, level.reserved) == (before.on_hand - 2, before.reserved)
    order = await Order.get(id=order.id)
    assert order.status is OrderStatus.FULFILLED
    assert (order.cod_status, order.courier, order.tracking_number) == (CodStatus.DISPATCHED, "TCS", "TCS-778")

    await settle(shop)
    fulfillment = await Fulfillment.get(id=fulfillment.id)
    assert fulfillment.status is FulfillmentStatus.SYNCED and fulfillment.shopify_fulfillment_id
    sim_order = shop.shop.orders[int(order.shopify_order_id.rsplit("/", 1)[1])]
    assert len(sim_order.fulfillment_ids) == 1
    made = shop.shop.fulfillments[sim_order.fulfillment_ids[0]]
    assert (made.tracking_company, made.tracking_numbers) == ("TCS", ["TCS-778"])

    # Shopify's own webhook for our fulfillment, twice: matched by its id, nothing deducted again.
    assert [t for t, _ in await deliver(shop, "fulfillments/", times=2)] == ["fulfillments/create"]
    await settle(shop)
    assert await _deductions(order) == 2
    assert await Fulfillment.filter(order_id=order.id).count() == 1
    await assert_agree(shop)

    again, replayed = await fulfill_order(SYSTEM, shipment)  # a retry of the same request
    assert replayed and again.id == fulfillment.id
    assert await _deductions(order) == 2


async def test_smart_fulfillment_whose_webhook_comes_before_the_answer_is_not_sent_twice(shop):
    branch, variant, _ = await stocked(3)
    await use_workflow(branch, "smart")
    order = await take_order(shop, branch, variant, 1)
    fulfillment, _ = await fulfill_order(SYSTEM, Shipment(order.id, key()))
    # Shopify answered slowly and its fulfillments/create webhook arrives before the answer is stored:
    # the simulator applies the call, then waits past the client's timeout.
    shop.shop.faults.delays.extend([0.0, 1.5])
    await shopify_order_actions.push_order_actions()
    row = await OutboxRow.get(key=f"order_action:fulfill:{fulfillment.id}")
    assert row.status.value == "pending" and row.attempts == 1  # not sure it went through: backs off
    await deliver(shop, "fulfillments/")  # the webhook matches the pending fulfillment by its lines
    fulfillment = await Fulfillment.get(id=fulfillment.id)
    assert fulfillment.status is FulfillmentStatus.SYNCED and fulfillment.shopify_fulfillment_id
    await settle(shop)
    sim_order = shop.shop.orders[int(order.shopify_order_id.rsplit("/", 1)[1])]
    assert len(sim_order.fulfillment_ids) == 1  # re-read before resending: not fulfilled twice
    assert (await OutboxRow.get(id=row.id)).status.value == "done"
    assert await _deductions(order) == 1
    await assert_agree(shop)


async def test_a_lost_answer_is_adopted_on_the_next_attempt(shop):
    branch, variant, _ = await stocked(3)
    await use_workflow(branch, "smart")
    order = await take_order(shop, branch, variant, 2)
    fulfillment, _ = await fulfill_order(SYSTEM, Shipment(order.id, key(), lines=None))
    shop.shop.faults.delays.extend([0.0, 1.5])
    await settle(shop)  # no webhook handed over this time: the worker finds Shopify's fulfillment itself
    fulfillment = await Fulfillment.get(id=fulfillment.id)
    sim_order = shop.shop.orders[int(order.shopify_order_id.rsplit("/", 1)[1])]
    assert len(sim_order.fulfillment_ids) == 1
    assert fulfillment.shopify_fulfillment_id == shop.shop.fulfillments[sim_order.fulfillment_ids[0]].gid
    row = await OutboxRow.get(key=f"order_action:fulfill:{fulfillment.id}")
    assert (row.status.value, row.outcome) == ("done", "adopted")
    await assert_agree(shop)


async def test_partial_fulfillment_ships_lines_in_parts(shop):
    branch, variant, before = await stocked(4)
    await use_workflow(branch, "smart")
    order = await take_order(shop, branch, variant, 3)
    line = await OrderLine.get(order_id=order.id)
    _first, _ = await fulfill_order(SYSTEM, Shipment(order.id, key(), lines=[ShipLine(line.id, 1)]))
    assert (await Order.get(id=order.id)).status is OrderStatus.PARTIALLY_FULFILLED
    level = await level_of(branch.id, variant.id)
    assert (level.on_hand, level.reserved) == (before.on_hand - 1, before.reserved + 2)
    await settle(shop)
    await assert_agree(shop)
    _second, _ = await fulfill_order(SYSTEM, Shipment(order.id, key()))  # the rest
    assert (await OrderLine.get(id=line.id)).fulfilled == 3
    assert (await Order.get(id=order.id)).status is OrderStatus.FULFILLED
    await settle(shop)
    await deliver(shop, "fulfillments/")
    sim_order = shop.shop.orders[int(order.shopify_order_id.rsplit("/", 1)[1])]
    assert len(sim_order.fulfillment_ids) == 2 and sim_order.fulfillment_status == "FULFILLED"
    assert await _deductions(order) == 3
    await assert_agree(shop)


async def test_manual_then_shopify_fulfillment_is_deducted_once(shop):
    branch, variant, before = await stocked(3)
    await use_workflow(branch, "manual")
    order = await take_order(shop, branch, variant, 2)
    fulfillment, _ = await record_manual_fulfillment(SYSTEM, Shipment(order.id, key(), courier="Leopards"))
    assert fulfillment.workflow is FulfillmentWorkflow.MANUAL and fulfillment.status is FulfillmentStatus.PENDING
    assert not await OutboxRow.filter(topic="shopify.order_action").exists()  # Shopify is not called
    level = await level_of(branch.id, variant.id)
    assert (level.on_hand, level.reserved) == (before.on_hand - 2, before.reserved)

    shop.shop.fulfill(order.shopify_order_id)  # later, the merchant fulfils it by hand in Shopify
    await deliver(shop, "fulfillments/", times=2)
    fulfillment = await Fulfillment.get(id=fulfillment.id)
    assert fulfillment.status is FulfillmentStatus.SYNCED and fulfillment.shopify_fulfillment_id
    await settle(shop)
    assert await _deductions(order) == 2
    assert await Fulfillment.filter(order_id=order.id).count() == 1
    level = await level_of(branch.id, variant.id)
    assert (level.on_hand, level.reserved) == (before.on_hand - 2, before.reserved)
    await assert_agree(shop)


async def test_branch_sync_with_a_duplicated_and_reordered_webhook_is_deducted_once(shop):
    branch, variant, before = await stocked(3)
    await use_workflow(branch, "branch_sync")
    placed = shop.shop.place_order([(variant.shopify_variant_id, 2)], location=branch.shopify_location_id)
    shop.shop.fulfill(placed.gid, tracking={"company": "TCS", "number": "X1"})
    # The fulfillment's webhook arrives first, before its order was ever taken in: the order is fetched.
    got = await deliver(shop, "fulfillments/")
    assert [t for t, _ in got] == ["fulfillments/create"]
    order = await Order.get(shopify_order_id=placed.gid)
    level = await level_of(branch.id, variant.id)
    assert (level.on_hand, level.reserved) == (before.on_hand - 2, before.reserved)
    await shop.hooks.deliver()  # then the (older) order webhooks, then the fulfillment again
    for topic, body in got:
        await on_fulfillment_webhook(topic, body)
    await settle(shop)
    made = await Fulfillment.get(order_id=order.id)
    assert made.workflow is FulfillmentWorkflow.BRANCH_SYNC and made.status is FulfillmentStatus.SYNCED
    assert await Fulfillment.filter(order_id=order.id).count() == 1
    assert await _deductions(order) == 2
    level = await level_of(branch.id, variant.id)
    assert (level.on_hand, level.reserved) == (before.on_hand - 2, before.reserved)
    assert (await Order.get(id=order.id)).status is OrderStatus.FULFILLED
    await assert_agree(shop)


async def test_branch_sync_in_order_deducts_at_the_fulfilling_branch(shop):
    branch, variant, before = await stocked(3)
    order = await take_order(shop, branch, variant, 1)  # branch_sync is the default workflow
    assert (await level_of(branch.id, variant.id)).reserved == before.reserved + 1
    shop.shop.fulfill(order.shopify_order_id)
    await deliver(shop, "fulfillments/")
    await settle(shop)
    level = await level_of(branch.id, variant.id)
    assert (level.on_hand, level.reserved) == (before.on_hand - 1, before.reserved)
    await assert_agree(shop)


async def test_manual_recorded_in_parts_then_fulfilled_at_once_in_shopify_is_deducted_once(shop):
    branch, variant, before = await stocked(3)
    await use_workflow(branch, "manual")
    order = await take_order(shop, branch, variant, 2)
    line = await OrderLine.get(order_id=order.id)
    for _ in range(2):
        await record_manual_fulfillment(SYSTEM, Shipment(order.id, key(), lines=[ShipLine(line.id, 1)]))
    shop.shop.fulfill(order.shopify_order_id)  # the merchant fulfils both units in one go
    await deliver(shop, "fulfillments/", times=2)
    await settle(shop)
    statuses = await Fulfillment.filter(order_id=order.id).values_list("status", flat=True)
    assert sorted(statuses) == [FulfillmentStatus.SYNCED, FulfillmentStatus.SYNCED]
    assert await _deductions(order) == 2
    level = await level_of(branch.id, variant.id)
    assert (level.on_hand, level.reserved) == (before.on_hand - 2, before.reserved)
    await assert_agree(shop)


async def test_manual_recorded_at_once_then_fulfilled_in_parts_in_shopify_is_deducted_once(shop):
    branch, variant, before = await stocked(4)
    await use_workflow(branch, "manual")
    order = await take_order(shop, branch, variant, 3)
    line = await OrderLine.get(order_id=order.id)
    recorded, _ = await record_manual_fulfillment(SYSTEM, Shipment(order.id, key()))
    shop.shop.fulfill(order.shopify_order_id, lines=[(line.shopify_line_item_id, 1)])
    await deliver(shop, "fulfillments/")
    assert (await Fulfillment.get(id=recorded.id)).status is FulfillmentStatus.PENDING  # 2 units still unmatched
    shop.shop.fulfill(order.shopify_order_id, lines=[(line.shopify_line_item_id, 2)])
    await deliver(shop, "fulfillments/", times=2)
    await settle(shop)
    assert await _deductions(order) == 3
    assert not await Fulfillment.filter(order_id=order.id, status=FulfillmentStatus.PENDING).exists()
    quantities = [
        sum(fl.quantity for fl in f.lines)
        for f in await Fulfillment.filter(order_id=order.id).prefetch_related("lines")
    ]
    assert sorted(quantities) == [1, 2]
    level = await level_of(branch.id, variant.id)
    assert (level.on_hand, level.reserved) == (before.on_hand - 3, before.reserved)
    await assert_agree(shop)


async def test_a_fulfillment_cancelled_in_shopify_puts_its_units_back_once(shop):
    branch, variant, before = await stocked(3)
    order = await take_order(shop, branch, variant, 2)
    shop.shop.fulfill(order.shopify_order_id)
    (_topic, body), *_ = await deliver(shop, "fulfillments/")
    assert (await level_of(branch.id, variant.id)).on_hand == before.on_hand - 2
    # fulfillments/update with status cancelled (what Shopify sends when the merchant cancels it), twice
    for _ in range(2):
        await on_fulfillment_webhook("fulfillments/update", {**body, "status": "cancelled"})
    level = await level_of(branch.id, variant.id)
    assert (level.on_hand, level.reserved) == (before.on_hand, before.reserved + 2)  # unfulfilled again
    line = await OrderLine.get(order_id=order.id)
    assert (line.fulfilled, line.reserved) == (0, 2)
    assert (await Order.get(id=order.id)).status is OrderStatus.OPEN
    assert (await Fulfillment.get(order_id=order.id)).status is FulfillmentStatus.CANCELLED
    assert await StockMovement.filter(reason="fulfillment_cancelled").count() == 2
    # one Branchline never took in is nothing to undo
    await on_fulfillment_webhook(
        "fulfillments/update", {**body, "id": 424242, "admin_graphql_api_id": None, "status": "cancelled"}
    )
    assert await StockMovement.filter(reason="fulfillment_cancelled").count() == 2
