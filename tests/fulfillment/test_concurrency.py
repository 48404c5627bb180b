"""Concurrent callers on one order: no unit leaves twice, no deadlock, on SQLite and PostgreSQL."""

import asyncio
from decimal import Decimal

from models.orders import Fulfillment, OrderLine
from models.sales import TenderType
from models.staff import Role
from models.stock import StockMovement
from operations.counter import checkouts as sales
from operations.counter.registers import open_register
from operations.directory.branches import NewCounter, create_counter
from operations.directory.catalog import VariantRef
from operations.kernel.access import SYSTEM
from operations.kernel.errors import ErrorCode, OperationError
from operations.orders.fulfillment import Shipment, fulfill_order
from operations.sync import order_actions as shopify_order_actions
from operations.sync.fulfillment_webhooks import on_fulfillment_webhook
from tests.fulfillment.conftest import (
    assert_agree,
    key,
    level_of,
    settle,
    stocked,
    take_order,
    use_workflow,
    webhooks,
)
from tests.operations.conftest import staff_actor
from tests.sync.conftest import adjust


async def _units_out(variant_id: int) -> int:
    moves = await StockMovement.filter(reason="online_fulfillment", bucket="on_hand", variant_id=variant_id)
    return -sum(m.delta for m in moves)


async def test_the_same_fulfillment_submitted_twice_at_once_deducts_once(shop):
    branch, variant, before = await stocked(3)
    await use_workflow(branch, "smart")
    order = await take_order(shop, branch, variant, 2)
    shipment = Shipment(order.id, key(), courier="TCS", tracking_number="T-9")
    results = await asyncio.gather(*(fulfill_order(SYSTEM, shipment) for _ in range(2)))
    assert {f.id for f, _ in results} == {results[0][0].id}
    assert sorted(replayed for _, replayed in results) == [False, True]
    assert await _units_out(variant.id) == 2
    level = await level_of(branch.id, variant.id)
    assert (level.on_hand, level.reserved) == (before.on_hand - 2, before.reserved)
    await settle(shop)
    await assert_agree(shop)


async def test_two_different_fulfillments_of_the_same_units_at_once_one_is_refused(shop):
    branch, variant, _before = await stocked(3)
    await use_workflow(branch, "smart")
    order = await take_order(shop, branch, variant, 2)
    outcomes = await asyncio.gather(
        *(fulfill_order(SYSTEM, Shipment(order.id, key())) for _ in range(3)), return_exceptions=True
    )
    done = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, OperationError)]
    assert len(done) == 1 and len(refused) == 2, outcomes
    assert all(e.problems[0].code is ErrorCode.ALREADY_FULFILLED for e in refused)
    assert await Fulfillment.filter(order_id=order.id).count() == 1
    assert await _units_out(variant.id) == 2
    assert (await OrderLine.get(order_id=order.id)).fulfilled == 2
    await settle(shop)
    await assert_agree(shop)


async def test_duplicated_branch_sync_webhooks_at_once_deduct_once(shop):
    branch, variant, _before = await stocked(3)
    order = await take_order(shop, branch, variant, 2)
    shop.shop.fulfill(order.shopify_order_id)
    got = await webhooks(shop, "fulfillments/")
    topic, body = got[0]
    outcomes = await asyncio.gather(*(on_fulfillment_webhook(topic, body) for _ in range(3)), return_exceptions=True)
    # A duplicate that lost the race either sees the first one's fulfillment or is told it is a duplicate.
    assert all(o is None or isinstance(o, OperationError) for o in outcomes), outcomes
    assert await Fulfillment.filter(order_id=order.id).count() == 1
    assert await _units_out(variant.id) == 2
    await settle(shop)
    await assert_agree(shop)


async def test_fulfilling_races_an_in_store_sale_of_the_last_unit(shop):
    branch, variant, level = await stocked(1)
    await use_workflow(branch, "smart")
    # Leave exactly one unit at the branch, then an online order takes it: nothing left for walk-ins.
    spare = level.on_hand - level.reserved - 1
    if spare:
        await adjust(branch.id, variant.id, -spare)
        await settle(shop)
    order = await take_order(shop, branch, variant, 1)
    held = await level_of(branch.id, variant.id)
    assert held.on_hand - held.reserved == 0

    counter, _ = await create_counter(SYSTEM, NewCounter(branch.id, "C9", "Counter 9"))
    cashier = await staff_actor(Role.CASHIER, [branch.id], pin="4391", email="cashier-rt@t.pk")
    await open_register(cashier, counter.id, Decimal("0.00"), key("open"))
    sale = sales.Checkout(
        counter.id,
        [sales.CheckoutLine(VariantRef(id=variant.id), 1)],
        [sales.Payment(TenderType.CASH, Decimal("1000000.00"))],
        key("sale"),
    )
    shipped, sold = await asyncio.gather(
        fulfill_order(SYSTEM, Shipment(order.id, key())), sales.checkout(cashier, sale), return_exceptions=True
    )
    assert not isinstance(shipped, BaseException), shipped
    assert isinstance(sold, OperationError) and sold.problems[0].code is ErrorCode.INSUFFICIENT_STOCK, sold
    after = await level_of(branch.id, variant.id)
    assert (after.on_hand, after.reserved) == (held.on_hand - 1, held.reserved - 1)
    assert await _units_out(variant.id) == 1
    await settle(shop)
    await assert_agree(shop)


async def test_two_workers_at_once_send_each_fulfillment_once(shop):
    branch, variant, _ = await stocked(4)
    await use_workflow(branch, "smart")
    orders = [await take_order(shop, branch, variant, 1) for _ in range(3)]
    for order in orders:
        await fulfill_order(SYSTEM, Shipment(order.id, key()))
    claimed = await asyncio.gather(*(shopify_order_actions.push_order_actions() for _ in range(2)))
    assert sum(claimed) == 3  # every row claimed by exactly one of them
    for order in orders:
        sim_order = shop.shop.orders[int(order.shopify_order_id.rsplit("/", 1)[1])]
        assert len(sim_order.fulfillment_ids) == 1
    assert not await Fulfillment.filter(status="pending").exists()
    await settle(shop)
    await assert_agree(shop)
