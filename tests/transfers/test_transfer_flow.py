"""A transfer's whole way, through the operations: the stock in both branches' ledgers at each step."""

from datetime import UTC, datetime

import pytest

from models.outbox import OutboxRow
from models.staff import AuditEntry
from models.stock import StockMovement
from models.transfers import DiscrepancyKind, Transfer, TransferDiscrepancy, TransferLine, TransferStatus
from operations.kernel.errors import ErrorCode, OperationError
from operations.stock.adjustments import check_ledger
from operations.transfers import movement as moves
from operations.transfers import requests as transfers
from tests.transfers.conftest import approved, dispatched, key, level, receipt, request


async def test_ten_sent_eight_arrive_one_damaged_one_missing_found_once(two_branches):
    s = two_branches
    t = await dispatched(s)
    assert t.status is TransferStatus.IN_TRANSIT
    src = await level(s.source, s.kurta)
    assert (src.on_hand, src.in_transit) == (10, 10)

    t, _ = await moves.receive_transfer(
        s.destination_clerk,
        receipt(t, [(s.kurta, 8, 1, 0, "crushed in the van")]),
    )
    assert t.status is TransferStatus.PARTIALLY_RECEIVED  # the last unit is still on the way
    t, _ = await moves.receive_transfer(s.destination_clerk, receipt(t, [(s.kurta, 0, 0, 1, "not in the box")]))
    assert t.status is TransferStatus.RECEIVED

    src, dst = await level(s.source, s.kurta), await level(s.destination, s.kurta)
    assert (src.on_hand, src.in_transit) == (10, 0)  # source −10, in transit back to 0
    assert (dst.on_hand, dst.damaged, dst.in_transit) == (8, 1, 0)  # destination +8, 1 set aside
    line = await TransferLine.get(transfer_id=t.id)
    assert (line.quantity_dispatched, line.quantity_received, line.quantity_damaged, line.quantity_missing) == (
        10,
        8,
        1,
        1,
    )
    found = {d.kind: d for d in await TransferDiscrepancy.filter(transfer_id=t.id)}
    assert set(found) == {DiscrepancyKind.DAMAGED, DiscrepancyKind.MISSING}
    assert (found[DiscrepancyKind.MISSING].quantity, found[DiscrepancyKind.MISSING].reason) == (1, "not in the box")
    assert found[DiscrepancyKind.DAMAGED].reason == "crushed in the van"

    missing = found[DiscrepancyKind.MISSING]
    back, replayed = await moves.return_discrepancy_to_stock(s.destination_clerk, missing.id, "found-1")
    assert not replayed and back.returned_to_stock_at is not None
    assert (await level(s.destination, s.kurta)).on_hand == 9
    # The same request again is the same answer; another attempt is refused, typed.
    again, replayed = await moves.return_discrepancy_to_stock(s.destination_clerk, missing.id, "found-1")
    assert replayed and again.id == missing.id
    with pytest.raises(OperationError) as refused:
        await moves.return_discrepancy_to_stock(s.destination_clerk, missing.id, "found-2")
    assert refused.value.problems[0].code is ErrorCode.ALREADY_RETURNED
    assert (await level(s.destination, s.kurta)).on_hand == 9

    t, _ = await moves.close_transfer(s.destination_clerk, t.id, key("close"))
    assert t.status is TransferStatus.CLOSED and t.closed_at is not None
    assert await check_ledger() == ([], [])


async def test_each_movement_says_how_shopify_learns_of_it(two_branches):
    s = two_branches
    t = await dispatched(s)
    await moves.receive_transfer(s.destination_clerk, receipt(t, [(s.kurta, 8, 1, 1)]))
    rows = await StockMovement.filter(reason__startswith="transfer").order_by("id")
    seen = [(m.branch_id, m.bucket.value, m.delta, m.reason, m.shopify_effect.value) for m in rows]
    src, dst = s.source.id, s.destination.id
    assert seen == [
        (src, "on_hand", -10, "transfer_out", "push"),
        (src, "in_transit", 10, "transfer_out", "not_synced"),
        (src, "in_transit", -10, "transfer_in", "not_synced"),
        (dst, "on_hand", 8, "transfer_in", "push"),
        (dst, "damaged", 1, "transfer_damaged", "push"),
    ]
    # The ledger queued exactly the pushed movements for Shopify.
    pushed = {r.payload["movementId"] for r in await OutboxRow.filter(topic="shopify.inventory_delta")}
    assert pushed >= {m.id for m in rows if m.shopify_effect.value == "push"}
    assert not pushed & {m.id for m in rows if m.shopify_effect.value != "push"}


async def test_a_damaged_unit_restored_moves_from_damaged_to_on_hand(two_branches):
    s = two_branches
    t = await dispatched(s)
    await moves.receive_transfer(s.destination_clerk, receipt(t, [(s.kurta, 7, 3, 0, "wet")]))
    damaged = await TransferDiscrepancy.get(transfer_id=t.id, kind=DiscrepancyKind.DAMAGED)
    await moves.return_discrepancy_to_stock(s.destination_clerk, damaged.id, key("restore"))
    dst = await level(s.destination, s.kurta)
    assert (dst.on_hand, dst.damaged) == (10, 0)
    movements = await StockMovement.filter(reason="transfer_restored").order_by("id")
    assert [(m.bucket.value, m.delta) for m in movements] == [("damaged", -3), ("on_hand", 3)]
    assert await check_ledger() == ([], [])


async def test_dispatching_fewer_than_requested_then_closing_records_the_rest_missing(two_branches):
    s = two_branches
    t = await approved(s, [(s.kurta, 10), (s.shawl, 4)])
    lines = [
        moves.DispatchLine(moves.LineRef(variant_id=s.kurta.id), 6),
        moves.DispatchLine(moves.LineRef(variant_id=s.shawl.id), 4),
    ]
    t, _ = await moves.dispatch_transfer(s.source_clerk, t.id, key("dispatch"), lines)
    src = await level(s.source, s.kurta)
    assert (src.on_hand, src.in_transit) == (14, 6)
    await moves.receive_transfer(s.destination_clerk, receipt(t, [(s.kurta, 4, 0, 0), (s.shawl, 4, 0, 0)]))
    t, _ = await moves.close_transfer(s.destination_clerk, t.id, key("close"), reason="driver lost a bag")
    assert t.status is TransferStatus.CLOSED
    missing = await TransferDiscrepancy.get(transfer_id=t.id)
    assert (missing.kind, missing.quantity, missing.reason) == (DiscrepancyKind.MISSING, 2, "driver lost a bag")
    line = await TransferLine.get(transfer_id=t.id, variant_id=s.kurta.id)
    assert (line.quantity_received, line.quantity_missing, line.outstanding) == (4, 2, 0)
    assert (await level(s.source, s.kurta)).in_transit == 0
    assert (await level(s.destination, s.kurta)).on_hand == 4
    # Found later: onto the destination's shelf.
    await moves.return_discrepancy_to_stock(s.destination_clerk, missing.id, key("found"))
    assert (await level(s.destination, s.kurta)).on_hand == 6
    assert await check_ledger() == ([], [])


async def test_numbers_run_per_deployment_and_drafts_are_submitted(two_branches):
    s = two_branches
    draft, _ = await transfers.create_transfer(s.destination_clerk, request(s, [(s.kurta, 1)], submit=False))
    other, _ = await transfers.create_transfer(s.source_clerk, request(s, [(s.shawl, 1)]))
    assert (draft.number, other.number) == ("TR-000001", "TR-000002")
    assert draft.status is TransferStatus.DRAFT and draft.requested_at is None
    with pytest.raises(OperationError) as early:
        await transfers.approve_transfer(s.source_manager, draft.id, key("approve"))
    assert early.value.problems[0].code is ErrorCode.WRONG_STATE
    submitted, _ = await transfers.submit_transfer(s.destination_clerk, draft.id, key("submit"))
    assert submitted.status is TransferStatus.REQUESTED and submitted.requested_at is not None
    approved_, _ = await transfers.approve_transfer(s.source_manager, draft.id, key("approve"))
    assert approved_.status is TransferStatus.APPROVED and approved_.approved_by_staff_id == s.source_manager.staff_id
    actions = await AuditEntry.filter(target_type="transfer").order_by("id").values_list("action", flat=True)
    assert actions == ["transfer.drafted", "transfer.requested", "transfer.requested", "transfer.approved"]


async def test_cancel_only_before_dispatch(two_branches):
    s = two_branches
    t = await approved(s)
    t, _ = await transfers.cancel_transfer(s.destination_clerk, t.id, key("cancel"), reason="no longer needed")
    assert t.status is TransferStatus.CANCELLED and t.cancelled_at is not None
    with pytest.raises(OperationError) as late:
        await moves.dispatch_transfer(s.source_clerk, t.id, key("dispatch"))
    assert late.value.problems[0].code is ErrorCode.WRONG_STATE
    gone = await dispatched(s)
    with pytest.raises(OperationError) as refused:
        await transfers.cancel_transfer(s.destination_clerk, gone.id, key("cancel"))
    assert refused.value.problems[0].code is ErrorCode.WRONG_STATE
    assert "IN_TRANSIT" in refused.value.problems[0].message
    assert (await Transfer.get(id=gone.id)).status is TransferStatus.IN_TRANSIT
    assert (await level(s.source, s.kurta)).on_hand == 10


async def test_dispatch_beyond_stock_is_refused_and_leaves_the_transfer_approved(two_branches):
    s = two_branches
    t = await approved(s, [(s.kurta, 3), (s.shawl, 6)])  # only 5 shawls at the source
    with pytest.raises(OperationError) as short:
        await moves.dispatch_transfer(s.source_clerk, t.id, key("dispatch"))
    problem = short.value.problems[0]
    assert (problem.code, problem.field) == (ErrorCode.INSUFFICIENT_STOCK, "lines.1.quantity")
    assert (await Transfer.get(id=t.id)).status is TransferStatus.APPROVED
    assert [line.quantity_dispatched for line in await TransferLine.filter(transfer_id=t.id)] == [0, 0]
    assert (await level(s.source, s.kurta)).on_hand == 20
    assert await StockMovement.filter(reason__startswith="transfer").count() == 0


async def test_ageing_is_measured_from_dispatch(two_branches):
    s = two_branches
    t = await dispatched(s)
    assert t.dispatched_at is not None
    assert (datetime.now(UTC) - t.dispatched_at).total_seconds() < 60
