"""Purchase orders and goods received: on hand, outstanding and the weighted average cost, worked
by hand; the order's states; and bad input that writes nothing."""

from decimal import Decimal

import pytest

from models.catalog import Variant
from models.outbox import OutboxRow
from models.purchasing import GoodsReceipt, GoodsReceiptLine, PurchaseOrder, PurchaseOrderStatus, Supplier
from models.stock import StockMovement, StockPosting
from operations.directory.catalog import VariantRef
from operations.kernel.access import SYSTEM, AccessDenied
from operations.kernel.errors import ErrorCode, OperationError
from operations.purchasing import orders as purchasing
from operations.purchasing import receiving
from operations.purchasing import suppliers as purchase_suppliers
from operations.purchasing.receiving import weighted_average
from operations.purchasing.valuation import stock_valuation
from operations.stock.adjustments import check_ledger
from tests.factories import deduct, stock
from tests.purchasing.conftest import goods, key, lines_of, on_hand, order, placed, receipts_of

D = Decimal


def test_the_average_cost_rule():
    assert weighted_average(None, 40, D("99.5"), 3) == D("99.5000")  # no cost yet: the receipt's cost
    assert weighted_average(D("100"), 0, D("120"), 5) == D("120.0000")  # nothing held to average with
    assert weighted_average(D("100"), -4, D("120"), 5) == D("120.0000")  # oversold: nothing held either
    assert weighted_average(D("1000"), 24, D("1100"), 18) == D("1042.8571")  # 43800 / 42 = 1042.857142…
    assert weighted_average(D("0.0001"), 1, D("0.0002"), 1) == D("0.0002")  # 0.00015 rounds half up
    assert weighted_average(D("10"), 3, D("0"), 1) == D("7.5000")  # free goods pull the average down


async def test_a_partial_grn_then_the_rest(shop):
    s = shop
    po = await placed(s, [(s.kurta, 30, "1000.00"), (s.shawl, 20, "450.50")])
    assert (po.number, po.status) == ("PO-000001", PurchaseOrderStatus.ORDERED)

    # First GRN: 12 kurtas at the order's cost. Kurta had no cost (opening stock only), so the
    # average becomes the receipt's cost whatever was held: 1000.0000.
    grn1, replayed = await receiving.receive_goods(s.buyer, goods(po, [(s.kurta, 12)], k="grn-a"))
    assert not replayed and grn1.number == "GRN-000001"
    assert await on_hand(s.lahore, s.kurta) == 22
    lines = await lines_of(po)
    assert (lines[s.kurta.id].quantity_received, lines[s.kurta.id].outstanding) == (12, 18)
    assert (lines[s.shawl.id].quantity_received, lines[s.shawl.id].outstanding) == (0, 20)
    assert (await PurchaseOrder.get(id=po.id)).status is PurchaseOrderStatus.PARTIALLY_RECEIVED
    assert (await Variant.get(id=s.kurta.id)).average_cost == D("1000.0000")
    [line1] = await GoodsReceiptLine.filter(goods_receipt_id=grn1.id)
    assert (line1.average_cost_before, line1.on_hand_before, line1.average_cost_after) == (None, 15, D("1000"))

    # Three kurtas sell at Lahore before the rest arrives.
    await deduct([(s.lahore.id, s.kurta.id, 3)])

    # Second GRN: the remaining 18 kurtas, invoiced at 1100.00, and all 20 shawls.
    # Kurta held before: Lahore 22 - 3 = 19, Karachi 5 → 24 units at 1000.0000.
    # new average = (1000 × 24 + 1100 × 18) / (24 + 18) = 43800 / 42 = 1042.857142… → 1042.8571
    # Shawl had no cost: 450.5000.
    grn2, _ = await receiving.receive_goods(s.buyer, goods(po, [(s.kurta, 18, "1100.00"), (s.shawl, 20)], k="grn-b"))
    assert grn2.number == "GRN-000002"
    assert await on_hand(s.lahore, s.kurta) == 37
    assert await on_hand(s.lahore, s.shawl) == 20
    assert await on_hand(s.karachi, s.kurta) == 5  # other branches' stock is weighed, never moved
    assert all(line.outstanding == 0 for line in (await lines_of(po)).values())
    assert (await PurchaseOrder.get(id=po.id)).status is PurchaseOrderStatus.RECEIVED
    assert (await Variant.get(id=s.kurta.id)).average_cost == D("1042.8571")
    assert (await Variant.get(id=s.shawl.id)).average_cost == D("450.5000")
    kurta2 = await GoodsReceiptLine.get(goods_receipt_id=grn2.id, variant_id=s.kurta.id)
    assert (kurta2.unit_cost, kurta2.average_cost_before, kurta2.on_hand_before) == (D("1100"), D("1000"), 24)

    # A later order at a cost that does not divide evenly: (1042.8571 × 42 + 1000.01 × 7) / 49
    # = (43799.9982 + 7000.07) / 49 = 50800.0682 / 49 = 1036.73608… → 1036.7361
    po2 = await placed(s, [(s.kurta, 7, "1000.01")])
    await receiving.receive_goods(s.buyer, goods(po2, [(s.kurta, 7)]))
    assert (await Variant.get(id=s.kurta.id)).average_cost == D("1036.7361")

    # Every receipt went through the ledger as `received`, one posting per GRN, pushed to Shopify.
    received = await StockMovement.filter(reason="received").order_by("id")
    assert [(m.variant_id, m.delta, m.shopify_effect.value) for m in received] == [
        (s.kurta.id, 12, "push"),
        (s.kurta.id, 18, "push"),
        (s.shawl.id, 20, "push"),
        (s.kurta.id, 7, "push"),
    ]
    assert await StockPosting.filter(reference_type="goods_receipt").count() == 3
    pushed = await OutboxRow.filter(topic="shopify.inventory_delta", key__in=[f"movement:{m.id}" for m in received])
    assert len(pushed) == 4
    assert await check_ledger() == ([], [])

    # Valuation at Lahore: kurta 44 × 1036.7361 = 45616.3884, shawl 20 × 450.5 = 9010 → 54626.39;
    # the scarf has stock but no cost, so it is listed, not valued.
    await stock(s.lahore.id, s.scarf.id, 4)
    value = await stock_valuation(s.manager, s.lahore.id)
    assert (value.value, value.units_valued, value.variants_valued) == (D("54626.39"), 64, 2)
    assert [(u.sku, u.on_hand) for u in value.uncosted] == [(s.scarf.sku, 4)]
    assert (value.uncosted_count, value.uncosted_units) == (1, 4)


async def test_a_repeated_grn_key_returns_the_first_receipt_and_changes_nothing(shop):
    s = shop
    po = await placed(s, [(s.kurta, 10, "500")])
    first, _ = await receiving.receive_goods(s.buyer, goods(po, [(s.kurta, 4)], k="same"))
    again, replayed = await receiving.receive_goods(s.buyer, goods(po, [(s.kurta, 4)], k="same"))
    assert replayed and again.id == first.id
    assert await on_hand(s.lahore, s.kurta) == 14
    assert (await lines_of(po))[s.kurta.id].quantity_received == 4

    with pytest.raises(OperationError) as reused:
        await receiving.receive_goods(s.buyer, goods(po, [(s.kurta, 5)], k="same"))
    assert [p.code for p in reused.value.problems] == [ErrorCode.IDEMPOTENCY_KEY_REUSED]
    assert await on_hand(s.lahore, s.kurta) == 14


async def test_close_short_and_cancel(shop):
    s = shop
    po = await placed(s, [(s.kurta, 10, "500"), (s.shawl, 6, "300")])
    await receiving.receive_goods(s.buyer, goods(po, [(s.kurta, 4)]))

    with pytest.raises(OperationError) as early:
        await purchasing.cancel_purchase_order(s.buyer, po.id, key("cancel"))
    assert early.value.problems[0].code is ErrorCode.WRONG_STATE  # something arrived: close it instead

    closed, _ = await purchasing.close_purchase_order(s.buyer, po.id, "close-1", reason="supplier out of stock")
    assert (closed.status, closed.close_reason) == (PurchaseOrderStatus.CLOSED, "supplier out of stock")
    lines = await lines_of(po)
    assert [(x.quantity_received, x.quantity_cancelled, x.outstanding) for x in lines.values()] == [
        (4, 6, 0),
        (0, 6, 0),
    ]
    again, replayed = await purchasing.close_purchase_order(s.buyer, po.id, "close-1", reason="supplier out of stock")
    assert replayed and again.id == po.id

    draft = await placed(s, [(s.kurta, 3, "500")], place=False)
    assert draft.status is PurchaseOrderStatus.DRAFT
    with pytest.raises(OperationError) as not_placed:
        await receiving.receive_goods(s.buyer, goods(draft, [(s.kurta, 1)]))
    assert not_placed.value.problems[0].code is ErrorCode.WRONG_STATE
    # Nothing received yet: closing is refused, cancelling is the way.
    with pytest.raises(OperationError) as not_closable:
        await purchasing.close_purchase_order(s.buyer, draft.id)
    assert [p.code for p in not_closable.value.problems] == [ErrorCode.WRONG_STATE]
    placed_po, _ = await purchasing.place_purchase_order(s.buyer, draft.id, "place-1")
    assert placed_po.status is PurchaseOrderStatus.ORDERED and placed_po.ordered_at is not None
    cancelled, _ = await purchasing.cancel_purchase_order(s.buyer, draft.id, "cancel-1", "ordered twice")
    assert cancelled.status is PurchaseOrderStatus.CANCELLED
    assert (await lines_of(draft))[s.kurta.id].quantity_cancelled == 3


async def _nothing_written(s, po, before_on_hand: int, before_cost):
    assert await on_hand(s.lahore, s.kurta) == before_on_hand
    assert (await Variant.get(id=s.kurta.id)).average_cost == before_cost
    assert await receipts_of(po) == []
    assert await StockMovement.filter(reason="received").count() == 0


async def test_bad_receipts_get_typed_errors_and_write_nothing(shop):
    s = shop
    po = await placed(s, [(s.kurta, 10, "500"), (s.shawl, 5, "200")])
    cases = [
        (goods(po, [(s.kurta, 0)]), "lines.0.quantity", ErrorCode.INVALID),
        (goods(po, [(s.kurta, -2)]), "lines.0.quantity", ErrorCode.INVALID),
        (goods(po, [(s.kurta, 2, "-1.00")]), "lines.0.unitCost", ErrorCode.INVALID),
        (goods(po, [(s.kurta, 2, "1.00001")]), "lines.0.unitCost", ErrorCode.INVALID),
        (goods(po, [(s.kurta, 11)]), "lines.0.quantity", ErrorCode.INVALID),  # more than outstanding
        (goods(po, [(s.shawl, 2), (s.kurta, 11)]), "lines.1.quantity", ErrorCode.INVALID),  # whole GRN refused
        (goods(po, [(s.scarf, 1)]), "lines.0.variant", ErrorCode.NOT_FOUND),  # not on this order
        (goods(po, [(s.kurta, 1), (s.kurta, 1)]), "lines.1", ErrorCode.DUPLICATE),
        (goods(po, []), "lines", ErrorCode.INVALID),
        (goods(po, [(s.kurta, 1)], k=""), "idempotencyKey", ErrorCode.INVALID),
        (
            receiving.GoodsIn(po.id, [receiving.ReceiptLine(1, variant=VariantRef(sku="NO-SUCH"))], key()),
            "lines.0.variant.sku",
            ErrorCode.NOT_FOUND,
        ),
        (
            receiving.GoodsIn(po.id, [receiving.ReceiptLine(1, line_id=999_999)], key()),
            "lines.0.lineId",
            ErrorCode.NOT_FOUND,
        ),
        (receiving.GoodsIn(po.id, [receiving.ReceiptLine(1)], key()), "lines.0", ErrorCode.INVALID),
    ]
    for request, field, code in cases:
        with pytest.raises(OperationError) as bad:
            await receiving.receive_goods(s.buyer, request)
        assert (bad.value.problems[0].field, bad.value.problems[0].code) == (field, code), request
    await _nothing_written(s, po, 10, None)
    assert await GoodsReceipt.all().count() == 0
    assert all(line.quantity_received == 0 for line in (await lines_of(po)).values())

    # A cancelled or closed order takes no more goods.
    cancelled = await placed(s, [(s.kurta, 3, "500")])
    await purchasing.cancel_purchase_order(s.buyer, cancelled.id)
    with pytest.raises(OperationError) as gone:
        await receiving.receive_goods(s.buyer, goods(cancelled, [(s.kurta, 1)]))
    assert gone.value.problems[0].code is ErrorCode.WRONG_STATE
    await receiving.receive_goods(s.buyer, goods(po, [(s.kurta, 2)]))
    await purchasing.close_purchase_order(s.buyer, po.id)
    with pytest.raises(OperationError) as shut:
        await receiving.receive_goods(s.buyer, goods(po, [(s.kurta, 1)]))
    assert shut.value.problems[0].code is ErrorCode.WRONG_STATE and "CLOSED" in shut.value.problems[0].message
    assert await on_hand(s.lahore, s.kurta) == 12
    assert await GoodsReceipt.all().count() == 1
    assert await check_ledger() == ([], [])


async def test_bad_orders_get_typed_errors_and_write_nothing(shop):
    s = shop
    inactive = await Supplier.create(name="Gone Ltd", active=False)
    cases = [
        (order(s, [(s.kurta, 0, "10")]), "lines.0.quantity", ErrorCode.INVALID),
        (order(s, [(s.kurta, 5, "-10")]), "lines.0.unitCost", ErrorCode.INVALID),
        (order(s, [(s.kurta, 5, "10"), (s.kurta, 1, "10")]), "lines.1", ErrorCode.DUPLICATE),
        (order(s, []), "lines", ErrorCode.INVALID),
        (order(s, [(s.kurta, 5, "10")], supplier_id=999_999), "supplierId", ErrorCode.NOT_FOUND),
        (order(s, [(s.kurta, 5, "10")], supplier_id=inactive.id), "supplierId", ErrorCode.INVALID),
        (
            purchasing.NewPurchaseOrder(
                s.supplier.id, s.lahore.id, [purchasing.OrderLine(VariantRef(barcode="000"), 1, D("1"))], key()
            ),
            "lines.0.variant.barcode",
            ErrorCode.NOT_FOUND,
        ),
    ]
    for request, field, code in cases:
        with pytest.raises(OperationError) as bad:
            await purchasing.create_purchase_order(s.buyer, request)
        assert (bad.value.problems[0].field, bad.value.problems[0].code) == (field, code), request
    assert await PurchaseOrder.all().count() == 0

    with pytest.raises(OperationError) as dup:
        await purchase_suppliers.create_supplier(SYSTEM, purchase_suppliers.NewSupplier("Copycat", ntn="1234567-8"))
    assert dup.value.problems[0].code is ErrorCode.DUPLICATE
    with pytest.raises(OperationError) as bad_ntn:
        await purchase_suppliers.create_supplier(
            SYSTEM, purchase_suppliers.NewSupplier("X", ntn="NTN please", email="nope")
        )
    assert {(p.code, p.field) for p in bad_ntn.value.problems} == {
        (ErrorCode.INVALID, "ntn"),
        (ErrorCode.INVALID, "email"),
    }
    assert await Supplier.all().count() == 2


async def test_outside_your_scope_is_access_denied_and_writes_nothing(shop):
    s = shop
    po = await placed(s, [(s.kurta, 10, "500")])
    with pytest.raises(AccessDenied):  # a Karachi clerk cannot receive at Lahore
        await receiving.receive_goods(s.karachi_clerk, goods(po, [(s.kurta, 1)]))
    with pytest.raises(AccessDenied):  # a cashier does not receive goods
        await receiving.receive_goods(s.cashier, goods(po, [(s.kurta, 1)]))
    with pytest.raises(AccessDenied):  # nor order them
        await purchasing.create_purchase_order(s.cashier, order(s, [(s.kurta, 1, "1")]))
    with pytest.raises(AccessDenied):  # a Karachi clerk cannot order for Lahore
        await purchasing.create_purchase_order(s.karachi_clerk, order(s, [(s.kurta, 1, "1")]))
    for step in (purchasing.close_purchase_order, purchasing.cancel_purchase_order, purchasing.place_purchase_order):
        with pytest.raises(AccessDenied):
            await step(s.karachi_clerk, po.id)
    with pytest.raises(AccessDenied):
        await purchase_suppliers.create_supplier(s.cashier, purchase_suppliers.NewSupplier("Nope"))
    with pytest.raises(AccessDenied):  # costs are not the counter's business
        await stock_valuation(s.cashier, s.lahore.id)
    assert (await stock_valuation(s.finance, s.lahore.id)).value == D("0.00")
    await _nothing_written(s, po, 10, None)
    assert await PurchaseOrder.all().count() == 1
    assert (await PurchaseOrder.get(id=po.id)).status is PurchaseOrderStatus.ORDERED
