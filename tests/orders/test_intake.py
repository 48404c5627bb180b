"""Orders in from Shopify: reserved once at the branch of the assigned location, whatever the webhooks do."""

import pytest

from models.orders import CodStatus, Order, OrderHistory, OrderLine, OrderStatus
from models.stock import StockMovement, StockPosting
from operations.kernel.errors import ErrorCode, OperationError
from operations.sync import orders_in
from tests.orders.conftest import committed, level_of, stocked


async def _place(shop, branch, variant, qty=2, gateway="shopify_payments"):
    order = shop.shop.place_order(
        [(variant.shopify_variant_id, qty)], gateway=gateway, location=branch.shopify_location_id
    )
    return order


async def test_an_order_reserves_its_units_at_the_branch_of_its_location(shop):
    branch, variant, before = await stocked(3)
    placed = await _place(shop, branch, variant, 2)
    delivered = await shop.hooks.deliver()
    assert [t for t, _ in delivered] == ["orders/create"]

    order = await Order.get(shopify_order_id=placed.gid)
    assert order.branch_id == branch.id and order.status is OrderStatus.OPEN
    assert not order.is_cod and order.cod_status is None and order.exception_code is None
    line = await OrderLine.get(order_id=order.id)
    assert (line.variant_id, line.quantity, line.reserved) == (variant.id, 2, 2)
    after = await level_of(branch.id, variant.id)
    assert after.on_hand == before.on_hand  # nothing left the shelf
    assert after.reserved == before.reserved + 2  # but in-store selling cannot take them
    assert committed(shop.shop, variant, branch) == after.reserved  # Shopify committed == reserved
    kinds = await OrderHistory.filter(order_id=order.id).values_list("kind", flat=True)
    assert kinds == ["created"]


async def test_duplicate_and_reordered_webhooks_reserve_once(shop):
    branch, variant, before = await stocked(3)
    placed = await _place(shop, branch, variant, 1)
    for topic, body in await shop.hooks.collect():
        for _ in range(3):
            await orders_in.on_order_webhook(topic, body)
    order = await Order.get(shopify_order_id=placed.gid)
    assert (await level_of(branch.id, variant.id)).reserved == before.reserved + 1
    assert await StockMovement.filter(reason="online_order", branch_id=branch.id).count() == 1
    assert order.version == 1  # the duplicates rolled back: not even a version bump


async def test_a_cancel_that_overtakes_its_order_leaves_nothing_reserved(shop):
    branch, variant, before = await stocked(3)
    placed = await _place(shop, branch, variant, 2)
    shop.shop.cancel_order(placed.gid)
    bodies = await shop.hooks.collect()
    assert [t for t, _ in bodies] == ["orders/create", "orders/cancelled", "orders/updated"]
    for topic, body in reversed(bodies):  # newest first: the older ones are stale
        await orders_in.on_order_webhook(topic, body)
    order = await Order.get(shopify_order_id=placed.gid)
    assert order.status is OrderStatus.CANCELLED
    assert (await level_of(branch.id, variant.id)).reserved == before.reserved
    assert await StockMovement.filter(branch_id=branch.id, bucket="reserved").count() == 0


async def test_cancel_in_shopify_releases_and_a_late_older_update_is_ignored(shop):
    branch, variant, before = await stocked(3)
    placed = await _place(shop, branch, variant, 2)
    first = await shop.hooks.deliver()
    shop.shop.cancel_order(placed.gid)
    await shop.hooks.deliver()
    order = await Order.get(shopify_order_id=placed.gid)
    assert order.status is OrderStatus.CANCELLED and order.cancelled_at is not None
    assert (await level_of(branch.id, variant.id)).reserved == before.reserved
    assert committed(shop.shop, variant, branch) == before.reserved
    assert await OrderLine.filter(order_id=order.id, reserved__gt=0).count() == 0
    # The creation webhook again, late: older than what was applied, changes nothing.
    await orders_in.on_order_webhook(*first[0])
    assert (await level_of(branch.id, variant.id)).reserved == before.reserved


async def test_a_cod_order_waits_for_confirmation(shop):
    branch, variant, _ = await stocked(2)
    placed = await _place(shop, branch, variant, 1, gateway="Cash on Delivery (COD)")
    await shop.hooks.deliver()
    order = await Order.get(shopify_order_id=placed.gid)
    assert order.is_cod and order.cod_status is CodStatus.PENDING_CONFIRMATION


@pytest.mark.parametrize(
    "spoil",
    [
        lambda b: b.pop("line_items"),
        lambda b: b.pop("updated_at"),
        lambda b: b.update(updated_at="yesterday"),
        lambda b: b.pop("name"),
        lambda b: b.update(id=None, admin_graphql_api_id=None),
        lambda b: b["line_items"][0].update(current_quantity=-1),
        lambda b: b["line_items"][0].update(price="lots"),
    ],
)
async def test_a_malformed_body_is_refused_and_writes_nothing(shop, spoil):
    branch, variant, _ = await stocked(2)
    await _place(shop, branch, variant, 1)
    (topic, body), *_ = await shop.hooks.collect()
    spoil(body)
    postings = await StockPosting.all().count()
    with pytest.raises(OperationError) as raised:
        await orders_in.on_order_webhook(topic, body)
    assert raised.value.problems[0].code is ErrorCode.MALFORMED_WEBHOOK
    assert await Order.all().count() == 0 and await StockPosting.all().count() == postings


async def test_a_body_that_is_not_an_object_is_refused(shop):
    with pytest.raises(OperationError) as not_an_object:
        await orders_in.on_order_webhook("orders/create", ["not", "an", "order"])
    assert [p.code for p in not_an_object.value.problems] == [ErrorCode.MALFORMED_WEBHOOK]
    with pytest.raises(OperationError) as not_an_order_topic:
        await orders_in.on_order_webhook("products/update", {})
    assert [p.code for p in not_an_order_topic.value.problems] == [ErrorCode.MALFORMED_WEBHOOK]
