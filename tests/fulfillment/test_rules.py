"""What fulfillment refuses, and how refusals show: typed errors, nothing changed, parked rows visible."""

import pytest

from models.orders import Fulfillment, OrderLine
from models.outbox import OutboxRow
from models.staff import Role
from models.stock import StockMovement
from operations.kernel.access import SYSTEM, AccessDenied
from operations.kernel.errors import ErrorCode, OperationError
from operations.orders import routing as order_routing
from operations.orders import steps as order_steps
from operations.orders.fulfillment import ShipLine, Shipment, fulfill_order, record_manual_fulfillment
from operations.sync import order_actions as shopify_order_actions
from operations.sync.fulfillment_webhooks import on_fulfillment_webhook, on_refund_webhook
from tests.fulfillment.conftest import (
    assert_agree,
    deliver,
    key,
    level_of,
    settle,
    stocked,
    take_order,
    use_workflow,
    webhooks,
)
from tests.operations.conftest import staff_actor


async def _refused(call, code: ErrorCode) -> OperationError:
    with pytest.raises(OperationError) as caught:
        await call
    assert caught.value.problems[0].code is code, caught.value
    return caught.value


async def test_each_mutation_only_where_the_branch_workflow_allows_it(shop):
    branch, variant, before = await stocked(3)
    order = await take_order(shop, branch, variant, 1)  # a branch_sync branch: fulfilled in Shopify
    error = await _refused(fulfill_order(SYSTEM, Shipment(order.id, key())), ErrorCode.WRONG_STATE)
    assert "fulfil it in Shopify" in error.problems[0].message
    await _refused(record_manual_fulfillment(SYSTEM, Shipment(order.id, key())), ErrorCode.WRONG_STATE)
    await use_workflow(branch, "smart")
    await _refused(record_manual_fulfillment(SYSTEM, Shipment(order.id, key())), ErrorCode.WRONG_STATE)
    await use_workflow(branch, "manual")
    await _refused(fulfill_order(SYSTEM, Shipment(order.id, key())), ErrorCode.WRONG_STATE)
    assert not await Fulfillment.exists()
    assert (await level_of(branch.id, variant.id)).reserved == before.reserved + 1


async def test_more_units_than_remain_a_cancelled_order_and_unconfirmed_cod_are_refused(shop):
    branch, variant, before = await stocked(4)
    await use_workflow(branch, "smart")
    order = await take_order(shop, branch, variant, 2)
    line = await OrderLine.get(order_id=order.id)
    await _refused(
        fulfill_order(SYSTEM, Shipment(order.id, key(), [ShipLine(line.id, 3)])), ErrorCode.ALREADY_FULFILLED
    )
    await fulfill_order(SYSTEM, Shipment(order.id, key()))
    await _refused(fulfill_order(SYSTEM, Shipment(order.id, key())), ErrorCode.ALREADY_FULFILLED)
    await _refused(fulfill_order(SYSTEM, Shipment(order.id, key(), [ShipLine(999999, 1)])), ErrorCode.NOT_FOUND)
    await _refused(fulfill_order(SYSTEM, Shipment(order.id, key(), [ShipLine(line.id, 0)])), ErrorCode.INVALID)

    cod = await take_order(shop, branch, variant, 1, cod=True)  # still waiting for the customer's confirmation
    await _refused(fulfill_order(SYSTEM, Shipment(cod.id, key())), ErrorCode.WRONG_STATE)
    shop.shop.cancel_order(cod.shopify_order_id)
    await shop.hooks.deliver()
    await _refused(fulfill_order(SYSTEM, Shipment(cod.id, key())), ErrorCode.WRONG_STATE)
    assert await Fulfillment.filter(order_id=cod.id).count() == 0

    k = key()
    await _refused(fulfill_order(SYSTEM, Shipment(cod.id, k)), ErrorCode.WRONG_STATE)
    level = await level_of(branch.id, variant.id)
    assert (level.on_hand, level.reserved) == (before.on_hand - 2, before.reserved)


async def test_a_key_reused_for_another_request_is_refused(shop):
    branch, variant, _ = await stocked(4)
    await use_workflow(branch, "smart")
    order = await take_order(shop, branch, variant, 2)
    line = await OrderLine.get(order_id=order.id)
    k = key()
    await fulfill_order(SYSTEM, Shipment(order.id, k, [ShipLine(line.id, 1)]))
    await _refused(
        fulfill_order(SYSTEM, Shipment(order.id, k, [ShipLine(line.id, 1)], courier="TCS")),
        ErrorCode.IDEMPOTENCY_KEY_REUSED,
    )
    assert (await OrderLine.get(id=line.id)).fulfilled == 1


async def test_only_staff_of_that_branch_may_fulfil(shop):
    branch, variant, _ = await stocked(3)
    other, _, _ = await stocked(3, skip_branches=(branch.id,))
    await use_workflow(branch, "smart")
    order = await take_order(shop, branch, variant, 1)
    outsider = await staff_actor(Role.CASHIER, [other.id], pin="5820", email="outsider@t.pk")
    with pytest.raises(AccessDenied):
        await fulfill_order(outsider, Shipment(order.id, key()))
    insider = await staff_actor(Role.CASHIER, [branch.id], pin="6047", email="insider@t.pk")
    fulfillment, _ = await fulfill_order(insider, Shipment(order.id, key()))
    assert fulfillment.created_by.startswith("staff:")


async def test_bad_webhooks_are_typed_errors_that_change_nothing(shop):
    branch, variant, _ = await stocked(3)
    order = await take_order(shop, branch, variant, 1)
    shop.shop.fulfill(order.shopify_order_id)
    (topic, body), *_ = await webhooks(shop, "fulfillments/")
    for broken, code in (
        ({**body, "line_items": []}, ErrorCode.MALFORMED_WEBHOOK),
        ({**body, "order_id": None}, ErrorCode.MALFORMED_WEBHOOK),
        ({**body, "line_items": [{**body["line_items"][0], "quantity": -1}]}, ErrorCode.MALFORMED_WEBHOOK),
        ({**body, "location_id": 987654321}, ErrorCode.UNKNOWN_LOCATION),
    ):
        await _refused(on_fulfillment_webhook(topic, broken), code)
    await _refused(on_refund_webhook("refunds/create", {"refund_line_items": "x"}), ErrorCode.MALFORMED_WEBHOOK)
    assert not await StockMovement.filter(reason="online_fulfillment").exists()
    assert not await Fulfillment.exists()


async def test_a_fulfillment_shopify_cannot_make_is_parked_with_the_reason(shop):
    branch, variant, _ = await stocked(3)
    await use_workflow(branch, "smart")
    order = await take_order(shop, branch, variant, 1)
    await fulfill_order(SYSTEM, Shipment(order.id, key()))
    shop.shop.cancel_order(order.shopify_order_id)  # cancelled in Shopify before the worker ran
    await shopify_order_actions.drain_order_actions(5)
    row = await OutboxRow.get(topic="shopify.order_action")
    assert row.status.value == "parked" and "closed" in row.last_error
    figures = await shopify_order_actions.order_action_figures()
    assert (figures.pending, figures.parked) == (0, 1)
    assert [r["key"] for r in await shopify_order_actions.parked_order_actions()] == [row.key]
    assert await shopify_order_actions.retry_parked_order_actions(SYSTEM) == 1
    assert (await OutboxRow.get(id=row.id)).status.value == "pending"
    await settle(shop)


async def test_routed_then_fulfilled_at_the_new_branch_and_a_cancel_reach_shopify(shop):
    branch, variant, _ = await stocked(3)
    target, _, _ = await stocked(3, skip_branches=(branch.id,))
    await use_workflow(target, "smart")
    order = await take_order(shop, branch, variant, 1)
    await order_routing.assign_order_branch(SYSTEM, order.id, target.id, key("route"))
    await fulfill_order(SYSTEM, Shipment(order.id, key(), courier="TCS", tracking_number="R-1"))
    await settle(shop)  # the move is carried out before the fulfillment written after it
    sim_order = shop.shop.orders[int(order.shopify_order_id.rsplit("/", 1)[1])]
    made = shop.shop.fulfillments[sim_order.fulfillment_ids[0]]
    assert f"gid://shopify/Location/{made.location_id}" == target.shopify_location_id
    outcomes = sorted(r.outcome for r in await OutboxRow.filter(topic="shopify.order_action"))
    assert outcomes == ["fulfilled", "moved"]
    await deliver(shop, "fulfillments/")
    await settle(shop)
    await assert_agree(shop)

    other = await take_order(shop, branch, variant, 1)
    await order_steps.cancel_order(SYSTEM, other.id, key("cancel"))
    await settle(shop)
    assert shop.shop.orders[int(other.shopify_order_id.rsplit("/", 1)[1])].cancelled_at is not None
    await assert_agree(shop)
    # Run every action again (a worker that died after its call): nothing is moved or cancelled twice.
    await OutboxRow.filter(topic="shopify.order_action").update(status="pending")
    await shopify_order_actions.drain_order_actions(5)
    outcomes = sorted(r.outcome for r in await OutboxRow.filter(topic="shopify.order_action"))
    assert outcomes == ["already_cancelled", "already_synced", "already_there"]
    assert len(sim_order.fulfillment_ids) == 1
    await settle(shop)
    await assert_agree(shop)
