"""COD steps, cancelling in Branchline, and routing an order to another branch."""

import asyncio

import pytest

from models.branches import Branch
from models.orders import CodStatus, Order, OrderLine, OrderStatus
from models.outbox import OutboxRow
from models.staff import Role
from operations.directory import OnlineSettings, set_online_settings
from operations.kernel.access import SYSTEM, AccessDenied, Actor
from operations.kernel.errors import ErrorCode, OperationError
from operations.orders import Shipment, fulfill_order
from operations.orders import steps as order_steps
from operations.orders.routing import assign_order_branch
from operations.sync import orders_in
from tests.factories import deduct, key, stock
from tests.orders.conftest import level_of, stocked


async def _order(shop, branch, variant, qty=1, gateway="Cash on Delivery (COD)") -> Order:
    placed = shop.shop.place_order(
        [(variant.shopify_variant_id, qty)], gateway=gateway, location=branch.shopify_location_id
    )
    await shop.hooks.deliver()
    return await Order.get(shopify_order_id=placed.gid)


async def _set_available(branch_id: int, variant_id: int, units: int) -> None:
    level = await level_of(branch_id, variant_id)
    change = units - (level.on_hand - level.reserved)
    if change > 0:
        await stock(branch_id, variant_id, change)
    elif change < 0:
        await deduct([(branch_id, variant_id, -change)])


async def _other_branch(branch) -> Branch:
    return await Branch.filter(shopify_location_id__isnull=False).exclude(id=branch.id).order_by("id").first()


async def test_the_cod_lifecycle_and_its_wrong_steps(shop):
    branch, variant, _ = await stocked(2)
    order = await _order(shop, branch, variant)
    with pytest.raises(OperationError) as wrong:
        await order_steps.mark_delivered(SYSTEM, order.id, key("delivered"))
    assert wrong.value.problems[0].code is ErrorCode.WRONG_STATE
    order = await order_steps.confirm_order(SYSTEM, order.id, key("confirm"))
    assert order.cod_status is CodStatus.CONFIRMED
    retried = await order_steps.confirm_order(SYSTEM, order.id, key("confirm"))  # a retry, under another key
    assert retried.cod_status is CodStatus.CONFIRMED
    # Dispatch is the fulfilment step (a Smart branch ships here), not a status written by hand.
    await set_online_settings(SYSTEM, branch.id, OnlineSettings(fulfillment_workflow="smart"), key("smart"))
    await fulfill_order(SYSTEM, Shipment(order.id, key("ship"), courier="TCS", tracking_number="TCS-1"))
    order = await Order.get(id=order.id)
    assert order.cod_status is CodStatus.DISPATCHED
    order = await order_steps.mark_refused(SYSTEM, order.id, key("refused"))
    assert order.cod_status is CodStatus.RETURNING
    with pytest.raises(OperationError) as shipped:
        await order_steps.cancel_order(SYSTEM, order.id, key("cancel"))
    assert [p.code for p in shipped.value.problems] == [ErrorCode.WRONG_STATE]


async def test_cancelling_in_branchline_releases_and_asks_shopify_once(shop):
    branch, variant, before = await stocked(2)
    order = await _order(shop, branch, variant, 2)
    assert (await level_of(branch.id, variant.id)).reserved == before.reserved + 2
    order = await order_steps.cancel_order(SYSTEM, order.id, key("cancel"))
    assert order.status is OrderStatus.CANCELLED and order.cod_status is CodStatus.CANCELLED
    assert (await level_of(branch.id, variant.id)).reserved == before.reserved
    action = await OutboxRow.get(topic="shopify.order_action")
    assert action.payload["action"] == "order_cancel" and action.payload["restock"] is True
    # Shopify cancels (as the worker will ask it to): its webhook finds nothing left to release.
    shop.shop.cancel_order(order.shopify_order_id)
    await shop.hooks.deliver()
    assert (await level_of(branch.id, variant.id)).reserved == before.reserved
    assert await OutboxRow.filter(topic="shopify.order_action").count() == 1


async def test_a_cashier_of_another_branch_may_not_act_on_the_order(shop):
    branch, variant, _ = await stocked(2)
    order = await _order(shop, branch, variant)
    cashier = Actor("cashier", staff_id=99, role=Role.CASHIER, branch_ids=frozenset({branch.id + 1000}))
    with pytest.raises(AccessDenied):
        await order_steps.confirm_order(cashier, order.id, key("confirm"))
    assert (await Order.get(id=order.id)).cod_status is CodStatus.PENDING_CONFIRMATION


async def test_routing_moves_the_reservation_and_queues_the_move(shop):
    branch, variant, _ = await stocked(2)
    other = await _other_branch(branch)
    await _set_available(other.id, variant.id, 5)
    order = await _order(shop, branch, variant, 2, gateway="shopify_payments")
    at_a, at_b = await level_of(branch.id, variant.id), await level_of(other.id, variant.id)
    k = key("route")
    moved, replayed = await assign_order_branch(SYSTEM, order.id, other.id, k)
    assert moved.branch_id == other.id and not replayed
    assert (await level_of(branch.id, variant.id)).reserved == at_a.reserved - 2
    assert (await level_of(other.id, variant.id)).reserved == at_b.reserved + 2
    action = await OutboxRow.get(topic="shopify.order_action")
    assert action.payload["action"] == "fulfillment_order_move"
    assert action.payload["newLocationId"] == other.shopify_location_id
    _, replayed = await assign_order_branch(SYSTEM, order.id, other.id, k)
    assert replayed and (await level_of(other.id, variant.id)).reserved == at_b.reserved + 2


async def test_a_branch_off_shopify_cannot_take_an_order(shop):
    branch, variant, _ = await stocked(2)
    order = await _order(shop, branch, variant)
    offline = await Branch.create(code="NOSHOP", name="Not on Shopify")
    with pytest.raises(OperationError) as refused:
        await assign_order_branch(SYSTEM, order.id, offline.id, key("route"))
    assert refused.value.problems[0].code is ErrorCode.UNKNOWN_LOCATION


async def test_a_short_order_is_routed_to_the_first_branch_that_ships_it_whole(shop):
    branch, variant, _ = await stocked(3)
    other = await _other_branch(branch)
    await _set_available(branch.id, variant.id, 1)  # sold in store; Shopify does not know yet
    await _set_available(other.id, variant.id, 4)
    other.online_safety_stock = 1
    await other.save()
    reserved_before = (await level_of(branch.id, variant.id)).reserved
    order = await _order(shop, branch, variant, 3, gateway="shopify_payments")
    assert order.branch_id == other.id and order.exception_code is None
    assert (await level_of(branch.id, variant.id)).reserved == reserved_before  # reserved, then moved away
    assert (await level_of(other.id, variant.id)).reserved == 3
    assert (await OrderLine.get(order_id=order.id)).reserved == 3


async def test_a_short_order_with_nowhere_to_go_stays_with_an_exception(shop):
    branch, variant, _ = await stocked(3)
    for b in await Branch.all():
        await _set_available(b.id, variant.id, 0)
    order = await _order(shop, branch, variant, 2, gateway="shopify_payments")
    assert order.branch_id == branch.id and order.exception_code == ErrorCode.INSUFFICIENT_STOCK.value
    level = await level_of(branch.id, variant.id)
    assert level.reserved == 2 and level.on_hand - level.reserved == -2  # Shopify sold them: held, flagged


async def test_two_orders_racing_for_the_last_unit_at_a_branch(shop):
    branch, variant, _ = await stocked(3)
    other = await _other_branch(branch)
    first = await _order(shop, branch, variant, 1, gateway="shopify_payments")
    second = await _order(shop, branch, variant, 1, gateway="shopify_payments")
    await _set_available(other.id, variant.id, 1)
    results = await asyncio.gather(
        assign_order_branch(SYSTEM, first.id, other.id, key("r")),
        assign_order_branch(SYSTEM, second.id, other.id, key("r")),
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 1 and failures[0].problems[0].code is ErrorCode.INSUFFICIENT_STOCK, results
    level = await level_of(other.id, variant.id)
    assert level.reserved == 1 and level.on_hand - level.reserved == 0


async def test_routing_racing_a_counter_sale_of_the_last_unit(shop):
    branch, variant, _ = await stocked(3)
    other = await _other_branch(branch)
    order = await _order(shop, branch, variant, 1, gateway="shopify_payments")
    await _set_available(other.id, variant.id, 1)
    results = await asyncio.gather(
        assign_order_branch(SYSTEM, order.id, other.id, key("r")),
        deduct([(other.id, variant.id, 1)]),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Exception) for r in results) == 1, results
    level = await level_of(other.id, variant.id)
    assert level.on_hand - level.reserved == 0


async def test_an_unmapped_location_is_an_exception_until_it_is_mapped(shop):
    branch, variant, before = await stocked(2)
    await Branch.filter(id=branch.id).update(shopify_location_id=None)
    placed = shop.shop.place_order([(variant.shopify_variant_id, 1)], location=branch.shopify_location_id)
    (create,) = await shop.hooks.deliver()
    order = await Order.get(shopify_order_id=placed.gid)
    assert order.branch_id is None and order.exception_code == ErrorCode.UNKNOWN_LOCATION.value
    assert (await OrderLine.get(order_id=order.id)).reserved == 0
    # The location gets mapped; the next delivery of the order places it and reserves.
    await Branch.filter(id=branch.id).update(shopify_location_id=branch.shopify_location_id)
    await orders_in.on_order_webhook(*create)
    order = await Order.get(id=order.id)
    assert order.branch_id == branch.id and order.exception_code is None
    assert (await level_of(branch.id, variant.id)).reserved == before.reserved + 1


async def test_an_unknown_variant_reserves_nothing_and_is_an_exception(shop):
    branch, variant, before = await stocked(2)
    placed = shop.shop.place_order([(variant.shopify_variant_id, 1)], location=branch.shopify_location_id)
    await type(variant).filter(id=variant.id).update(shopify_variant_id=None)
    await shop.hooks.deliver()
    order = await Order.get(shopify_order_id=placed.gid)
    assert order.branch_id == branch.id and order.exception_code == ErrorCode.UNKNOWN_VARIANT.value
    line = await OrderLine.get(order_id=order.id)
    assert line.variant_id is None and line.reserved == 0
    assert (await level_of(branch.id, variant.id)).reserved == before.reserved
