"""The inventory push against the simulated Shopify, over real HTTP: what Branchline's ledger moves,
Shopify hears about once, coalesced, through faults and crashes."""

import asyncio

import pytest

from models.catalog import Variant
from models.outbox import OutboxRow, OutboxStatus
from operations.stock.adjustments import AdjustmentReason
from operations.sync import push as shopify_push
from operations.sync.push_claim import batch_id, claim
from shopify.errors import UserError
from tests.sync.conftest import adjust, answered_calls, assert_shopify_agrees, mapped_levels


async def test_in_store_changes_reach_shopify(connected):
    levels = await mapped_levels()
    assert len(levels) >= 6
    for i, (branch, variant, _) in enumerate(levels[:6]):
        await adjust(branch.id, variant.id, +3)
        await adjust(branch.id, variant.id, -1, AdjustmentReason.SHRINKAGE)
        if i % 2 == 0:
            await adjust(branch.id, variant.id, -1, AdjustmentReason.DAMAGED)
    mark = len(connected.shop.calls)

    handled = await shopify_push.drain_outbox(10)

    assert handled == await OutboxRow.all().count()
    assert await OutboxRow.filter(status=OutboxStatus.DONE, outcome="pushed").count() == handled
    await assert_shopify_agrees(connected.shop)
    # One call per quantity name for the whole round: every item and location travelled together.
    assert len(answered_calls(connected.shop, mark)) == 2


async def test_many_changes_to_one_item_travel_as_one_change(connected):
    branch, variant, _ = (await mapped_levels())[0]
    await adjust(branch.id, variant.id, +40)
    for _ in range(25):
        await adjust(branch.id, variant.id, -1, AdjustmentReason.SHRINKAGE)
    mark = len(connected.shop.calls)
    log_before = len(connected.shop.inventory_log)

    report = await shopify_push.push_due()

    assert (report.claimed, report.pushed, report.calls) == (26, 26, 1)
    assert len(connected.shop.calls) == mark + 1
    changes = [e for e in connected.shop.inventory_log[log_before:] if e["name"] == "available"]
    assert [e["delta"] for e in changes] == [15]
    await assert_shopify_agrees(connected.shop)


async def test_changes_that_cancel_out_need_no_call(connected):
    branch, variant, _ = (await mapped_levels())[0]
    await adjust(branch.id, variant.id, +2)
    await adjust(branch.id, variant.id, -2, AdjustmentReason.SHRINKAGE)
    calls = len(connected.shop.calls)

    report = await shopify_push.push_due()

    assert (report.claimed, report.skipped, report.calls) == (2, 2, 0)
    assert len(connected.shop.calls) == calls
    assert await OutboxRow.filter(outcome="nothing_to_push").count() == 2


async def test_a_variant_not_on_shopify_does_not_clog_the_queue(connected):
    branch, variant, _ = (await mapped_levels())[0]
    from tests.factories import make_variants

    (local,) = await make_variants(1, prefix="LOCAL")
    await adjust(branch.id, local.id, +5)
    await adjust(branch.id, variant.id, +1)

    report = await shopify_push.push_due()

    assert (report.pushed, report.skipped) == (1, 1)
    row = await OutboxRow.get(outcome="not_on_shopify")
    assert row.status == OutboxStatus.DONE
    assert await OutboxRow.filter(status=OutboxStatus.PENDING).count() == 0
    await assert_shopify_agrees(connected.shop)


async def test_nothing_is_pushed_while_shopify_is_not_connected(db, bus):
    from tests.factories import make_branch, make_variants, stock

    branch = await make_branch()
    (variant,) = await make_variants(1)
    await stock(branch.id, variant.id, 4)

    report = await shopify_push.push_due()

    assert report.not_connected and report.claimed == 0
    assert await OutboxRow.filter(status=OutboxStatus.PENDING).count() == 1


async def test_a_crash_after_the_call_resends_the_same_key_and_shopify_applies_it_once(connected, monkeypatch):
    branch, variant, _ = (await mapped_levels())[0]
    await adjust(branch.id, variant.id, +7)
    row = await OutboxRow.get()
    real_finish = shopify_push._finish_pushed

    async def crash(batch):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(shopify_push, "_finish_pushed", crash)
    first = await shopify_push.push_due()
    assert first.retrying == 1  # the call went through; recording it did not
    await row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and row.batch is not None
    key = f"branchline-inventory-{row.batch}"
    assert key in connected.shop.idempotency
    # The worker is gone; its lease runs out and another round takes the batch up again.
    monkeypatch.setattr(shopify_push, "_finish_pushed", real_finish)
    await OutboxRow.filter(id=row.id).update(next_attempt_at=None)

    second = await shopify_push.push_due()

    assert second.pushed == 1
    assert connected.shop.idempotency[key]["replays"] == 1
    assert row.batch == batch_id("available", [row.payload["movementId"]])
    await assert_shopify_agrees(connected.shop)


async def test_an_answer_that_comes_too_late_is_retried_under_the_same_key(connected):
    branch, variant, _ = (await mapped_levels())[0]
    await adjust(branch.id, variant.id, -1, AdjustmentReason.SHRINKAGE)
    connected.shop.faults.delay_next(1, seconds=1.5)  # applied by Shopify; the client gave up at 1 s

    report = await shopify_push.push_due()

    assert report.pushed == 1
    (entry,) = [e for e in connected.shop.idempotency.values() if e["field"] == "inventoryAdjustQuantities"]
    assert entry["replays"] == 1
    await assert_shopify_agrees(connected.shop)


async def test_throttling_and_server_errors_are_ridden_out(connected):
    levels = await mapped_levels()
    for branch, variant, _ in levels[:3]:
        await adjust(branch.id, variant.id, +2)
    faults = connected.shop.faults
    faults.throttle_next(1)
    faults.fail_next(1, status=503)
    faults.fail_next(1, status=429, retry_after=0.05)

    await shopify_push.drain_outbox(10)

    assert await OutboxRow.filter(status=OutboxStatus.DONE).count() == 3
    await assert_shopify_agrees(connected.shop)


async def test_repeated_failures_park_the_row_and_a_retry_brings_it_back(connected, change_settings):
    change_settings(push={"max_attempts": 2, "client_attempts": 1})
    branch, variant, _ = (await mapped_levels())[0]
    await adjust(branch.id, variant.id, +4)
    connected.shop.faults.fail_next(2, status=503)

    first = await shopify_push.push_due()
    assert first.retrying == 1
    await OutboxRow.all().update(next_attempt_at=None)  # skip the backoff
    second = await shopify_push.push_due()
    assert second.parked == 1

    row = await OutboxRow.get()
    assert (row.status, row.attempts) == (OutboxStatus.PARKED, 2)
    assert "503" in row.last_error
    assert (await shopify_push.push_due()).claimed == 0  # parked rows wait for a person

    assert await shopify_push.retry_parked() == 1
    third = await shopify_push.push_due()
    assert third.pushed == 1
    await assert_shopify_agrees(connected.shop)


async def test_an_item_not_stocked_at_the_location_is_activated_first(connected):
    branch, variant, _ = (await mapped_levels())[0]
    others = await Variant.filter(shopify_inventory_item_id__isnull=False).exclude(id=variant.id)
    item_id = int(others[0].shopify_inventory_item_id.rsplit("/", 1)[1])
    location_id = int(branch.shopify_location_id.rsplit("/", 1)[1])
    connected.shop.levels.pop((item_id, location_id), None)  # Shopify does not stock it there
    await adjust(branch.id, others[0].id, +3)
    await adjust(branch.id, variant.id, +1)

    report = await shopify_push.push_due()

    assert report.pushed == 2
    # Shopify had forgotten the level (its units gone with it); from activation on it hears every change.
    assert connected.shop.quantities(others[0].shopify_inventory_item_id, branch.shopify_location_id)["available"] == 3
    assert await OutboxRow.filter(status=OutboxStatus.DONE, outcome="pushed").count() == 2


async def test_a_refused_line_is_parked_and_the_others_still_go(connected):
    levels = await mapped_levels()
    (b1, v1, _), (b2, v2, _) = levels[0], next(lv for lv in levels[1:] if lv[1].id != levels[0][1].id)
    await adjust(b1.id, v1.id, +1)
    await adjust(b2.id, v2.id, +1)
    await Variant.filter(id=v1.id).update(shopify_inventory_item_id="gid://shopify/InventoryItem/999999")

    await shopify_push.drain_outbox(5)

    parked = await OutboxRow.get(status=OutboxStatus.PARKED)
    assert parked.payload["variantId"] == v1.id
    assert "could not be found" in parked.last_error
    assert await OutboxRow.filter(status=OutboxStatus.DONE, outcome="pushed").count() == 1
    assert await OutboxRow.filter(status=OutboxStatus.PENDING).count() == 0


async def test_a_stale_worker_s_outcome_changes_nothing_once_its_rows_were_batched_anew(connected):
    """Worker A claims a batch of two lines and stalls. Its lease runs out; worker B takes the batch over,
    Shopify refuses one line: that line parks, the other goes back to the queue and worker C batches it anew.
    When A finally records its own outcome for the old batch, C's row stays as C holds it."""
    levels = await mapped_levels()
    (b1, v1, _), (b2, v2, _) = levels[0], next(lv for lv in levels[1:] if lv[1].id != levels[0][1].id)
    await adjust(b1.id, v1.id, +1)
    await adjust(b2.id, v2.id, +1)
    (stale,) = (await claim(10, lease_seconds=30)).batches  # worker A
    assert len(stale.changes) == 2

    await OutboxRow.all().update(next_attempt_at=None)  # A's lease ran out
    (taken_over,) = (await claim(10, lease_seconds=30)).batches  # worker B: the same batch, the same token
    assert taken_over.id == stale.id
    refusal = UserError(field=["input", "changes", "0", "inventoryItemId"], message="no such item", code="INVALID")
    assert await shopify_push._refused(taken_over, [refusal], "refused") == {"parked": 1, "retrying": 1}
    (rebatched,) = (await claim(10, lease_seconds=30)).batches  # worker C
    assert rebatched.id != stale.id
    (moved,) = rebatched.row_ids
    before = await OutboxRow.get(id=moved)
    parked_before = await OutboxRow.get(status=OutboxStatus.PARKED)

    # Worker A wakes up: every outcome it may record for its old batch.
    await shopify_push._park(stale, stale.row_ids, "a late park", fresh_key=True)
    await shopify_push._refused(stale, [refusal], "a late refusal")
    await shopify_push._back_off(stale, "a late failure")
    await shopify_push._next_key(stale)
    await shopify_push._finish_pushed(stale)

    after = await OutboxRow.get(id=moved)
    fields = ("status", "batch", "target", "attempts", "key_generation", "next_attempt_at", "last_error", "outcome")
    assert [getattr(after, f) for f in fields] == [getattr(before, f) for f in fields]
    assert after.status == OutboxStatus.PENDING and after.batch == rebatched.id
    parked = await OutboxRow.get(status=OutboxStatus.PARKED)
    assert [getattr(parked, f) for f in fields] == [getattr(parked_before, f) for f in fields]

    # Worker C's push goes through as its own.
    await OutboxRow.filter(id=moved).update(next_attempt_at=None)
    assert (await shopify_push.push_due()).pushed == 1
    assert (await OutboxRow.get(id=moved)).status == OutboxStatus.DONE


async def test_concurrent_workers_push_each_movement_exactly_once(connected):
    levels = await mapped_levels()
    expected_total = 0

    async def sell(branch, variant):
        nonlocal expected_total
        for _ in range(5):
            await adjust(branch.id, variant.id, +1)
            expected_total += 1

    log_before = len(connected.shop.inventory_log)

    async def worker():
        for _ in range(40):
            await shopify_push.push_due(limit=7)
            await asyncio.sleep(0.01)

    await asyncio.gather(*(sell(b, v) for b, v, _ in levels[:6]), worker(), worker(), worker())
    await shopify_push.drain_outbox(10)

    applied = [e for e in connected.shop.inventory_log[log_before:] if e["name"] == "available"]
    assert sum(e["delta"] for e in applied) == expected_total
    assert await OutboxRow.filter(status=OutboxStatus.DONE).count() == expected_total
    await assert_shopify_agrees(connected.shop)


@pytest.mark.parametrize("workers", [2])
async def test_workers_racing_on_the_same_rows_never_double_push(connected, workers):
    levels = await mapped_levels()
    for branch, variant, _ in levels[:6]:
        for _ in range(3):
            await adjust(branch.id, variant.id, +1)
    log_before = len(connected.shop.inventory_log)

    reports = await asyncio.gather(*(shopify_push.push_due() for _ in range(workers)))

    assert sum(r.claimed for r in reports) == 18
    applied = [e for e in connected.shop.inventory_log[log_before:] if e["name"] == "available"]
    assert sum(e["delta"] for e in applied) == 18
    await assert_shopify_agrees(connected.shop)
