"""Who may do which step where, and bad input: typed errors or AccessDenied, and nothing written."""

import pytest

from models.idempotency import IdempotentRequest
from models.staff import AuditEntry
from models.stock import StockMovement
from models.transfers import Transfer, TransferDiscrepancy, TransferLine, TransferStatus
from operations.directory.catalog import VariantRef
from operations.kernel.access import AccessDenied
from operations.kernel.errors import OperationError
from operations.transfers import movement as moves
from operations.transfers import requests as transfers
from tests.transfers.conftest import approved, dispatched, key, level, receipt, request


async def nothing_written(before_transfers: int = 0):
    assert await Transfer.all().count() == before_transfers
    assert await StockMovement.filter(reason__startswith="transfer").count() == 0


def codes(error: OperationError) -> list[tuple[str, str | None]]:
    return [(p.code.value, p.field) for p in error.problems]


# --- who -----------------------------------------------------------------------------------------


async def test_either_end_may_request_but_not_an_outsider_or_a_cashier(two_branches):
    s = two_branches
    await transfers.create_transfer(s.destination_clerk, request(s, [(s.kurta, 1)]))
    await transfers.create_transfer(s.source_clerk, request(s, [(s.kurta, 1)]))
    for who in (s.outsider, s.cashier):
        with pytest.raises(AccessDenied) as denied:
            await transfers.create_transfer(who, request(s, [(s.kurta, 1)]))
        assert denied.value.code == "FORBIDDEN"
    assert await Transfer.all().count() == 2
    assert await IdempotentRequest.filter(operation="createTransfer").count() == 2


async def test_only_the_source_manager_approves(two_branches):
    s = two_branches
    t, _ = await transfers.create_transfer(s.destination_clerk, request(s, [(s.kurta, 1)]))
    for who in (s.destination_manager, s.source_clerk, s.outsider):
        with pytest.raises(AccessDenied):
            await transfers.approve_transfer(who, t.id, key("approve"))
    assert (await Transfer.get(id=t.id)).status is TransferStatus.REQUESTED
    t, _ = await transfers.approve_transfer(s.source_manager, t.id, key("approve"))
    assert t.status is TransferStatus.APPROVED and t.approved_by.startswith(f"staff:{s.source_manager.staff_id}")


async def test_dispatch_at_the_source_receive_at_the_destination(two_branches):
    s = two_branches
    t = await approved(s)
    for who in (s.destination_clerk, s.outsider):
        with pytest.raises(AccessDenied):
            await moves.dispatch_transfer(who, t.id, key("dispatch"))
    t, _ = await moves.dispatch_transfer(s.source_clerk, t.id, key("dispatch"))
    assert t.dispatched_by_staff_id == s.source_clerk.staff_id
    for who in (s.source_clerk, s.outsider):
        with pytest.raises(AccessDenied):
            await moves.receive_transfer(who, receipt(t, [(s.kurta, 1, 0, 0)]))
        with pytest.raises(AccessDenied):
            await moves.close_transfer(who, t.id, key("close"))
    assert (await level(s.destination, s.kurta)).on_hand == 0
    await moves.receive_transfer(s.destination_clerk, receipt(t, [(s.kurta, 9, 0, 1, "lost")]))
    missing = await TransferDiscrepancy.get(transfer_id=t.id)
    with pytest.raises(AccessDenied):
        await moves.return_discrepancy_to_stock(s.source_clerk, missing.id, key("found"))
    assert (await TransferDiscrepancy.get(id=missing.id)).returned_to_stock_at is None
    # The source's manager may close (approve side); the destination's clerk may too.
    t, _ = await moves.close_transfer(s.source_manager, t.id, key("close"))
    assert t.status is TransferStatus.CLOSED


# --- bad input -----------------------------------------------------------------------------------


async def test_a_transfer_to_the_same_branch_is_refused(two_branches):
    s = two_branches
    with pytest.raises(OperationError) as bad:
        await transfers.create_transfer(s.source_clerk, request(s, [(s.kurta, 1)], destination=s.source.id))
    assert codes(bad.value) == [("INVALID", "destinationBranchId")]
    await nothing_written()


async def test_zero_and_negative_quantities_and_unknown_variants_are_refused(two_branches):
    s = two_branches
    new = transfers.NewTransfer(
        s.source.id,
        s.destination.id,
        [
            transfers.RequestLine(VariantRef(id=s.kurta.id), 0),
            transfers.RequestLine(VariantRef(id=s.shawl.id), -3),
            transfers.RequestLine(VariantRef(id=s.shawl.id), True),
        ],
        key("create"),
    )
    with pytest.raises(OperationError) as bad:
        await transfers.create_transfer(s.destination_clerk, new)
    assert codes(bad.value) == [
        ("INVALID", "lines.0.quantity"),
        ("INVALID", "lines.1.quantity"),
        ("INVALID", "lines.2.quantity"),
    ]
    unknown = transfers.NewTransfer(
        s.source.id,
        s.destination.id,
        [transfers.RequestLine(VariantRef(sku="NOPE"), 1), transfers.RequestLine(VariantRef(id=999_999), 1)],
        key("create"),
    )
    with pytest.raises(OperationError) as bad:
        await transfers.create_transfer(s.destination_clerk, unknown)
    assert codes(bad.value) == [("NOT_FOUND", "lines.0.variant.sku"), ("NOT_FOUND", "lines.1.variant.id")]
    twice = request(s, [(s.kurta, 1), (s.kurta, 2)])
    with pytest.raises(OperationError) as bad:
        await transfers.create_transfer(s.destination_clerk, twice)
    assert codes(bad.value) == [("DUPLICATE", "lines.1")]
    no_branch = request(s, [(s.kurta, 1)], source=999_999)
    with pytest.raises(OperationError) as bad:
        await transfers.create_transfer(s.destination_clerk, no_branch)
    assert codes(bad.value) == [("NOT_FOUND", "sourceBranchId")]
    with pytest.raises(OperationError) as bad:
        await transfers.create_transfer(s.destination_clerk, request(s, [], k=" "))
    assert codes(bad.value) == [("INVALID", "idempotencyKey"), ("INVALID", "lines")]
    await nothing_written()
    assert await AuditEntry.filter(action__startswith="transfer").count() == 0


async def test_receiving_more_than_dispatched_is_refused_and_writes_nothing(two_branches):
    s = two_branches
    t = await dispatched(s)
    with pytest.raises(OperationError) as bad:
        await moves.receive_transfer(s.destination_clerk, receipt(t, [(s.kurta, 10, 1, 0)]))
    assert codes(bad.value) == [("INVALID", "lines.0.received")]
    assert "only 10" in bad.value.problems[0].message
    await moves.receive_transfer(s.destination_clerk, receipt(t, [(s.kurta, 7, 0, 0)]))
    with pytest.raises(OperationError) as bad:
        await moves.receive_transfer(s.destination_clerk, receipt(t, [(s.kurta, 4, 0, 0)]))
    assert codes(bad.value) == [("INVALID", "lines.0.received")] and "only 3" in bad.value.problems[0].message
    line = await TransferLine.get(transfer_id=t.id)
    assert (line.quantity_received, line.outstanding) == (7, 3)
    assert (await level(s.destination, s.kurta)).on_hand == 7
    assert await TransferDiscrepancy.all().count() == 0


async def test_receipt_input_is_checked_line_by_line(two_branches):
    s = two_branches
    t = await dispatched(s)
    bad_lines = [
        moves.ReceiveLine(moves.LineRef(variant_id=s.kurta.id), -1, 0, 0),
        moves.ReceiveLine(moves.LineRef(variant_id=s.kurta.id), 0, 0, 0),
        moves.ReceiveLine(moves.LineRef(variant_id=s.kurta.id), 0, 2, 0, None),
    ]
    with pytest.raises(OperationError) as bad:
        await moves.receive_transfer(s.destination_clerk, moves.Receipt(t.id, bad_lines, key("r")))
    assert codes(bad.value) == [
        ("INVALID", "lines.0.received"),
        ("INVALID", "lines.1.received"),
        ("INVALID", "lines.2.reason"),
    ]
    line = await TransferLine.get(transfer_id=t.id)
    twice = [
        moves.ReceiveLine(moves.LineRef(variant_id=s.kurta.id), 1),
        moves.ReceiveLine(moves.LineRef(line_id=line.id), 1),
        moves.ReceiveLine(moves.LineRef(line_id=line.id, variant_id=s.kurta.id), 1),
    ]
    with pytest.raises(OperationError) as bad:
        await moves.receive_transfer(s.destination_clerk, moves.Receipt(t.id, twice, key("r")))
    assert codes(bad.value) == [("DUPLICATE", "lines.1"), ("INVALID", "lines.2.lineId")]
    not_on_it = [moves.ReceiveLine(moves.LineRef(variant_id=s.shawl.id), 1)]
    with pytest.raises(OperationError) as bad:
        await moves.receive_transfer(s.destination_clerk, moves.Receipt(t.id, not_on_it, key("r")))
    assert codes(bad.value) == [("NOT_FOUND", "lines.0.variantId")]
    assert (await Transfer.get(id=t.id)).status is TransferStatus.IN_TRANSIT


async def test_dispatch_input_is_checked(two_branches):
    s = two_branches
    t = await approved(s)
    line = await TransferLine.get(transfer_id=t.id)
    too_many = [moves.DispatchLine(moves.LineRef(line_id=line.id), 11)]
    with pytest.raises(OperationError) as bad:
        await moves.dispatch_transfer(s.source_clerk, t.id, key("d"), too_many)
    assert codes(bad.value) == [("INVALID", "lines.0.quantity")]
    nothing = [moves.DispatchLine(moves.LineRef(line_id=line.id), 0)]
    with pytest.raises(OperationError) as bad:
        await moves.dispatch_transfer(s.source_clerk, t.id, key("d"), nothing)
    assert codes(bad.value) == [("INVALID", "lines")]
    negative = [moves.DispatchLine(moves.LineRef(line_id=line.id), -2)]
    with pytest.raises(OperationError) as bad:
        await moves.dispatch_transfer(s.source_clerk, t.id, key("d"), negative)
    assert codes(bad.value) == [("INVALID", "lines.0.quantity")]
    assert (await Transfer.get(id=t.id)).status is TransferStatus.APPROVED
    assert await StockMovement.filter(reason__startswith="transfer").count() == 0


async def test_a_key_reused_for_a_different_request_is_refused(two_branches):
    s = two_branches
    await transfers.create_transfer(s.destination_clerk, request(s, [(s.kurta, 1)], k="mine"))
    again, replayed = await transfers.create_transfer(s.destination_clerk, request(s, [(s.kurta, 1)], k="mine"))
    assert replayed and again.number == "TR-000001"
    with pytest.raises(OperationError) as bad:
        await transfers.create_transfer(s.destination_clerk, request(s, [(s.kurta, 2)], k="mine"))
    assert codes(bad.value) == [("IDEMPOTENCY_KEY_REUSED", "idempotencyKey")]
    assert await Transfer.all().count() == 1


async def test_unknown_transfer_and_discrepancy(two_branches):
    s = two_branches
    with pytest.raises(OperationError) as bad:
        await transfers.approve_transfer(s.source_manager, 424242, key("a"))
    assert codes(bad.value) == [("NOT_FOUND", "transferId")]
    with pytest.raises(OperationError) as bad:
        await moves.return_discrepancy_to_stock(s.destination_clerk, 424242, key("f"))
    assert codes(bad.value) == [("NOT_FOUND", "discrepancyId")]
