"""Regressions from the review of the order intake: lines a capped GraphQL read did not reach are unknown
(left as they are), never removed nor taken as untracked."""

import dataclasses
from datetime import timedelta

from models.orders import Order, OrderLine
from operations.orders import intake as order_intake
from operations.orders.payloads import Placement, from_graphql, from_webhook
from operations.sync import orders_in
from tests.orders.conftest import level_of, stocked


async def _taken(shop, branch, variant, qty=2) -> Order:
    placed = shop.shop.place_order(
        [(variant.shopify_variant_id, qty)], gateway="shopify_payments", location=branch.shopify_location_id
    )
    await shop.hooks.deliver()
    return await Order.get(shopify_order_id=placed.gid)


async def test_a_line_beyond_the_read_cap_is_not_removed(shop):
    branch, variant, before = await stocked(3)
    order = await _taken(shop, branch, variant, 2)
    line = await OrderLine.get(order_id=order.id)
    node = {
        "id": order.shopify_order_id,
        "name": order.name,
        "updatedAt": (order.shopify_updated_at + timedelta(minutes=1)).isoformat(),
        "lineItems": {"pageInfo": {"hasNextPage": True}, "nodes": []},  # the page ended before this line
    }
    incoming, _ = from_graphql(node)
    assert incoming.lines_complete is False
    await orders_in.take_in(incoming, Placement(branch.shopify_location_id, {}, []))
    line = await OrderLine.get(id=line.id)
    assert (line.quantity, line.reserved) == (2, 2)
    assert (await level_of(branch.id, variant.id)).reserved == before.reserved + 2
    # A complete list without the line does remove it (an order edit): the cap is what makes it unknown.
    complete = dataclasses.replace(incoming, lines_complete=True)
    await orders_in.take_in(complete, Placement(branch.shopify_location_id, {}, []))
    assert (await OrderLine.get(id=line.id)).quantity == 0
    assert (await level_of(branch.id, variant.id)).reserved == before.reserved


async def test_a_line_the_placement_read_did_not_reach_is_not_untracked(shop):
    branch, variant, before = await stocked(3)
    placed = shop.shop.place_order(
        [(variant.shopify_variant_id, 1)], gateway="shopify_payments", location=branch.shopify_location_id
    )
    [(_, body)] = await shop.hooks.collect()
    incoming = from_webhook(body)
    # Shopify's fulfillment orders were read, but not as far as this line: its tracking is unknown.
    await orders_in.take_in(incoming, Placement(branch.shopify_location_id, {}, []))
    order = await Order.get(shopify_order_id=placed.gid)
    assert order.exception_code != order_intake.UNTRACKED_ITEM
    line = await OrderLine.get(order_id=order.id)
    assert line.variant_id is None and line.reserved == 0  # unknown for now: nothing reserved, nothing flagged
    assert (await level_of(branch.id, variant.id)).reserved == before.reserved
