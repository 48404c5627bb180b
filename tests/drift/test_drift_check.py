"""Drift checks and repairs against the simulated Shopify over real HTTP, after a real import."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from models.drift import DriftCheck, DriftCheckStatus, DriftLine, DriftLineStatus, DriftRepairStatus, DriftSignal
from models.inbox import InboxStatus, WebhookInbox
from models.orders import Fulfillment, FulfillmentLine, FulfillmentWorkflow, Order, OrderLine
from models.stock import Bucket, ShopifyEffect
from operations.drift import check as shopify_drift
from operations.drift import repair as drift_repair
from operations.kernel.access import SYSTEM
from operations.kernel.errors import ErrorCode, OperationError
from operations.kernel.transactions import transaction
from operations.stock import ledger
from operations.stock.entries import Movement, Posting
from operations.sync import inventory_signals as drift_signals
from operations.sync import push as shopify_push
from server import workers
from server.settings import Settings
from tests.drift.conftest import unexplained
from tests.sync.conftest import adjust, assert_shopify_agrees, mapped_levels, shopify_quantities


async def _levels(n: int = 2):
    return (await mapped_levels())[:n]


async def test_a_clean_import_shows_no_drift(connected):
    check = await shopify_drift.check_drift(SYSTEM)
    assert check.status is DriftCheckStatus.COMPLETED, check.error
    assert check.levels_compared == len(connected.shop.levels)
    assert (check.explained, check.unexplained, check.moving) == (0, 0, 0)
    assert await DriftLine.filter(check_id=check.id).count() == 0
    assert check.running is None  # the next check may run


async def test_a_change_made_in_shopify_is_drift_and_repair_makes_shopify_agree(connected):
    (b1, v1, lv1), (b2, v2, _) = await _levels()
    shop = connected.shop
    shop.set_quantity(v1.shopify_inventory_item_id, b1.shopify_location_id, lv1.on_hand + 5)  # the merchant's count
    shop.set_quantity(v2.shopify_inventory_item_id, b2.shopify_location_id, 2, name="damaged")

    check = await shopify_drift.check_drift(SYSTEM)
    assert check.unexplained == 2
    by_level = {(ln.branch_id, ln.variant_id): ln for ln in await unexplained(check.id)}
    first, second = by_level[(b1.id, v1.id)], by_level[(b2.id, v2.id)]
    assert (first.branch_id, first.variant_id, first.difference, first.unexplained) == (b1.id, v1.id, -5, -5)
    assert (first.shopify_available, first.branchline_on_hand) == (lv1.on_hand + 5, lv1.on_hand)
    assert "unexplained: on hand -5" in first.explanation
    assert (second.variant_id, second.damaged_difference, second.unexplained_damaged) == (v2.id, -2, -2)

    repair = await drift_repair.repair_drift(SYSTEM, check.id)
    assert [o.outcome for o in repair.outcomes] == [DriftRepairStatus.REPAIRED] * 2
    await assert_shopify_agrees(shop)
    again = await shopify_drift.check_drift(SYSTEM)
    assert (again.unexplained, again.explained) == (0, 0)

    # Repairing again sends nothing: the lines say they are done.
    calls = len(shop.calls)
    repeat = await drift_repair.repair_drift(SYSTEM, check.id)
    assert all(o.already for o in repeat.outcomes) and len(shop.calls) == calls


async def test_a_pending_push_explains_the_difference_and_is_not_repaired(connected):
    (branch, variant, _level), _ = await _levels()
    await adjust(branch.id, variant.id, +4)  # not drained: Shopify has not heard yet

    check = await shopify_drift.check_drift(SYSTEM)
    (line,) = await DriftLine.filter(check_id=check.id)
    assert (line.status, line.difference, line.unexplained) == (DriftLineStatus.EXPLAINED, 4, 0)
    assert line.in_flight == [{"kind": "pending_push", "bucket": "on_hand", "quantity": 4, "count": 1}]
    assert "pending push" in line.explanation and check.unexplained == 0

    before = shopify_quantities(connected.shop, variant, branch)
    assert (await drift_repair.repair_drift(SYSTEM, check.id)).outcomes == []
    with pytest.raises(OperationError) as refused:
        await drift_repair.repair_drift(SYSTEM, check.id, [line.id])
    assert refused.value.problems[0].code is ErrorCode.WRONG_STATE
    assert shopify_quantities(connected.shop, variant, branch) == before

    await shopify_push.drain_outbox(5)
    assert (await shopify_drift.check_drift(SYSTEM)).explained == 0


async def test_a_parked_push_and_real_drift_on_one_level_are_told_apart(connected, change_settings):
    (branch, variant, level), _ = await _levels()
    change_settings(push={"max_attempts": 1, "client_attempts": 1})
    await adjust(branch.id, variant.id, +3)
    connected.shop.faults.fail_next(1, status=502)
    assert (await shopify_push.push_due()).parked == 1
    shop = connected.shop
    shop.set_quantity(variant.shopify_inventory_item_id, branch.shopify_location_id, level.on_hand - 1)

    check = await shopify_drift.check_drift(SYSTEM)
    (line,) = await DriftLine.filter(check_id=check.id)
    # Branchline +3 not told (parked), Shopify -1 by hand: 4 apart, 1 of them drift.
    assert (line.difference, line.unexplained, line.status) == (4, 1, DriftLineStatus.UNEXPLAINED)
    assert line.in_flight[0]["kind"] == "parked_push"

    repaired = await drift_repair.repair_drift(SYSTEM, check.id)
    assert repaired.repaired == 1
    assert shopify_quantities(shop, variant, branch)["available"] == level.on_hand  # the parked +3 still owed
    await shopify_push.retry_parked()
    await shopify_push.drain_outbox(5)
    await assert_shopify_agrees(shop)


async def test_a_manual_fulfillment_not_yet_matched_in_shopify_is_explained(connected):
    (branch, variant, _level), _ = await _levels()
    async with transaction() as tx:
        order = await Order.create(shopify_order_id="gid://shopify/Order/1", name="#1001", branch_id=branch.id)
        line = await OrderLine.create(
            order=order, shopify_line_item_id="gid://shopify/LineItem/1", variant_id=variant.id, quantity=2
        )
        fulfillment = await Fulfillment.create(order=order, branch_id=branch.id, workflow=FulfillmentWorkflow.MANUAL)
        await FulfillmentLine.create(fulfillment=fulfillment, order_line=line, quantity=2)
        # Shopify learns when the merchant fulfils there: nothing is pushed.
        await ledger.apply(
            tx,
            Posting("t:manual-fulfilment", "online_fulfillment"),
            [Movement(branch.id, variant.id, -2, Bucket.ON_HAND, shopify_effect=ShopifyEffect.SHOPIFY_KNOWS)],
        )

    check = await shopify_drift.check_drift(SYSTEM)
    (found,) = await DriftLine.filter(check_id=check.id)
    assert (found.status, found.difference, found.unexplained) == (DriftLineStatus.EXPLAINED, -2, 0)
    assert found.in_flight[0]["kind"] == "manual_fulfillment"
    assert "manual fulfillment not yet matched" in found.explanation


async def test_a_change_in_shopify_after_the_check_is_never_overwritten(connected):
    (branch, variant, level), _ = await _levels()
    shop = connected.shop
    item, location = variant.shopify_inventory_item_id, branch.shopify_location_id
    shop.set_quantity(item, location, level.on_hand + 5)
    check = await shopify_drift.check_drift(SYSTEM)
    shop.set_quantity(item, location, level.on_hand + 9)  # someone counts again in Shopify meanwhile

    (outcome,) = (await drift_repair.repair_drift(SYSTEM, check.id)).outcomes
    assert outcome.outcome is DriftRepairStatus.CHANGED
    assert "check again" in outcome.message
    assert shop.quantities(item, location)["available"] == level.on_hand + 9  # untouched
    line = await DriftLine.get(id=outcome.line.id)
    assert line.repair_status is DriftRepairStatus.CHANGED

    fresh = await shopify_drift.check_drift(SYSTEM)
    assert (await drift_repair.repair_drift(SYSTEM, fresh.id)).repaired == 1
    await assert_shopify_agrees(shop)


async def test_two_repairs_at_once_set_shopify_once(connected):
    (branch, variant, level), _ = await _levels()
    shop = connected.shop
    shop.set_quantity(variant.shopify_inventory_item_id, branch.shopify_location_id, level.on_hand + 2)
    check = await shopify_drift.check_drift(SYSTEM)
    logged = len(shop.inventory_log)
    both = await asyncio.gather(*(drift_repair.repair_drift(SYSTEM, check.id) for _ in range(2)))
    assert [r.repaired for r in both] == [1, 1]
    assert len(shop.inventory_log) == logged + 1  # one set applied, the other answered from its key
    await assert_shopify_agrees(shop)


async def test_one_check_at_a_time(connected):
    first, _ = await shopify_drift.start_check(SYSTEM)
    with pytest.raises(OperationError) as busy:
        await shopify_drift.start_check(SYSTEM)
    assert busy.value.problems[0].code is ErrorCode.WRONG_STATE
    done = await shopify_drift.run_check(first.id)
    assert done.status is DriftCheckStatus.COMPLETED
    results = await asyncio.gather(*(shopify_drift.check_drift(SYSTEM) for _ in range(2)), return_exceptions=True)
    assert sum(isinstance(r, OperationError) for r in results) == 1
    assert sum(isinstance(r, DriftCheck) for r in results) == 1


async def test_a_failed_export_is_recorded_and_frees_the_next_check(connected):
    connected.shop.faults.bulk_fail_next("INTERNAL_SERVER_ERROR")
    check = await shopify_drift.check_drift(SYSTEM)
    assert (check.status, check.error_code, check.running) == (DriftCheckStatus.FAILED, "SHOPIFY_ERROR", None)
    assert (await shopify_drift.check_drift(SYSTEM)).status is DriftCheckStatus.COMPLETED


async def test_bad_repair_requests_change_nothing(connected):
    (branch, variant, level), _ = await _levels()
    connected.shop.set_quantity(variant.shopify_inventory_item_id, branch.shopify_location_id, level.on_hand + 1)
    check = await shopify_drift.check_drift(SYSTEM)
    other = await shopify_drift.check_drift(SYSTEM)
    (line,) = await unexplained(check.id)
    calls = len(connected.shop.calls)
    for check_id, lines, code in [
        (999, None, ErrorCode.NOT_FOUND),
        (check.id, [line.id + 1000], ErrorCode.NOT_FOUND),
        (other.id, [line.id], ErrorCode.NOT_FOUND),  # a line of another check
        (check.id, list(range(1, 300)), ErrorCode.TOO_MANY),
    ]:
        with pytest.raises(OperationError) as refused:
            await drift_repair.repair_drift(SYSTEM, check_id, lines)
        assert refused.value.problems[0].code is code
    running, _ = await shopify_drift.start_check(SYSTEM)
    with pytest.raises(OperationError) as refused:
        await drift_repair.repair_drift(SYSTEM, running.id)
    assert refused.value.problems[0].code is ErrorCode.WRONG_STATE
    assert len(connected.shop.calls) == calls
    assert (await DriftLine.get(id=line.id)).repair_status is None


async def test_inventory_level_webhooks_are_remembered_and_unknown_ones_ignored(connected):
    (branch, variant, level), _ = await _levels()
    item = int(variant.shopify_inventory_item_id.rsplit("/", 1)[1])
    location = int(branch.shopify_location_id.rsplit("/", 1)[1])
    webhook = shopify_drift.on_inventory_level_webhook
    await webhook("inventory_levels/update", {"inventory_item_id": 1, "location_id": location, "available": 3})
    await webhook("inventory_levels/update", {"inventory_item_id": item, "location_id": 1, "available": 3})
    assert await DriftSignal.all().count() == 0
    for bad in ({}, {"inventory_item_id": "x", "location_id": location}, {"inventory_item_id": True, "location_id": 1}):
        with pytest.raises(OperationError) as refused:
            await webhook("inventory_levels/update", bad)
        assert refused.value.problems[0].code is ErrorCode.MALFORMED_WEBHOOK

    connected.shop.set_quantity(variant.shopify_inventory_item_id, branch.shopify_location_id, level.on_hand + 1)
    check = await shopify_drift.check_drift(SYSTEM)
    for available in (7, 8):  # the same level twice: one row, kept fresh
        await webhook(
            "inventory_levels/update", {"inventory_item_id": item, "location_id": location, "available": available}
        )
    (signal,) = await DriftSignal.all()
    assert (signal.inventory_item_id, signal.available) == (variant.shopify_inventory_item_id, 8)
    assert await drift_signals.changed_since(check) == {(variant.shopify_inventory_item_id, branch.shopify_location_id)}
    await shopify_drift.check_drift(SYSTEM)  # a later check read the level afresh: the signal is no news
    assert await DriftSignal.all().count() == 0


async def test_the_worker_checks_on_schedule_and_not_when_switched_off(connected):
    (branch, variant, level), _ = await _levels()
    connected.shop.set_quantity(variant.shopify_inventory_item_id, branch.shopify_location_id, level.on_hand + 1)
    # A long push interval: the push loop is cancelled while it sleeps, never inside a transaction
    # (cancelling it mid-transaction can leave SQLite's connection stuck: reported to the lead).
    quiet = {"sync_push_interval": 60.0}
    async with workers.running(Settings(**quiet, drift_check_interval=0)):
        assert "shopify-drift-check" not in {task.get_name() for task in asyncio.all_tasks()}  # switched off
    assert await DriftCheck.all().count() == 0
    started = datetime.now(UTC)
    async with workers.running(Settings(**quiet, drift_check_interval=0.5)):
        for _ in range(200):
            latest = await DriftCheck.all().first()
            if latest is not None and latest.status is not DriftCheckStatus.RUNNING:
                break
            await asyncio.sleep(0.05)
    assert (latest.status, latest.unexplained) == (DriftCheckStatus.COMPLETED, 1)
    assert await DriftCheck.all().count() == 1
    # The first waits a full interval (less asyncio's clock resolution: a timer may fire a hair early).
    assert latest.created_at >= started + timedelta(seconds=0.49)


async def test_a_shopify_fulfillment_whose_webhook_is_not_processed_yet_is_explained(connected):
    (branch, variant, level), _ = await _levels()
    shop = connected.shop
    # Shopify fulfilled 2 units there; its webhook sits in the inbox, not yet taken in.
    shop.set_quantity(variant.shopify_inventory_item_id, branch.shopify_location_id, level.on_hand - 2)
    number = variant.shopify_variant_id.rsplit("/", 1)[1]
    location = branch.shopify_location_id.rsplit("/", 1)[1]
    row = await WebhookInbox.create(
        webhook_id="w-1",
        business_key="fulfillments/create:1",
        topic="fulfillments/create",
        payload={"id": 1, "order_id": 9, "location_id": int(location), "line_items": [{"variant_id": int(number)}]},
    )
    check = await shopify_drift.check_drift(SYSTEM)
    (line,) = await DriftLine.filter(check_id=check.id)
    assert (line.status, line.difference, line.unexplained) == (DriftLineStatus.EXPLAINED, 2, 0)
    assert line.in_flight[0]["kind"] == "unprocessed_webhook"

    row.status = InboxStatus.DONE  # processed, and still Shopify is 2 below: now that is drift
    await row.save()
    check = await shopify_drift.check_drift(SYSTEM)
    assert [ln.unexplained for ln in await unexplained(check.id)] == [2]


async def test_a_smart_fulfillment_shopify_refused_is_named_as_parked_not_on_its_way(connected):
    """A Smart fulfillment waiting for its fulfillmentCreate is on its way; once that call is parked it
    will not reach Shopify by itself, and the report says so (retry it), not 'not yet sent'."""
    from models.outbox import OutboxRow, OutboxStatus

    (branch, variant, _level), _ = await _levels()
    async with transaction() as tx:
        order = await Order.create(shopify_order_id="gid://shopify/Order/2", name="#1002", branch_id=branch.id)
        line = await OrderLine.create(
            order=order, shopify_line_item_id="gid://shopify/LineItem/2", variant_id=variant.id, quantity=1
        )
        fulfillment = await Fulfillment.create(order=order, branch_id=branch.id, workflow=FulfillmentWorkflow.SMART)
        await FulfillmentLine.create(fulfillment=fulfillment, order_line=line, quantity=1)
        action = await OutboxRow.create(
            topic="shopify.order_action",
            key=f"order_action:fulfill:{fulfillment.id}",
            payload={"action": "fulfillment_create", "fulfillmentId": fulfillment.id},
        )
        await ledger.apply(
            tx,
            Posting("t:smart-fulfilment", "online_fulfillment"),
            [Movement(branch.id, variant.id, -1, Bucket.ON_HAND, shopify_effect=ShopifyEffect.FULFILLMENT)],
        )

    check = await shopify_drift.check_drift(SYSTEM)
    (found,) = await DriftLine.filter(check_id=check.id)
    assert found.in_flight[0]["kind"] == "smart_fulfillment"

    await OutboxRow.filter(id=action.id).update(status=OutboxStatus.PARKED)
    check = await shopify_drift.check_drift(SYSTEM)
    (found,) = await DriftLine.filter(check_id=check.id)
    assert found.in_flight[0]["kind"] == "parked_fulfillment"
    assert "retry it" in found.explanation
