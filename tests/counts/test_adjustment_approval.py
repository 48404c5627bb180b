"""Large stock adjustments need a manager: APPROVE at the branch, or a manager's PIN."""

import asyncio

import pytest

from models.staff import AuditEntry
from models.stock import StockLevel, StockMovement
from operations.kernel import settings
from operations.kernel.errors import OperationError
from operations.stock import adjustments as ops
from operations.stock.adjustments import Adjustment, AdjustmentLine, AdjustmentReason, adjust_stock, check_ledger


async def on_hand(s, variant) -> int:
    return (await StockLevel.get(branch_id=s.branch.id, variant_id=variant.id)).on_hand


def adjustment(s, actor, lines, key="adj", reason=AdjustmentReason.FOUND, pin=None) -> Adjustment:
    return Adjustment(s.branch.id, reason, lines, key, actor=actor, manager_pin=pin)


def codes(error: OperationError) -> list[tuple[str, str | None]]:
    return [(p.code.value, p.field) for p in error.problems]


async def test_up_to_the_approval_size_needs_no_approval(store):
    s = store
    assert settings.current().policy.adjustment_approval_units == 20
    lines = [AdjustmentLine(s.kurta.id, 15), AdjustmentLine(s.shawl.id, 5)]  # 20 units in all
    await adjust_stock(adjustment(s, s.clerk, lines))
    assert (await on_hand(s, s.kurta), await on_hand(s, s.shawl)) == (25, 15)


async def test_above_it_without_approval_is_refused_and_writes_nothing(store):
    s = store
    before = await StockMovement.all().count()
    lines = [AdjustmentLine(s.kurta.id, 15), AdjustmentLine(s.shawl.id, 6)]
    for pin in (None, "0000", "558203"):  # none, a wrong PIN, a manager of another branch
        with pytest.raises(OperationError) as error:
            await adjust_stock(adjustment(s, s.clerk, lines, pin=pin))
        assert codes(error.value) == [("APPROVAL_REQUIRED", "managerPin")]
    with pytest.raises(OperationError) as error:  # a cashier's PIN cannot approve
        await adjust_stock(adjustment(s, s.clerk, lines, pin="1357"))
    assert codes(error.value) == [("APPROVAL_REQUIRED", "managerPin")]
    assert await StockMovement.all().count() == before
    assert not await AuditEntry.filter(action="stock.adjusted").exists()


async def test_a_manager_pin_approves_and_the_audit_names_the_approver(store, change_settings):
    s = store
    change_settings(policy={"adjustment_approval_units": 10})
    lines = [AdjustmentLine(s.kurta.id, -8), AdjustmentLine(s.shawl.id, -8)]
    result = await adjust_stock(adjustment(s, s.clerk, lines, reason=AdjustmentReason.DAMAGED, pin="902715"))
    assert (await on_hand(s, s.kurta), await on_hand(s, s.shawl)) == (2, 2)
    assert len(result.movements) == 4  # on hand and damaged for each: 16 units moved, not 32
    entry = await AuditEntry.get(action="stock.adjusted")
    assert (entry.actor_staff_id, entry.approved_by_staff_id) == (s.clerk.staff_id, s.manager.staff_id)
    assert entry.detail["units"] == 16
    # A retry returns the first result, PIN or not: the adjustment was approved once.
    again = await adjust_stock(adjustment(s, s.clerk, lines, reason=AdjustmentReason.DAMAGED))
    assert again.replayed and again.posting_id == result.posting_id


async def test_a_manager_approves_their_own(store):
    s = store
    await adjust_stock(adjustment(s, s.manager, [AdjustmentLine(s.kurta.id, 50)]))
    assert await on_hand(s, s.kurta) == 60
    entry = await AuditEntry.get(action="stock.adjusted")
    assert entry.approved_by_staff_id == s.manager.staff_id


async def test_a_counted_quantity_is_judged_by_the_change_it_makes(store):
    s = store
    small = [AdjustmentLine(s.kurta.id, counted_quantity=25)]  # +15
    await adjust_stock(adjustment(s, s.clerk, small, key="c1", reason=AdjustmentReason.COUNT))
    large = [AdjustmentLine(s.kurta.id, counted_quantity=0)]  # −25
    with pytest.raises(OperationError) as error:
        await adjust_stock(adjustment(s, s.clerk, large, key="c2", reason=AdjustmentReason.COUNT))
    assert codes(error.value) == [("APPROVAL_REQUIRED", "managerPin")]
    assert await on_hand(s, s.kurta) == 25


async def test_the_approval_size_is_configurable(store, change_settings):
    s = store
    change_settings(policy={"adjustment_approval_units": 2})
    with pytest.raises(OperationError) as error:
        await adjust_stock(adjustment(s, s.clerk, [AdjustmentLine(s.kurta.id, 3)]))
    assert codes(error.value) == [("APPROVAL_REQUIRED", "managerPin")]
    await adjust_stock(adjustment(s, s.clerk, [AdjustmentLine(s.kurta.id, 2)]))
    assert await on_hand(s, s.kurta) == 12


async def test_concurrent_retries_of_an_approved_adjustment_apply_once(store, change_settings):
    s = store
    change_settings(policy={"adjustment_approval_units": 5})
    lines = [AdjustmentLine(s.kurta.id, -9)]
    attempts = [
        adjust_stock(adjustment(s, s.clerk, lines, key="same", reason=AdjustmentReason.SHRINKAGE, pin="902715"))
        for _ in range(6)
    ]
    results = await asyncio.gather(*attempts)
    assert sum(not r.replayed for r in results) == 1
    assert await on_hand(s, s.kurta) == 1
    assert await AuditEntry.filter(action="stock.adjusted").count() == 1
    assert await check_ledger() == ([], [])


async def test_concurrent_unapproved_and_approved_large_adjustments(store, change_settings):
    """Only the approved ones land, each once; the refused ones leave no trace."""
    s = store
    change_settings(policy={"adjustment_approval_units": 1})
    results = await asyncio.gather(
        *(
            adjust_stock(
                adjustment(
                    s,
                    s.clerk,
                    [AdjustmentLine(s.shawl.id, -2)],
                    key=f"k{i}",
                    reason=AdjustmentReason.SHRINKAGE,
                    pin="902715" if i % 2 else None,
                )
            )
            for i in range(6)
        ),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, OperationError)]
    assert len(refused) == 3 and all(codes(r) == [("APPROVAL_REQUIRED", "managerPin")] for r in refused)
    assert await on_hand(s, s.shawl) == 10 - 3 * 2
    assert await StockMovement.filter(reason="shrinkage").count() == 3
    assert ops.units_moved([]) == 0
