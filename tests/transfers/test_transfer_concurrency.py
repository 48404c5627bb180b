"""Racing callers on one transfer: each step applies once, stock never moves twice.

Run on SQLite and on PostgreSQL (BRANCHLINE_TEST_DATABASE_URL): on PostgreSQL the transfer's row
lock is what makes the losers wait and then see the winner's state.
"""

import asyncio

from models.stock import StockMovement, StockPosting
from models.transfers import TransferDiscrepancy, TransferLine, TransferStatus
from operations.kernel.errors import ErrorCode, OperationError
from operations.stock.adjustments import check_ledger
from operations.transfers import movement as moves
from operations.transfers import requests as transfers
from tests.transfers.conftest import approved, dispatched, key, level, receipt, request


def outcomes(results):
    won = [r for r in results if isinstance(r, tuple) and not r[1]]
    replayed = [r for r in results if isinstance(r, tuple) and r[1]]
    refused = [r for r in results if isinstance(r, OperationError)]
    assert len(won) + len(replayed) + len(refused) == len(results), results  # nothing else escaped
    return won, replayed, refused


async def test_dispatching_the_same_transfer_twice_with_different_keys_moves_stock_once(two_branches):
    s = two_branches
    t = await approved(s)
    results = await asyncio.gather(
        *(moves.dispatch_transfer(s.source_clerk, t.id, f"dispatch-{i}") for i in range(4)), return_exceptions=True
    )
    won, replayed, refused = outcomes(results)
    assert (len(won), len(replayed), len(refused)) == (1, 0, 3)
    assert all(e.problems[0].code is ErrorCode.WRONG_STATE for e in refused)
    src = await level(s.source, s.kurta)
    assert (src.on_hand, src.in_transit) == (10, 10)
    assert await StockMovement.filter(reason="transfer_out").count() == 2
    assert await check_ledger() == ([], [])


async def test_dispatching_with_the_same_key_concurrently_returns_the_first_result(two_branches):
    s = two_branches
    t = await approved(s)
    results = await asyncio.gather(
        *(moves.dispatch_transfer(s.source_clerk, t.id, "same-dispatch") for _ in range(4)), return_exceptions=True
    )
    won, replayed, refused = outcomes(results)
    assert (len(won), len(replayed), len(refused)) == (1, 3, 0), results
    assert {r[0].id for r in won + replayed} == {t.id}
    assert all(r[0].status is TransferStatus.IN_TRANSIT for r in replayed)
    assert (await level(s.source, s.kurta)).on_hand == 10
    assert await check_ledger() == ([], [])


async def test_receiving_the_same_receipt_twice_counts_it_once(two_branches):
    s = two_branches
    t = await dispatched(s)
    same = receipt(t, [(s.kurta, 6, 0, 0)], k="receipt-1")
    results = await asyncio.gather(
        *(moves.receive_transfer(s.destination_clerk, same) for _ in range(4)), return_exceptions=True
    )
    won, replayed, refused = outcomes(results)
    assert (len(won), len(replayed), len(refused)) == (1, 3, 0), results
    # A retry long after is still the same receipt.
    again, was_replayed = await moves.receive_transfer(s.destination_clerk, same)
    assert was_replayed and again.status is TransferStatus.PARTIALLY_RECEIVED
    dst = await level(s.destination, s.kurta)
    assert dst.on_hand == 6 and (await level(s.source, s.kurta)).in_transit == 4
    assert (await TransferLine.get(transfer_id=t.id)).quantity_received == 6
    assert await check_ledger() == ([], [])


async def test_concurrent_receipts_that_together_exceed_the_dispatch_are_not_all_applied(two_branches):
    s = two_branches
    t = await dispatched(s)  # 10 in transit
    racing = [receipt(t, [(s.kurta, 4, 1, 1, "torn")], k=f"receipt-{i}") for i in range(3)]  # 3 × 6 > 10
    results = await asyncio.gather(
        *(moves.receive_transfer(s.destination_clerk, r) for r in racing), return_exceptions=True
    )
    won, replayed, refused = outcomes(results)
    assert (len(won), len(replayed), len(refused)) == (1, 0, 2), results
    for error in refused:  # the line's guard, or the state after another receipt finished it
        assert error.problems[0].code in (ErrorCode.INVALID, ErrorCode.WRONG_STATE)
    line = await TransferLine.get(transfer_id=t.id)
    assert (line.quantity_received, line.quantity_damaged, line.quantity_missing) == (4, 1, 1)
    assert await TransferDiscrepancy.filter(transfer_id=t.id).count() == 2
    src, dst = await level(s.source, s.kurta), await level(s.destination, s.kurta)
    assert (src.in_transit, dst.on_hand, dst.damaged) == (4, 4, 1)
    assert await check_ledger() == ([], [])


async def test_concurrent_receipts_that_fit_are_all_applied(two_branches):
    s = two_branches
    t = await dispatched(s)
    racing = [receipt(t, [(s.kurta, 2, 0, 0)], k=f"fits-{i}") for i in range(5)]
    results = await asyncio.gather(
        *(moves.receive_transfer(s.destination_clerk, r) for r in racing), return_exceptions=True
    )
    won, _, refused = outcomes(results)
    assert (len(won), len(refused)) == (5, 0), results
    assert (await level(s.destination, s.kurta)).on_hand == 10
    from models.transfers import Transfer

    assert (await Transfer.get(id=t.id)).status is TransferStatus.RECEIVED
    assert await check_ledger() == ([], [])


async def test_approving_twice_applies_once(two_branches):
    s = two_branches
    t, _ = await transfers.create_transfer(s.destination_clerk, request(s, [(s.kurta, 3)]))
    results = await asyncio.gather(
        *(transfers.approve_transfer(s.source_manager, t.id, f"approve-{i}") for i in range(3)), return_exceptions=True
    )
    won, _, refused = outcomes(results)
    assert (len(won), len(refused)) == (1, 2)
    assert all(e.problems[0].code is ErrorCode.WRONG_STATE for e in refused)


async def test_returning_a_discrepancy_concurrently_restores_it_once(two_branches):
    s = two_branches
    t = await dispatched(s)
    await moves.receive_transfer(s.destination_clerk, receipt(t, [(s.kurta, 7, 0, 3, "short")]))
    missing = await TransferDiscrepancy.get(transfer_id=t.id)
    results = await asyncio.gather(
        *(moves.return_discrepancy_to_stock(s.destination_clerk, missing.id, f"found-{i}") for i in range(4)),
        return_exceptions=True,
    )
    won, _, refused = outcomes(results)
    assert (len(won), len(refused)) == (1, 3)
    assert all(e.problems[0].code is ErrorCode.ALREADY_RETURNED for e in refused)
    assert (await level(s.destination, s.kurta)).on_hand == 10
    assert await StockPosting.filter(idempotency_key__startswith="transfer-discrepancy:").count() == 1
    assert await check_ledger() == ([], [])


async def test_closing_while_a_receipt_races_never_loses_or_doubles_units(two_branches):
    s = two_branches
    t = await dispatched(s)
    results = await asyncio.gather(
        moves.receive_transfer(s.destination_clerk, receipt(t, [(s.kurta, 6, 0, 0)])),
        moves.close_transfer(s.destination_clerk, t.id, key("close")),
        return_exceptions=True,
    )
    outcomes(results)
    line = await TransferLine.get(transfer_id=t.id)
    assert line.outstanding == 0  # whatever the order, closing accounted for everything
    src, dst = await level(s.source, s.kurta), await level(s.destination, s.kurta)
    assert src.in_transit == 0
    assert dst.on_hand == line.quantity_received
    assert line.quantity_received + line.quantity_missing == 10
    assert await check_ledger() == ([], [])
