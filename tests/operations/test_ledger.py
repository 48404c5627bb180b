"""operations/stock/ledger.py: guards, buckets, idempotency, resulting levels, events after commit."""

import orjson
import pytest

from models.stock import Bucket, MovementReason, StockLevel, StockMovement
from operations.kernel.errors import ErrorCode, OperationError
from operations.kernel.transactions import transaction
from operations.stock import ledger
from operations.stock.adjustments import AdjustmentReason, check_ledger
from tests.factories import deduct, make_branch, make_variants, stock


async def level(branch_id, variant_id) -> StockLevel:
    return await StockLevel.get(branch_id=branch_id, variant_id=variant_id)


async def test_deduction_within_stock_updates_level_and_records_resulting_levels(db):
    branch = await make_branch()
    [v] = await make_variants()
    await stock(branch.id, v.id, 10)
    result = await deduct([(branch.id, v.id, 3)])
    [m] = result.movements
    assert (m.delta, m.on_hand, m.reserved, m.available, m.sequence) == (-3, 7, 0, 7, 2)
    assert (await level(branch.id, v.id)).on_hand == 7
    assert await StockMovement.filter(branch_id=branch.id).count() == 2


async def test_insufficient_stock_names_every_short_line_and_changes_nothing(db):
    branch = await make_branch()
    a, b, c = await make_variants(3)
    for v in (a, b, c):
        await stock(branch.id, v.id, 2)
    with pytest.raises(ledger.InsufficientStock) as caught:
        await deduct([(branch.id, a.id, 3), (branch.id, b.id, 1), (branch.id, c.id, 5)], key="short")
    shortages = {(s.sku, s.requested, s.available) for s in caught.value.shortages}
    assert shortages == {(a.sku, 3, 2), (c.sku, 5, 2)}
    assert {p.code for p in caught.value.problems} == {ErrorCode.INSUFFICIENT_STOCK}
    assert [p.field for p in caught.value.problems] == ["lines.0.quantity", "lines.2.quantity"]
    # Nothing half-applied: b's good line rolled back with the rest, and the key is free again.
    assert [(await level(branch.id, v.id)).on_hand for v in (a, b, c)] == [2, 2, 2]
    assert await StockMovement.filter(branch_id=branch.id).count() == 3
    await deduct([(branch.id, b.id, 1)], key="short")


async def test_selling_a_variant_never_stocked_is_insufficient(db):
    branch = await make_branch()
    [v] = await make_variants()
    with pytest.raises(ledger.InsufficientStock):
        await deduct([(branch.id, v.id, 1)])
    assert not await StockLevel.exists(branch_id=branch.id, variant_id=v.id)


async def test_branch_allowing_negative_stock_goes_below_zero(db):
    branch = await make_branch(allow_negative_stock=True)
    [v] = await make_variants()
    result = await deduct([(branch.id, v.id, 2)])
    assert result.movements[0].on_hand == -2
    # A receipt still lands at a branch below zero.
    await stock(branch.id, v.id, 5)
    assert (await level(branch.id, v.id)).on_hand == 3


async def test_force_flag_applies_late_offline_sale_even_when_branch_disallows_negative(db):
    branch = await make_branch()
    [v] = await make_variants()
    async with transaction() as tx:
        posting = ledger.Posting("offline:1", "sale", allow_negative=True)
        await ledger.apply(tx, posting, [ledger.Movement(branch.id, v.id, -1)])
    assert (await level(branch.id, v.id)).on_hand == -1


async def test_reservation_reduces_available_not_on_hand_and_guards_selling(db):
    branch = await make_branch()
    [v] = await make_variants()
    await stock(branch.id, v.id, 3)
    async with transaction() as tx:
        await ledger.apply(
            tx, ledger.Posting("order:1", "online_order"), [ledger.Movement(branch.id, v.id, 2, Bucket.RESERVED)]
        )
    lvl = await level(branch.id, v.id)
    assert (lvl.on_hand, lvl.reserved, lvl.available) == (3, 2, 1)
    with pytest.raises(ledger.InsufficientStock):
        await deduct([(branch.id, v.id, 2)])
    # Fulfilling the order: on hand and reserved both drop; available is unchanged.
    async with transaction() as tx:
        result = await ledger.apply(
            tx,
            ledger.Posting("order:1:fulfil", "online_fulfillment"),
            [ledger.Movement(branch.id, v.id, -2), ledger.Movement(branch.id, v.id, -2, Bucket.RESERVED)],
        )
    assert [(m.on_hand, m.reserved) for m in result.movements] == [(1, 2), (1, 0)]


async def test_releasing_more_than_reserved_is_refused(db):
    branch = await make_branch()
    [v] = await make_variants()
    await stock(branch.id, v.id, 3)
    with pytest.raises(ledger.InsufficientStock) as caught:
        async with transaction() as tx:
            await ledger.apply(
                tx, ledger.Posting("rel", "order_released"), [ledger.Movement(branch.id, v.id, -1, Bucket.RESERVED)]
            )
    assert caught.value.shortages[0].available == 0


async def test_same_key_returns_first_result_and_applies_once(db):
    branch = await make_branch()
    [v] = await make_variants()
    await stock(branch.id, v.id, 10)
    first = await deduct([(branch.id, v.id, 4)], key="k")
    again = await deduct([(branch.id, v.id, 4)], key="k")
    assert again.replayed and not first.replayed
    assert again.movements == first.movements
    assert (await level(branch.id, v.id)).on_hand == 6


async def test_same_key_with_different_movements_is_refused(db):
    branch = await make_branch()
    [v] = await make_variants()
    await stock(branch.id, v.id, 10)
    await deduct([(branch.id, v.id, 4)], key="k")
    with pytest.raises(OperationError) as caught:
        await deduct([(branch.id, v.id, 5)], key="k")
    assert caught.value.problems[0].code is ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert (await level(branch.id, v.id)).on_hand == 6


async def test_compare_and_set_refuses_when_on_hand_moved(db):
    branch = await make_branch()
    [v] = await make_variants()
    await stock(branch.id, v.id, 10)
    with pytest.raises(OperationError) as caught:
        async with transaction() as tx:
            await ledger.apply(
                tx, ledger.Posting("count", "count"), [ledger.Movement(branch.id, v.id, -2, expected_on_hand=9)]
            )
    assert caught.value.problems[0].code is ErrorCode.STOCK_CHANGED


@pytest.mark.parametrize("delta", [0, ledger.MAX_UNITS_PER_MOVEMENT + 1, -(ledger.MAX_UNITS_PER_MOVEMENT + 1)])
async def test_zero_and_huge_quantities_are_refused(db, delta):
    branch = await make_branch()
    [v] = await make_variants()
    with pytest.raises(OperationError) as caught:
        await deduct([(branch.id, v.id, -delta)])
    assert caught.value.problems[0].code is ErrorCode.INVALID
    assert not await StockMovement.exists()


async def test_unknown_branch_or_variant_is_refused(db):
    branch = await make_branch()
    [v] = await make_variants()
    with pytest.raises(OperationError) as caught:
        await deduct([(branch.id + 99, v.id, 1), (branch.id, v.id + 99, 1)])
    assert [p.code for p in caught.value.problems] == [ErrorCode.NOT_FOUND, ErrorCode.NOT_FOUND]
    assert not await StockMovement.exists()


async def test_events_published_only_after_commit(bus):
    branch = await make_branch()
    [v] = await make_variants()
    async with bus.subscribe([f"stock:{branch.id}"]) as sub:
        await stock(branch.id, v.id, 5)
        with pytest.raises(RuntimeError):
            async with transaction() as tx:
                await ledger.apply(tx, ledger.Posting("doomed", "sale"), [ledger.Movement(branch.id, v.id, -1)])
                raise RuntimeError("the sale failed after the stock was taken")
        await deduct([(branch.id, v.id, 2)])
        first = await sub.get(timeout=5)
        second = await sub.get(timeout=5)
        assert await sub.get(timeout=0.5) is None
    events = orjson.loads(first.message) + orjson.loads(second.message)
    assert [(e["delta"], e["onHand"], e["sequence"]) for e in events] == [(5, 5, 1), (-2, 3, 2)]
    assert await check_ledger() == ([], [])


async def test_movements_shopify_does_not_know_about_are_queued_in_the_outbox(db):
    from models.outbox import OutboxRow

    branch = await make_branch()
    [v] = await make_variants()
    result = await stock(branch.id, v.id, 5)
    async with transaction() as tx:
        await ledger.apply(
            tx,
            ledger.Posting("order:9", "online_order"),
            [ledger.Movement(branch.id, v.id, 2, Bucket.RESERVED, shopify_effect=ledger.ShopifyEffect.SHOPIFY_KNOWS)],
        )
    rows = await OutboxRow.all()
    assert [(r.key, r.payload["delta"], r.status.value) for r in rows] == [
        (f"movement:{result.movements[0].id}", 5, "pending")
    ]


async def test_a_nested_transaction_announces_nothing_if_the_outer_one_rolls_back(bus):
    branch = await make_branch()
    [v] = await make_variants()
    async with bus.subscribe([f"stock:{branch.id}"]) as sub:
        with pytest.raises(RuntimeError):
            async with transaction():
                await stock(branch.id, v.id, 5)  # an operation opening its own transaction inside ours
                raise RuntimeError("the outer operation failed after it")
        assert await sub.get(timeout=0.5) is None
        await stock(branch.id, v.id, 2)
        [event] = orjson.loads((await sub.get(timeout=5)).message)
    assert (event["delta"], event["onHand"]) == (2, 2)
    assert not await StockLevel.filter(on_hand=5).exists()


async def test_a_reason_outside_the_set_clients_are_told_of_is_refused_as_a_bug(db):
    """stockMovements shows `reason` as the StockMovementReason enum: the ledger writes no other reason."""
    branch = await make_branch()
    [v] = await make_variants()
    with pytest.raises(ValueError, match="MovementReason"):
        async with transaction() as tx:
            await ledger.apply(tx, ledger.Posting("odd", "stolen_by_aliens"), [ledger.Movement(branch.id, v.id, 1)])
    with pytest.raises(ValueError, match="MovementReason"):  # a movement's own reason too
        async with transaction() as tx:
            movement = ledger.Movement(branch.id, v.id, 1, reason="found_it")
            await ledger.apply(tx, ledger.Posting("odder", "found"), [movement])
    assert not await StockMovement.exists()
    assert {r.value for r in AdjustmentReason} <= {r.value for r in MovementReason}
