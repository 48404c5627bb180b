"""The poll recovers orders whose webhooks never arrived, and changes nothing it already knows."""

from datetime import UTC, datetime, timedelta

import pytest

from models.orders import Order, OrderHistory, OrderLine, OrderStatus
from models.shopify import ShopifyConnection
from operations.sync import orders_in
from operations.sync.orders_poll import poll_orders
from shopify.errors import ShopifyError
from tests.orders.conftest import committed, level_of, stocked


async def test_a_dropped_webhook_is_recovered_by_the_poll(shop):
    branch, variant, before = await stocked(3)
    placed = shop.shop.place_order(
        [(variant.shopify_variant_id, 2)], gateway="bogus", location=branch.shopify_location_id
    )
    await shop.hooks.collect()  # delivered to nobody: the webhook is lost
    assert await Order.filter(shopify_order_id=placed.gid).count() == 0

    assert await poll_orders() >= 1
    order = await Order.get(shopify_order_id=placed.gid)
    assert order.branch_id == branch.id and order.status is OrderStatus.OPEN
    assert (await OrderLine.get(order_id=order.id)).reserved == 2
    level = await level_of(branch.id, variant.id)
    assert level.reserved == before.reserved + 2 == committed(shop.shop, variant, branch)
    connection = await ShopifyConnection.first()
    assert connection.orders_synced_until is not None

    # Polling again, and the late webhook after all: nothing more.
    history = await OrderHistory.filter(order_id=order.id).count()
    await poll_orders()
    for topic, body in shop.hooks.bodies:
        await orders_in.on_order_webhook(topic, body)
    assert (await level_of(branch.id, variant.id)).reserved == before.reserved + 2
    assert await OrderHistory.filter(order_id=order.id).count() == history


async def test_the_poll_catches_a_missed_cancellation(shop):
    branch, variant, before = await stocked(3)
    placed = shop.shop.place_order([(variant.shopify_variant_id, 1)], location=branch.shopify_location_id)
    await shop.hooks.deliver()
    shop.shop.cancel_order(placed.gid)
    await shop.hooks.collect()  # lost
    await poll_orders()
    order = await Order.get(shopify_order_id=placed.gid)
    assert order.status is OrderStatus.CANCELLED
    assert (await level_of(branch.id, variant.id)).reserved == before.reserved


async def test_the_watermark_stays_put_when_shopify_fails(shop):
    await ShopifyConnection.all().update(orders_synced_until=datetime.now(UTC) - timedelta(hours=1))
    mark = (await ShopifyConnection.first()).orders_synced_until
    shop.shop.faults.fail_next(50, status=500)  # more than the client's retries
    with pytest.raises(ShopifyError):
        await poll_orders()
    shop.shop.faults.reset()
    assert (await ShopifyConnection.first()).orders_synced_until == mark


async def test_the_first_poll_takes_in_orders_still_open_however_old(shop):
    """An order placed a month before connecting and still unshipped has its units committed in
    Shopify: Branchline reserves them on its first poll, or a counter could sell them."""
    branch, variant, before = await stocked(3)
    old = shop.shop.place_order([(variant.shopify_variant_id, 1)], location=branch.shopify_location_id)
    shipped = shop.shop.place_order([(variant.shopify_variant_id, 1)], location=branch.shopify_location_id)
    shop.shop.cancel_order(shipped.gid)
    month_ago = datetime.now(UTC) - timedelta(days=30)
    for order in (old, shipped):
        order.created_at = order.updated_at = month_ago
    await shop.hooks.collect()  # happened before Branchline was listening
    await ShopifyConnection.all().update(orders_synced_until=None)

    await poll_orders()

    order = await Order.get(shopify_order_id=old.gid)
    assert order.status is OrderStatus.OPEN
    assert (await level_of(branch.id, variant.id)).reserved == before.reserved + 1
    assert not await Order.filter(shopify_order_id=shipped.gid).exists()  # closed long ago: not ours to hold
