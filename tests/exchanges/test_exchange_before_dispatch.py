"""Exchanges before dispatch: the reserved variant is swapped here at once and Shopify's order is edited by
the order-actions worker (simulated Shopify over real HTTP); each side holds each unit once."""

import asyncio

import pytest

from models.orders import ExchangeStatus, Order, OrderExchange, OrderLine
from models.outbox import OutboxRow
from operations.kernel.access import SYSTEM
from operations.kernel.errors import ErrorCode, OperationError
from operations.orders.exchanges import ExchangeRequest, SwapLine, exchange_before_dispatch
from operations.orders.fulfillment import Shipment, fulfill_order
from operations.sync import order_actions as shopify_order_actions
from shopify.simulator import order_edits
from tests.exchanges.conftest import (
    another_variant,
    assert_agree,
    deliver,
    key,
    leave_free,
    level_of,
    numeric,
    settle,
    sim_lines,
    stocked,
    take_order,
    use_workflow,
)


async def _swap(order, line, new_variant, qty=1, k=None):
    request = ExchangeRequest(order.id, [SwapLine(line.id, qty, new_variant.id)], k or key("x"))
    return await exchange_before_dispatch(SYSTEM, request)


async def _ordered(shop, qty=2, *, free_b=1):
    branch, a, _ = await stocked(qty + 1)
    await use_workflow(branch, "smart")
    b, _ = await another_variant(branch, a, free_b)
    order = await take_order(shop, branch, a, qty)
    await settle(shop)
    await assert_agree(shop)
    line = await OrderLine.get(order_id=order.id)
    return branch, a, b, order, line


async def test_swap_reserves_the_new_variant_and_shopify_order_is_edited(shop):
    branch, a, b, order, line = await _ordered(shop)
    a_before, b_before = await level_of(branch.id, a.id), await level_of(branch.id, b.id)

    exchange, replayed = await _swap(order, line, b)
    assert not replayed and exchange.status is ExchangeStatus.PENDING
    assert exchange.price_difference == b.price - line.unit_price
    # Branchline holds the new variant at once: a counter cannot sell it meanwhile.
    a_now, b_now = await level_of(branch.id, a.id), await level_of(branch.id, b.id)
    assert (a_now.reserved, b_now.reserved) == (a_before.reserved - 1, b_before.reserved + 1)
    assert (a_now.on_hand, b_now.on_hand) == (a_before.on_hand, b_before.on_hand)

    await settle(shop)  # the edit is committed in Shopify, its orders/updated taken in
    assert (await OrderExchange.get(id=exchange.id)).status is ExchangeStatus.SYNCED
    assert sim_lines(shop, order) == {numeric(a.shopify_variant_id): 1, numeric(b.shopify_variant_id): 1}
    lines = await OrderLine.filter(order_id=order.id).order_by("id")
    assert [(x.variant_id, x.quantity, x.reserved) for x in lines] == [(a.id, 1, 1), (b.id, 1, 1)]
    assert not lines[1].shopify_line_item_id.startswith("exchange:")  # Shopify's line item now
    await assert_agree(shop)  # committed in Shopify == reserved here, on both variants

    # Ship it all: one deduction each, Shopify fulfilled once.
    await fulfill_order(SYSTEM, Shipment(order.id, key()))
    await settle(shop)
    await assert_agree(shop)
    a_end, b_end = await level_of(branch.id, a.id), await level_of(branch.id, b.id)
    assert (a_end.on_hand, a_end.reserved) == (a_before.on_hand - 1, a_before.reserved - 2)
    assert (b_end.on_hand, b_end.reserved) == (b_before.on_hand - 1, b_before.reserved)


async def test_the_same_key_twice_is_one_exchange(shop):
    _branch, _a, b, order, line = await _ordered(shop)
    k = key("x")
    first, _ = await _swap(order, line, b, k=k)
    again, replayed = await _swap(order, line, b, k=k)
    assert replayed and again.id == first.id
    assert await OrderExchange.filter(order_id=order.id).count() == 1
    assert await OrderLine.filter(order_id=order.id).count() == 2
    await settle(shop)
    await assert_agree(shop)


async def test_commit_answered_late_webhook_first_is_adopted_not_edited_twice(shop):
    """Shopify committed the edit (the answer was lost) and its orders/updated arrived first: intake claims
    the provisional line; the worker's next read finds the edit done and adopts it."""
    branch, a, b, order, line = await _ordered(shop)
    exchange, _ = await _swap(order, line, b)
    calc = order_edits.begin(shop.shop, order.shopify_order_id)
    order_edits.set_quantity(
        shop.shop, calc.gid, f"gid://shopify/CalculatedLineItem/{numeric(line.shopify_line_item_id)}", 1, True
    )
    order_edits.add_variant(shop.shop, calc.gid, b.shopify_variant_id, 1, branch.shopify_location_id, True)
    order_edits.commit(shop.shop, calc.gid)
    await shop.hooks.deliver()  # intake first
    lines = await OrderLine.filter(order_id=order.id).order_by("id")
    assert [(x.quantity, x.reserved) for x in lines] == [(1, 1), (1, 1)]  # claimed, not reserved twice
    await settle(shop)
    row = await OutboxRow.get(key=f"order_action:exchange:{exchange.id}")
    assert (row.status, row.outcome) == ("done", "adopted")
    assert (await OrderExchange.get(id=exchange.id)).status is ExchangeStatus.SYNCED
    assert sim_lines(shop, order) == {numeric(a.shopify_variant_id): 1, numeric(b.shopify_variant_id): 1}
    await assert_agree(shop)


async def test_order_changed_in_shopify_meanwhile_undoes_the_swap(shop):
    branch, a, b, order, line = await _ordered(shop, 3)
    a_before, b_before = await level_of(branch.id, a.id), await level_of(branch.id, b.id)
    exchange, _ = await _swap(order, line, b)
    # The merchant took one unit off the order in Shopify before the worker came round.
    calc = order_edits.begin(shop.shop, order.shopify_order_id)
    order_edits.set_quantity(
        shop.shop, calc.gid, f"gid://shopify/CalculatedLineItem/{numeric(line.shopify_line_item_id)}", 2, True
    )
    order_edits.commit(shop.shop, calc.gid)
    await shopify_order_actions.drain_order_actions(10)
    refused = await OrderExchange.get(id=exchange.id)
    assert refused.status is ExchangeStatus.REFUSED and "changed in Shopify" in refused.error
    taken_back = await Order.get(id=order.id)
    assert taken_back.exception_code == "EXCHANGE_REFUSED"
    lines = await OrderLine.filter(order_id=order.id).order_by("id")
    assert [(x.quantity, x.reserved) for x in lines] == [(2, 2), (0, 0)]  # Shopify's quantities, nothing of b
    assert (await level_of(branch.id, b.id)).reserved == b_before.reserved
    await settle(shop)
    assert (await level_of(branch.id, a.id)).reserved == a_before.reserved - 1
    await assert_agree(shop)


async def test_no_free_unit_of_the_new_variant_changes_nothing(shop):
    branch, _a, b, order, line = await _ordered(shop)
    b_level = await leave_free(shop, branch, b, 1)
    with pytest.raises(OperationError) as caught:
        await _swap(order, line, b, qty=2)
    assert caught.value.problems[0].code is ErrorCode.INSUFFICIENT_STOCK
    assert await OrderExchange.filter(order_id=order.id).count() == 0
    assert await OrderLine.filter(order_id=order.id).count() == 1
    assert await OutboxRow.filter(key__startswith="order_action:exchange:").count() == 0
    assert (await level_of(branch.id, b.id)).reserved == b_level.reserved
    assert (await OrderLine.get(id=line.id)).reserved == 2


async def test_wrong_requests_are_typed_and_change_nothing(shop):
    _branch, a, b, order, line = await _ordered(shop)
    cases = [
        (SwapLine(line.id, 3, b.id), ErrorCode.ALREADY_FULFILLED),  # only 2 on the line
        (SwapLine(line.id, 1, a.id), ErrorCode.INVALID),  # the same variant
        (SwapLine(line.id, 0, b.id), ErrorCode.INVALID),
        (SwapLine(line.id + 999, 1, b.id), ErrorCode.NOT_FOUND),
        (SwapLine(line.id, 1, 999999), ErrorCode.NOT_FOUND),
        (SwapLine(line.id, 1, b.id, damaged=True), ErrorCode.INVALID),  # nothing came back yet
    ]
    for swap, code in cases:
        with pytest.raises(OperationError) as caught:
            await exchange_before_dispatch(SYSTEM, ExchangeRequest(order.id, [swap], key("x")))
        assert caught.value.problems[0].code is code, (swap, caught.value)
    assert await OrderExchange.all().count() == 0
    assert await OrderLine.filter(order_id=order.id).count() == 1


async def test_fulfilment_waits_while_the_edit_is_on_its_way(shop):
    _branch, _a, b, order, line = await _ordered(shop)
    await _swap(order, line, b)
    with pytest.raises(OperationError) as caught:
        await fulfill_order(SYSTEM, Shipment(order.id, key()))
    assert caught.value.problems[0].code is ErrorCode.WRONG_STATE
    await settle(shop)
    await fulfill_order(SYSTEM, Shipment(order.id, key()))
    await settle(shop)
    await assert_agree(shop)


async def test_a_shipped_order_cannot_be_swapped(shop):
    _branch, _a, b, order, line = await _ordered(shop)
    await fulfill_order(SYSTEM, Shipment(order.id, key()))
    with pytest.raises(OperationError) as caught:
        await _swap(order, line, b)
    assert caught.value.problems[0].code is ErrorCode.WRONG_STATE


async def test_two_orders_racing_for_the_last_unit_of_the_new_variant(shop):
    """Concurrent exchanges on two orders want the last free unit: one gets it, the other changes nothing."""
    branch, a, _ = await stocked(5)
    await use_workflow(branch, "smart")
    b, _ = await another_variant(branch, a, 1)
    first = await take_order(shop, branch, a, 1)
    second = await take_order(shop, branch, a, 1)
    await settle(shop)
    await leave_free(shop, branch, b, 1)
    lines = [await OrderLine.get(order_id=o.id) for o in (first, second)]
    results = await asyncio.gather(
        *(_swap(o, line, b) for o, line in zip((first, second), lines, strict=True)), return_exceptions=True
    )
    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, OperationError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].problems[0].code is ErrorCode.INSUFFICIENT_STOCK
    level = await level_of(branch.id, b.id)
    assert level.on_hand - level.reserved == 0
    await settle(shop)
    await assert_agree(shop)


async def test_merchant_ships_the_old_units_in_shopify_before_the_edit_lands(shop):
    """Branch Sync: the merchant fulfils everything in Shopify while the exchange is still on its way and
    the fulfillments webhook is taken in first. Both units left (Shopify's fact, deducted here though the
    line held one here), the edit is refused (it cannot go below what shipped), the swap is undone."""
    branch, a, _ = await stocked(3)
    await use_workflow(branch, "branch_sync")
    b, _ = await another_variant(branch, a, 1)
    order = await take_order(shop, branch, a, 2)
    line = await OrderLine.get(order_id=order.id)
    a_before, b_before = await level_of(branch.id, a.id), await level_of(branch.id, b.id)
    exchange, _ = await _swap(order, line, b)
    shop.shop.fulfill(order.shopify_order_id)  # both units of a, as Shopify still lists them
    await deliver(shop, "fulfillments/")
    assert (await level_of(branch.id, a.id)).on_hand == a_before.on_hand - 2
    await settle(shop)
    assert (await OrderExchange.get(id=exchange.id)).status is ExchangeStatus.REFUSED
    a_end, b_end = await level_of(branch.id, a.id), await level_of(branch.id, b.id)
    assert (a_end.on_hand, a_end.reserved) == (a_before.on_hand - 2, a_before.reserved - 2)
    assert (b_end.on_hand, b_end.reserved) == (b_before.on_hand, b_before.reserved)
    assert (await OrderLine.get(id=line.id)).fulfilled == 2
    await assert_agree(shop)
