"""Checkout: one transaction that prices, takes payment, numbers the sale and deducts stock."""

import asyncio
from decimal import Decimal

import pytest

from models.outbox import OutboxRow
from models.sales import Sale, SaleStatus, TenderType
from models.staff import Role
from models.stock import StockLevel
from operations.counter import checkouts as sales
from operations.counter.registers import open_register
from operations.directory.branches import NewCounter, create_counter
from operations.directory.catalog import VariantRef
from operations.kernel.access import SYSTEM, AccessDenied
from operations.kernel.errors import ErrorCode, OperationError
from operations.stock.adjustments import check_ledger
from tests.factories import make_branch, stock
from tests.operations.conftest import staff_actor


def basket(shop, key="k1", lines=None, payments=None, **kw) -> sales.Checkout:
    return sales.Checkout(
        counter_id=shop.counter.id,
        lines=lines
        or [
            sales.CheckoutLine(VariantRef(sku=shop.kurta.sku), 2),
            sales.CheckoutLine(VariantRef(id=shop.shawl.id), 1, discount=Decimal("100.00")),
        ],
        payments=payments or [sales.Payment(TenderType.CASH, Decimal("5000.00"))],
        idempotency_key=key,
        **kw,
    )


async def on_hand(shop, variant) -> int:
    return (await StockLevel.get(branch_id=shop.branch.id, variant_id=variant.id)).on_hand


async def test_checkout_prices_takes_cash_numbers_and_deducts(shop):
    sale, replayed = await sales.checkout(shop.cashier, basket(shop))
    assert not replayed and sale.status is SaleStatus.PLACED
    assert sale.number == "LHR-C1-000001"
    # 2 × 1180 + 2500 − 100 = 4760 (tax-inclusive); tax 18/118 per line.
    assert (sale.total, sale.tax_total, sale.paid, sale.change_due) == (
        Decimal("4760.00"),
        Decimal("726.10"),
        Decimal("5000.00"),
        Decimal("240.00"),
    )
    assert sale.cash_taken == Decimal("4760.00")
    assert (await on_hand(shop, shop.kurta), await on_hand(shop, shop.shawl)) == (8, 9)
    assert await OutboxRow.filter(key__startswith="movement:").count() == 4  # 2 opening + 2 sale lines
    second, _ = await sales.checkout(shop.cashier, basket(shop, key="k2"))
    assert second.number == "LHR-C1-000002"
    assert await check_ledger() == ([], [])


async def test_split_tender_card_and_cash_with_change(shop):
    payments = [
        sales.Payment(TenderType.CARD, Decimal("3000.00"), "4242"),
        sales.Payment(TenderType.CASH, Decimal("2000.00")),
    ]
    sale, _ = await sales.checkout(shop.cashier, basket(shop, payments=payments))
    assert (sale.change_due, sale.cash_taken) == (Decimal("240.00"), Decimal("1760.00"))


async def test_two_counters_selling_the_last_unit(shop):
    counter2, _ = await create_counter(SYSTEM, NewCounter(shop.branch.id, "C2", "Counter 2"))
    cashier2 = await staff_actor(Role.CASHIER, [shop.branch.id], pin="2684", email="c2@t.pk")
    await open_register(cashier2, counter2.id, Decimal("0"), "open-2")
    await stock(shop.branch.id, shop.kurta.id, -9)  # one unit left
    one = [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 1)]
    cash = [sales.Payment(TenderType.CASH, Decimal("1180.00"))]
    a = basket(shop, key="a", lines=one, payments=cash)
    b = sales.Checkout(counter2.id, one, cash, "b")
    results = await asyncio.gather(sales.checkout(shop.cashier, a), sales.checkout(cashier2, b), return_exceptions=True)
    won = [r for r in results if isinstance(r, tuple)]
    lost = [r for r in results if isinstance(r, OperationError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].problems[0].code is ErrorCode.INSUFFICIENT_STOCK
    assert await on_hand(shop, shop.kurta) == 0
    assert await Sale.all().count() == 1


async def test_same_key_retried_concurrently_is_one_sale(shop):
    results = await asyncio.gather(*(sales.checkout(shop.cashier, basket(shop, key="retry")) for _ in range(6)))
    assert len({sale.id for sale, _ in results}) == 1
    assert sum(not replayed for _, replayed in results) == 1
    assert await on_hand(shop, shop.kurta) == 8
    with pytest.raises(OperationError) as caught:
        await sales.checkout(shop.cashier, basket(shop, key="retry", order_discount=Decimal("1")))
    assert caught.value.problems[0].code is ErrorCode.IDEMPOTENCY_KEY_REUSED


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"lines": "unknown-barcode"}, ErrorCode.NOT_FOUND, "lines.0.variant.barcode"),
        ({"lines": "zero"}, ErrorCode.INVALID, "lines.0.quantity"),
        ({"lines": "negative"}, ErrorCode.INVALID, "lines.0.quantity"),
        ({"lines": "too-many"}, ErrorCode.INSUFFICIENT_STOCK, "lines.0.quantity"),
        ({"payments": "short"}, ErrorCode.INVALID, "tenders"),
        ({"lines": "override"}, ErrorCode.APPROVAL_REQUIRED, "managerPin"),
        ({"lines": "big-discount"}, ErrorCode.APPROVAL_REQUIRED, "managerPin"),
        ({"manager_pin": "1357", "lines": "override"}, ErrorCode.APPROVAL_REQUIRED, "managerPin"),  # a cashier's PIN
        ({"lines": "empty"}, ErrorCode.INVALID, "lines"),
    ],
)
async def test_bad_checkouts_get_typed_errors_and_write_nothing(shop, change, code, field):
    lines = {
        "unknown-barcode": [sales.CheckoutLine(VariantRef(barcode="0000000000000"), 1)],
        "zero": [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 0)],
        "negative": [sales.CheckoutLine(VariantRef(id=shop.kurta.id), -2)],
        "too-many": [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 11)],
        "override": [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 1, price_override=Decimal("500.00"))],
        "big-discount": [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 1, discount=Decimal("500.00"))],
        "empty": [],
    }
    kw = {}
    if "lines" in change:
        kw["lines"] = lines[change["lines"]]
    if change.get("lines") == "too-many":
        kw["payments"] = [sales.Payment(TenderType.CASH, Decimal("20000.00"))]
    if change.get("payments") == "short":
        kw["payments"] = [sales.Payment(TenderType.CASH, Decimal("100.00"))]
    if "manager_pin" in change:
        kw["manager_pin"] = change["manager_pin"]
    request = basket(shop, **kw)
    if change.get("lines") == "empty":
        request = sales.Checkout(shop.counter.id, [], request.payments, "k1")
    with pytest.raises(OperationError) as caught:
        await sales.checkout(shop.cashier, request)
    assert (caught.value.problems[0].code, caught.value.problems[0].field) == (code, field), caught.value.problems
    assert await Sale.all().count() == 0
    assert await on_hand(shop, shop.kurta) == 10


async def test_manager_pin_approves_a_price_override(shop):
    line = [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 1, price_override=Decimal("1000.00"))]
    sale, _ = await sales.checkout(
        shop.cashier,
        basket(shop, lines=line, payments=[sales.Payment(TenderType.CASH, Decimal("1000.00"))], manager_pin="902715"),
    )
    assert sale.approved_by_id == shop.manager.staff_id and sale.total == Decimal("1000.00")


async def test_no_sale_without_an_open_register_or_outside_your_branch(shop, db):
    other = await make_branch("KHI")
    counter, _ = await create_counter(SYSTEM, NewCounter(other.id, "C1", "Counter 1"))
    with pytest.raises(AccessDenied):
        await sales.checkout(shop.cashier, sales.Checkout(counter.id, basket(shop).lines, basket(shop).payments, "x"))
    karachi_cashier = await staff_actor(Role.CASHIER, [other.id], pin="5820", email="khi@t.pk")
    with pytest.raises(OperationError) as caught:
        await sales.checkout(
            karachi_cashier, sales.Checkout(counter.id, basket(shop).lines, basket(shop).payments, "y")
        )
    assert caught.value.problems[0].code is ErrorCode.REGISTER_CLOSED


async def test_receipt_text_carries_the_sale(shop):
    from operations.counter.receipts import render_thermal

    sale, _ = await sales.checkout(shop.cashier, basket(shop))
    text = render_thermal(await sales.receipt_for(sale), 58)
    assert "LHR-C1-000001" in text and "4,760.00" in text and "Change" in text
    assert all(len(line) <= 32 for line in text.splitlines())
