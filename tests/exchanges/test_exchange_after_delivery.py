"""Exchanges after delivery: the customer's units come back and the replacement goes out in one document;
both reach Shopify as deltas, and a merchant's refund with restock in Shopify is not counted twice."""

import asyncio

import pytest

from models.orders import ExchangeStatus, OrderExchange, OrderLine
from operations.kernel.access import SYSTEM
from operations.kernel.errors import ErrorCode, OperationError
from operations.orders import steps as order_steps
from operations.orders.exchanges import ExchangeRequest, SwapLine, exchange_delivered_items
from operations.orders.fulfillment import Shipment, fulfill_order
from tests.exchanges.conftest import (
    another_variant,
    assert_agree,
    confirm_cod,
    deliver,
    key,
    leave_free,
    level_of,
    settle,
    stocked,
    take_order,
    use_workflow,
)


async def _delivered(shop, qty=2, *, cod=True):
    branch, a, _ = await stocked(qty + 1)
    await use_workflow(branch, "smart")
    b, _ = await another_variant(branch, a, 1)
    order = await take_order(shop, branch, a, qty, cod=cod)
    if cod:
        await confirm_cod(order)
    await fulfill_order(SYSTEM, Shipment(order.id, key(), courier="TCS", tracking_number="T-9"))
    await settle(shop)
    await deliver(shop, "fulfillments/")
    if cod:
        await order_steps.mark_delivered(SYSTEM, order.id, key("delivered"))
    await assert_agree(shop)
    return branch, a, b, order, await OrderLine.get(order_id=order.id)


def _request(order, line, b, qty=1, *, damaged=False, k=None, **extra):
    return ExchangeRequest(order.id, [SwapLine(line.id, qty, b.id, damaged)], k or key("xd"), **extra)


async def test_units_back_and_replacement_out_in_one_step_shopify_follows(shop):
    branch, a, b, order, line = await _delivered(shop)
    a_before, b_before = await level_of(branch.id, a.id), await level_of(branch.id, b.id)
    exchange, replayed = await exchange_delivered_items(SYSTEM, _request(order, line, b, courier="Leopards"))
    assert not replayed and exchange.status is ExchangeStatus.DONE and exchange.courier == "Leopards"
    assert exchange.price_difference == b.price - line.unit_price
    a_now, b_now = await level_of(branch.id, a.id), await level_of(branch.id, b.id)
    assert a_now.on_hand == a_before.on_hand + 1  # the returned unit is back on the shelf
    assert b_now.on_hand == b_before.on_hand - 1  # the replacement left
    assert (await OrderLine.get(id=line.id)).returned == 1
    await settle(shop)
    await assert_agree(shop)


async def test_damaged_unit_back_goes_to_damaged(shop):
    branch, a, b, order, line = await _delivered(shop)
    a_before = await level_of(branch.id, a.id)
    await exchange_delivered_items(SYSTEM, _request(order, line, b, damaged=True))
    a_now = await level_of(branch.id, a.id)
    assert (a_now.on_hand, a_now.damaged) == (a_before.on_hand, a_before.damaged + 1)
    await settle(shop)
    await assert_agree(shop)


async def test_then_the_merchant_refunds_with_restock_in_shopify_counted_once(shop):
    branch, a, b, order, line = await _delivered(shop)
    await exchange_delivered_items(SYSTEM, _request(order, line, b))
    await settle(shop)
    a_after = await level_of(branch.id, a.id)
    shop.shop.refund(order.shopify_order_id, [(line.shopify_line_item_id, 1, "RETURN", branch.shopify_location_id)])
    await deliver(shop, "refunds/", times=2)
    await settle(shop)
    assert (await level_of(branch.id, a.id)).on_hand == a_after.on_hand  # not restocked a second time
    await assert_agree(shop)


async def test_no_replacement_on_the_shelf_refuses_the_whole_exchange(shop):
    branch, a, b, order, line = await _delivered(shop)
    await leave_free(shop, branch, b, 0)
    a_before = await level_of(branch.id, a.id)
    with pytest.raises(OperationError) as caught:
        await exchange_delivered_items(SYSTEM, _request(order, line, b))
    assert caught.value.problems[0].code is ErrorCode.INSUFFICIENT_STOCK
    assert (await level_of(branch.id, a.id)).on_hand == a_before.on_hand  # the return was not taken either
    assert (await OrderLine.get(id=line.id)).returned == 0
    assert await OrderExchange.filter(order_id=order.id).count() == 0


async def test_cod_not_yet_delivered_and_more_than_shipped_are_refused(shop):
    branch, a, _ = await stocked(3)
    await use_workflow(branch, "smart")
    b, _ = await another_variant(branch, a, 1)
    order = await take_order(shop, branch, a, 1, cod=True)
    await confirm_cod(order)
    line = await OrderLine.get(order_id=order.id)
    with pytest.raises(OperationError) as caught:
        await exchange_delivered_items(SYSTEM, _request(order, line, b))
    assert caught.value.problems[0].code is ErrorCode.WRONG_STATE

    _branch, _a, b, order, line = await _delivered(shop, 1, cod=False)
    with pytest.raises(OperationError) as caught:
        await exchange_delivered_items(SYSTEM, _request(order, line, b, qty=2))
    assert caught.value.problems[0].code is ErrorCode.ALREADY_RETURNED
    assert await OrderExchange.filter(order_id=order.id).count() == 0


async def test_concurrent_exchanges_never_take_back_more_than_shipped(shop):
    """Two clerks exchange the same delivered unit at once (different keys): one exchange, one refusal."""
    branch, a, b, order, line = await _delivered(shop, 1, cod=False)
    await leave_free(shop, branch, b, 2)
    a_before, b_before = await level_of(branch.id, a.id), await level_of(branch.id, b.id)
    results = await asyncio.gather(
        *(exchange_delivered_items(SYSTEM, _request(order, line, b)) for _ in range(2)), return_exceptions=True
    )
    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, OperationError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].problems[0].code is ErrorCode.ALREADY_RETURNED
    a_now, b_now = await level_of(branch.id, a.id), await level_of(branch.id, b.id)
    assert (a_now.on_hand, b_now.on_hand) == (a_before.on_hand + 1, b_before.on_hand - 1)
    await settle(shop)
    await assert_agree(shop)


async def test_the_same_key_twice_at_once_is_one_exchange(shop):
    branch, a, b, order, line = await _delivered(shop)
    a_before = await level_of(branch.id, a.id)
    k = key("xd")
    results = await asyncio.gather(*(exchange_delivered_items(SYSTEM, _request(order, line, b, k=k)) for _ in range(2)))
    assert results[0][0].id == results[1][0].id
    assert sorted(replayed for _, replayed in results) == [False, True]
    assert (await OrderLine.get(id=line.id)).returned == 1
    assert (await level_of(branch.id, a.id)).on_hand == a_before.on_hand + 1
    assert await OrderExchange.filter(order_id=order.id).count() == 1
