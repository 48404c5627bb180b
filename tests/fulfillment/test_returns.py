"""Returns to origin and Shopify refunds with restock: each unit comes back once on each side."""

import pytest

from models.orders import CodStatus, Order, OrderLine
from models.outbox import OutboxRow
from models.stock import StockMovement
from operations.kernel.access import SYSTEM
from operations.kernel.errors import ErrorCode, OperationError
from operations.orders import steps as order_steps
from operations.orders.fulfillment import Shipment, fulfill_order
from operations.orders.returns import ReturnedLine, ReturnReceipt, receive_returned_order
from operations.sync.fulfillment_webhooks import on_refund_webhook
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
    webhooks,
)


async def _shipped_cod_order(shop, qty: int = 1):
    """A COD order shipped from a Smart branch, Shopify told, everything settled."""
    branch, variant, before = await stocked(qty + 1)
    await use_workflow(branch, "smart")
    order = await take_order(shop, branch, variant, qty, cod=True)
    await confirm_cod(order)
    await fulfill_order(SYSTEM, Shipment(order.id, key(), courier="TCS", tracking_number="T-1"))
    await settle(shop)
    await deliver(shop, "fulfillments/")
    await assert_agree(shop)
    return branch, variant, before, order


async def _refused(order: Order) -> None:
    """The customer refused the parcel at the door: it is on its way back (RTO)."""
    refused = await order_steps.mark_refused(SYSTEM, order.id, key("refused"))
    assert refused.cod_status is CodStatus.RETURNING


async def _receive(order: Order, restock: int = 1, damaged: int = 0, k: str | None = None):
    line = await OrderLine.get(order_id=order.id)
    receipt = ReturnReceipt(order.id, [ReturnedLine(line.id, restock, damaged)], k or key("rto"))
    return await receive_returned_order(SYSTEM, receipt)


def _merchant_refunds_with_restock(shop, order: Order, line: OrderLine, qty: int, location: str):
    shop.shop.refund(order.shopify_order_id, [(line.shopify_line_item_id, qty, "RETURN", location)])


async def test_rto_received_then_refunded_with_restock_in_shopify_is_restocked_once(shop):
    branch, variant, before, order = await _shipped_cod_order(shop)
    await _refused(order)
    returned, _ = await _receive(order, restock=1)
    assert returned.cod_status is CodStatus.RETURNED
    level = await level_of(branch.id, variant.id)
    assert (level.on_hand, level.reserved) == (before.on_hand, before.reserved)  # branch stock back
    await settle(shop)
    await assert_agree(shop)  # Shopify back too (the receipt was pushed)

    line = await OrderLine.get(order_id=order.id)
    _merchant_refunds_with_restock(shop, order, line, 1, branch.shopify_location_id)
    got = await deliver(shop, "refunds/", times=2)  # duplicated webhook
    assert [t for t, _ in got] == ["refunds/create"]
    await settle(shop)
    level = await level_of(branch.id, variant.id)
    assert (level.on_hand, level.reserved) == (before.on_hand, before.reserved)  # no second restock here
    line = await OrderLine.get(id=line.id)
    assert (line.returned, line.shopify_restocked) == (1, 1)
    assert await OutboxRow.filter(key__startswith="refund:", key__endswith=":compensate").count() == 1
    await assert_agree(shop)  # and Shopify's second restock was taken back


async def test_refund_with_restock_in_shopify_then_rto_received_is_restocked_once(shop):
    branch, variant, before, order = await _shipped_cod_order(shop)
    await _refused(order)
    line = await OrderLine.get(order_id=order.id)
    _merchant_refunds_with_restock(shop, order, line, 1, branch.shopify_location_id)
    await deliver(shop, "refunds/")
    level = await level_of(branch.id, variant.id)
    assert level.on_hand == before.on_hand  # Shopify restocked it: Branchline follows, no push
    await settle(shop)
    await assert_agree(shop)

    returned, _ = await _receive(order, restock=1)  # the parcel reaches the branch afterwards
    assert returned.cod_status is CodStatus.RETURNED
    await settle(shop)
    level = await level_of(branch.id, variant.id)
    assert (level.on_hand, level.reserved) == (before.on_hand, before.reserved)
    assert not await OutboxRow.filter(key__endswith=":compensate").exists()
    await assert_agree(shop)


async def test_a_damaged_return_goes_to_damaged_on_both_sides(shop):
    branch, variant, before, order = await _shipped_cod_order(shop)
    await _refused(order)
    await _receive(order, restock=0, damaged=1)
    await settle(shop)
    level = await level_of(branch.id, variant.id)
    assert (level.on_hand, level.damaged) == (before.on_hand - 1, before.damaged + 1)
    await assert_agree(shop)


async def test_damaged_after_shopify_restocked_moves_from_on_hand_to_damaged(shop):
    branch, variant, before, order = await _shipped_cod_order(shop)
    line = await OrderLine.get(order_id=order.id)
    _merchant_refunds_with_restock(shop, order, line, 1, branch.shopify_location_id)
    await deliver(shop, "refunds/")
    await _receive(order, restock=0, damaged=1)
    await settle(shop)
    level = await level_of(branch.id, variant.id)
    assert (level.on_hand, level.damaged) == (before.on_hand - 1, before.damaged + 1)
    await assert_agree(shop)


async def test_more_back_than_shipped_is_refused_and_a_retry_is_replayed(shop):
    _, _, _, order = await _shipped_cod_order(shop)
    k = key("rto")
    first, replayed = await _receive(order, restock=1, k=k)
    again, replayed_again = await _receive(order, restock=1, k=k)
    assert (replayed, replayed_again, again.id) == (False, True, first.id)
    movements = await StockMovement.filter(reason="order_returned").count()
    with pytest.raises(OperationError) as refused:
        await _receive(order, restock=1)
    assert refused.value.problems[0].code is ErrorCode.ALREADY_RETURNED
    assert await StockMovement.filter(reason="order_returned").count() == movements


async def test_a_refund_without_restock_or_for_unfulfilled_units_changes_no_stock(shop):
    branch, variant, _before = await stocked(3)
    order = await take_order(shop, branch, variant, 2)
    line = await OrderLine.get(order_id=order.id)
    shop.shop.refund(order.shopify_order_id, [(line.shopify_line_item_id, 1, "CANCEL", branch.shopify_location_id)])
    for topic, body in await webhooks(shop, "refunds/"):
        await on_refund_webhook(topic, body)
    assert not await StockMovement.filter(reason="order_returned").exists()
    await settle(shop)  # the order update releases the cancelled unit's reservation (order intake)
    await assert_agree(shop)


async def test_a_dropped_refund_webhook_is_recovered_by_the_poll(shop):
    """The merchant refunds with restock in Shopify and the refunds/create never comes: the poll reads the
    refund and takes the units back once; the webhook turning up later changes nothing."""
    from operations.sync.orders_poll import poll_orders

    branch, variant, before, order = await _shipped_cod_order(shop)
    line = await OrderLine.get(order_id=order.id)
    _merchant_refunds_with_restock(shop, order, line, 1, branch.shopify_location_id)
    lost = await webhooks(shop, "refunds/")  # delivered to nobody
    assert [t for t, _ in lost] == ["refunds/create"]
    await shop.hooks.collect()  # the orders/updated it caused too
    assert (await level_of(branch.id, variant.id)).on_hand == before.on_hand - 1
    await poll_orders()
    await poll_orders()  # a second look changes nothing
    assert (await level_of(branch.id, variant.id)).on_hand == before.on_hand
    assert (await OrderLine.get(id=line.id)).shopify_restocked == 1
    for topic, body in lost:
        await on_refund_webhook(topic, body)
    assert (await level_of(branch.id, variant.id)).on_hand == before.on_hand
    await settle(shop)
    await assert_agree(shop)
