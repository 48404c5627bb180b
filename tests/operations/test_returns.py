"""Returns and exchanges: exact pro-rated refunds, never more back than sold, one transaction each."""

import asyncio
from dataclasses import replace
from decimal import Decimal

import pytest
from tortoise import Tortoise

from models.sales import Restock, ReturnLine, Sale, SaleLine, SaleReturn, SaleStatus, Tender, TenderType
from models.staff import AuditEntry, Role
from models.stock import StockLevel, StockPosting
from operations.counter import checkouts as sales
from operations.counter import exchanges, returns
from operations.counter.registers import drawer_cash, open_register
from operations.directory.branches import NewCounter, create_counter
from operations.directory.catalog import VariantRef
from operations.kernel import settings
from operations.kernel.access import SYSTEM, AccessDenied
from operations.kernel.errors import ErrorCode, OperationError
from operations.stock.adjustments import check_ledger
from tests.conftest import settings_changed
from tests.factories import make_branch
from tests.operations.conftest import staff_actor

D = Decimal


async def sell(shop, lines, cash: str, key="sale-1", order_discount=D(0)):
    request = sales.Checkout(
        shop.counter.id, lines, [sales.Payment(TenderType.CASH, D(cash))], key, order_discount=order_discount
    )
    sale, _ = await sales.checkout(shop.cashier, request)
    return sale


async def discounted_sale(shop):
    """3 kurtas at 1180 + 2 shawls at 2500 less 100 on the line, 300 off the order: 8140.00.

    By hand (tax-inclusive 18%): the order discount splits 125.83 / 174.17 (largest remainder), so
    kurta line = 3414.17 (net 2893.36, tax 520.81), shawl line = 4725.83 (net 4004.94, tax 720.89).
    """
    lines = [
        sales.CheckoutLine(VariantRef(id=shop.kurta.id), 3),
        sales.CheckoutLine(VariantRef(id=shop.shawl.id), 2, discount=D("100.00")),
    ]
    return await sell(shop, lines, "8140.00", order_discount=D("300.00"))


def back(sale, counter, lines, refunds=(), key="r1", **kw) -> returns.ReturnRequest:
    return returns.ReturnRequest(
        sale_id=kw.pop("sale_id", sale.id),
        counter_id=counter.id,
        lines=[returns.ReturnItem(*line) for line in lines],
        refunds=[sales.Payment(TenderType(t), D(a)) for t, a in refunds],
        idempotency_key=key,
        **kw,
    )


async def level(branch, variant) -> StockLevel | None:
    return await StockLevel.get_or_none(branch_id=branch.id, variant_id=variant.id)


async def nothing_written(sale, before: dict[int, int]):
    assert await SaleReturn.all().count() == 0
    assert await ReturnLine.all().count() == 0
    assert await Tender.filter(sale_return_id__not_isnull=True).count() == 0
    assert {line.id: line.returned_quantity for line in await SaleLine.filter(sale_id=sale.id)} == before
    assert await StockPosting.filter(idempotency_key__startswith="return:").count() == 0
    assert await check_ledger() == ([], [])


async def test_partial_returns_refund_exactly_the_pro_rated_amounts_and_all_of_them_the_total(shop):
    sale = await discounted_sale(shop)
    lines = {line.line_no: line for line in await SaleLine.filter(sale_id=sale.id)}
    assert (lines[1].net, lines[1].tax, lines[1].total) == (D("2893.36"), D("520.81"), D("3414.17"))
    assert (lines[2].net, lines[2].tax, lines[2].total) == (D("4004.94"), D("720.89"), D("4725.83"))

    # 1 kurta: net round(2893.36/3) = 964.45, tax round(520.81/3) = 173.60; 1 shawl: 2002.47 + 360.45 (half up).
    first, replayed = await returns.create_return(
        shop.cashier, back(sale, shop.counter, [(1, 1), (2, 1)], [("cash", "3500.97")], key="r1")
    )
    assert not replayed and first.number == "R-LHR-C1-000001"
    assert (first.net, first.tax, first.total, first.cash_paid_out) == (
        D("2966.92"),
        D("534.05"),
        D("3500.97"),
        D("3500.97"),
    )
    got = [(r.quantity, r.discount, r.net, r.tax, r.total) for r in await ReturnLine.filter(sale_return_id=first.id)]
    assert got == [
        (1, D("41.94"), D("964.45"), D("173.60"), D("1138.05")),
        (1, D("137.09"), D("2002.47"), D("360.45"), D("2362.92")),
    ]
    # The second kurta: round(2·v/3) − round(v/3) = 964.46 + 173.61 — a paisa more than the first.
    second, _ = await returns.create_return(
        shop.cashier, back(sale, shop.counter, [(1, 1)], [("card", "1138.07")], key="r2")
    )
    assert second.total == D("1138.07")
    mid = await Sale.get(id=sale.id)
    assert (mid.status, mid.refunded_total) == (SaleStatus.UPDATED, D("4639.04"))
    # The rest: whatever is left of each line, exactly.
    last, _ = await returns.create_return(
        shop.cashier, back(sale, shop.counter, [(1, 1), (2, 1)], [("bank", "1000.00"), ("cash", "2500.96")], key="r3")
    )
    assert last.total == D("3500.96")
    done = await Sale.get(id=sale.id)
    assert done.status is SaleStatus.REFUNDED
    assert done.refunded_total == sale.total == first.total + second.total + last.total == D("8140.00")
    all_lines = await ReturnLine.all()
    assert sum(r.net for r in all_lines) == D("6898.30") and sum(r.tax for r in all_lines) == D("1241.70")
    assert sum(r.discount for r in all_lines) == D("400.00")
    assert [line.returned_quantity for line in await SaleLine.filter(sale_id=sale.id)] == [3, 2]
    assert (await level(shop.branch, shop.kurta)).on_hand == 10 and (await level(shop.branch, shop.shawl)).on_hand == 10
    # Cash refunds come out of the drawer; card and bank refunds do not. Every tender is recorded.
    cash = await drawer_cash(Tortoise.get_connection("default"), shop.register)
    assert cash.cash_refunds == D("6001.93") and cash.expected == D("5000.00") + D("8140.00") - D("6001.93")
    assert await Tender.filter(sale_return_id__not_isnull=True).count() == 4
    with pytest.raises(OperationError) as caught:
        await returns.create_return(shop.cashier, back(sale, shop.counter, [(1, 1)], [("cash", "1")], key="r4"))
    assert caught.value.problems[0].code is ErrorCode.WRONG_STATE
    assert await AuditEntry.filter(action="sale.returned").count() == 3
    assert await check_ledger() == ([], [])


async def test_a_return_at_another_branch_restocks_there(shop):
    sale = await sell(shop, [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 2)], "2360.00")
    karachi = await make_branch("KHI")
    counter, _ = await create_counter(SYSTEM, NewCounter(karachi.id, "C1", "Counter 1"))
    khi_cashier = await staff_actor(Role.CASHIER, [karachi.id], pin="5820", email="khi@t.pk")
    # No register open in Karachi: cash cannot be paid out, a card refund can.
    with pytest.raises(OperationError) as caught:
        await returns.create_return(khi_cashier, back(sale, counter, [(1, 1)], [("cash", "1180.00")]))
    assert caught.value.problems[0].code is ErrorCode.REGISTER_CLOSED
    # A Lahore cashier may not work a Karachi counter.
    with pytest.raises(AccessDenied):
        await returns.create_return(shop.cashier, back(sale, counter, [(1, 1)], [("card", "1180.00")]))
    doc, _ = await returns.create_return(khi_cashier, back(sale, counter, [(1, 1)], [("card", "1180.00")]))
    assert (doc.number, doc.branch_id, doc.register_id) == ("R-KHI-C1-000001", karachi.id, None)
    assert (await level(karachi, shop.kurta)).on_hand == 1
    assert (await level(shop.branch, shop.kurta)).on_hand == 8
    # By sale number too, with cash once Karachi's register is open.
    register = await open_register(khi_cashier, counter.id, D("0"), "open-khi")
    by_number = back(sale, counter, [(1, 1)], [("cash", "1180.00")], key="r2")
    doc2, _ = await returns.create_return(khi_cashier, replace(by_number, sale_id=None, sale_number=sale.number))
    assert (doc2.register_id, doc2.cash_paid_out) == (register.id, D("1180.00"))
    assert (await level(karachi, shop.kurta)).on_hand == 2
    assert await check_ledger() == ([], [])


async def test_damaged_goes_to_the_damaged_bucket_and_no_restock_moves_nothing(shop):
    sale = await sell(shop, [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 3)], "3540.00")
    doc, _ = await returns.create_return(
        shop.cashier,
        back(sale, shop.counter, [(1, 1, Restock.DAMAGED), (1, 1, Restock.NO_RESTOCK)], [("cash", "2360.00")]),
    )
    kurta = await level(shop.branch, shop.kurta)
    assert (kurta.on_hand, kurta.damaged) == (7, 1)
    assert [r.restock for r in await ReturnLine.filter(sale_return_id=doc.id)] == [Restock.DAMAGED, Restock.NO_RESTOCK]
    assert (await SaleLine.get(sale_id=sale.id)).returned_quantity == 2
    only_no_restock, _ = await returns.create_return(
        shop.cashier, back(sale, shop.counter, [(1, 1, Restock.NO_RESTOCK)], [("cash", "1180.00")], key="r2")
    )
    assert not await StockPosting.filter(idempotency_key=f"return:{only_no_restock.id}").exists()
    assert (await Sale.get(id=sale.id)).status is SaleStatus.REFUNDED
    assert await check_ledger() == ([], [])


@pytest.mark.parametrize(
    ("case", "code", "field"),
    [
        ("more-than-sold", ErrorCode.INVALID, "lines.0.quantity"),
        ("more-than-sold-in-two-items", ErrorCode.INVALID, "lines.1.quantity"),
        ("unknown-line", ErrorCode.NOT_FOUND, "lines.0.lineNo"),
        ("zero", ErrorCode.INVALID, "lines.0.quantity"),
        ("negative", ErrorCode.INVALID, "lines.0.quantity"),
        ("no-lines", ErrorCode.INVALID, "lines"),
        ("refunds-short", ErrorCode.INVALID, "refunds"),
        ("refunds-over", ErrorCode.INVALID, "refunds"),
        ("bad-amount", ErrorCode.INVALID, "refunds.0.amount"),
        ("big-refund-no-pin", ErrorCode.APPROVAL_REQUIRED, "managerPin"),
        ("big-refund-cashier-pin", ErrorCode.APPROVAL_REQUIRED, "managerPin"),
        ("voided-sale", ErrorCode.WRONG_STATE, "sale"),
        ("no-such-sale", ErrorCode.NOT_FOUND, "sale.id"),
    ],
)
async def test_bad_returns_get_typed_errors_and_write_nothing(shop, case, code, field, change_settings):
    sale = await discounted_sale(shop)
    before = {line.id: line.returned_quantity for line in await SaleLine.filter(sale_id=sale.id)}
    lines, refunds, kw = [(1, 1)], [("cash", "1138.05")], {}
    match case:
        case "more-than-sold":
            lines, refunds = [(1, 4)], [("cash", "4552.20")]
        case "more-than-sold-in-two-items":
            lines, refunds = [(1, 2), (1, 2, Restock.DAMAGED)], [("cash", "4552.20")]
        case "unknown-line":
            lines = [(7, 1)]
        case "zero":
            lines = [(1, 0)]
        case "negative":
            lines = [(1, -1)]
        case "no-lines":
            lines = []
        case "refunds-short":
            refunds = [("cash", "1000.00"), ("card", "138.04")]
        case "refunds-over":
            refunds = [("cash", "1138.06")]
        case "bad-amount":
            refunds = [("cash", "-1138.05")]
        case "big-refund-no-pin" | "big-refund-cashier-pin":
            change_settings(policy={"refund_approval_amount": D("1000")})
            kw["manager_pin"] = "1357" if case.endswith("cashier-pin") else None
        case "voided-sale":
            await Sale.filter(id=sale.id).update(status=SaleStatus.VOIDED)
        case "no-such-sale":
            kw["sale_id"] = 999999
    with pytest.raises(OperationError) as caught:
        await returns.create_return(shop.cashier, back(sale, shop.counter, lines, refunds, **kw))
    assert (caught.value.problems[0].code, caught.value.problems[0].field) == (code, field), caught.value.problems
    await nothing_written(sale, before)
    assert (await level(shop.branch, shop.kurta)).on_hand == 7


async def test_a_large_refund_with_a_managers_pin(shop):
    sale = await discounted_sale(shop)
    with settings_changed(policy={"refund_approval_amount": D("1000")}):
        doc, _ = await returns.create_return(
            shop.cashier, back(sale, shop.counter, [(1, 1)], [("cash", "1138.05")], manager_pin="902715")
        )
    assert doc.approved_by_id == shop.manager.staff_id
    entry = await AuditEntry.get(action="sale.returned")
    assert (
        entry.approved_by_staff_id == shop.manager.staff_id
        and settings.current().policy.refund_approval_amount == D("20000")
    )


async def test_two_returns_of_the_last_unit_at_once_one_wins(shop):
    sale = await discounted_sale(shop)
    await returns.create_return(shop.cashier, back(sale, shop.counter, [(1, 2)], [("cash", "2276.12")], key="first"))
    racing = [back(sale, shop.counter, [(1, 1)], [("card", "1138.05")], key=f"race-{i}") for i in range(2)]
    results = await asyncio.gather(*(returns.create_return(shop.cashier, r) for r in racing), return_exceptions=True)
    won = [r for r in results if isinstance(r, tuple)]
    lost = [r for r in results if isinstance(r, OperationError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert (lost[0].problems[0].code, lost[0].problems[0].field) == (ErrorCode.INVALID, "lines.0.quantity")
    assert "only 0 left" in lost[0].problems[0].message
    assert (await SaleLine.get(sale_id=sale.id, line_no=1)).returned_quantity == 3
    assert await SaleReturn.all().count() == 2
    assert (await level(shop.branch, shop.kurta)).on_hand == 10
    assert await check_ledger() == ([], [])


async def test_sales_and_returns_racing_on_one_variant_keep_the_ledger_consistent(shop):
    sale = await sell(shop, [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 3)], "3540.00")  # 7 left
    counter2, _ = await create_counter(SYSTEM, NewCounter(shop.branch.id, "C2", "Counter 2"))
    one = [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 2)]
    jobs = [
        returns.create_return(shop.cashier, back(sale, counter2, [(1, 1)], [("card", "1180.00")], key=f"ret-{i}"))
        for i in range(3)
    ] + [
        sales.checkout(
            shop.cashier,
            sales.Checkout(shop.counter.id, one, [sales.Payment(TenderType.CASH, D("2360.00"))], f"race-sale-{i}"),
        )
        for i in range(5)
    ]
    results = await asyncio.gather(*jobs, return_exceptions=True)
    assert all(isinstance(r, tuple) for r in results[:3]), results[:3]
    sold = sum(isinstance(r, tuple) for r in results[3:])
    failed = [r for r in results[3:] if not isinstance(r, tuple)]
    assert all(isinstance(f, OperationError) and f.problems[0].code is ErrorCode.INSUFFICIENT_STOCK for f in failed), (
        failed
    )
    assert (await level(shop.branch, shop.kurta)).on_hand == 7 + 3 - 2 * sold >= 0
    assert await check_ledger() == ([], [])


async def test_the_same_key_twice_is_one_return(shop):
    sale = await discounted_sale(shop)
    request = back(sale, shop.counter, [(1, 1)], [("cash", "1138.05")], key="again")
    results = await asyncio.gather(*(returns.create_return(shop.cashier, request) for _ in range(5)))
    assert len({doc.id for doc, _ in results}) == 1
    assert sum(not replayed for _, replayed in results) == 1
    doc, replayed = await returns.create_return(shop.cashier, request)
    assert replayed and doc.id == results[0][0].id
    assert (await SaleLine.get(sale_id=sale.id, line_no=1)).returned_quantity == 1
    assert (await level(shop.branch, shop.kurta)).on_hand == 8
    with pytest.raises(OperationError) as caught:
        await returns.create_return(
            shop.cashier, back(sale, shop.counter, [(1, 2)], [("cash", "2276.12")], key="again")
        )
    assert caught.value.problems[0].code is ErrorCode.IDEMPOTENCY_KEY_REUSED


def swap(sale, counter, back_lines, new_lines, key="x1", tenders=(), refunds=(), **kw) -> exchanges.ExchangeRequest:
    return exchanges.ExchangeRequest(
        sale_id=sale.id,
        counter_id=counter.id,
        return_lines=[returns.ReturnItem(*line) for line in back_lines],
        new_lines=new_lines,
        idempotency_key=key,
        tenders=[sales.Payment(TenderType(t), D(a)) for t, a in tenders],
        refunds=[sales.Payment(TenderType(t), D(a)) for t, a in refunds],
        **kw,
    )


async def test_exchange_where_the_customer_pays_the_difference(shop):
    sale = await sell(shop, [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 2)], "2360.00")
    shawl = [sales.CheckoutLine(VariantRef(id=shop.shawl.id), 1)]
    # 1 kurta back (1180.00) for a shawl (2500.00): 1320.00 to pay, 1500 cash given, 180 change.
    doc, replayed = await exchanges.create_exchange(
        shop.cashier, swap(sale, shop.counter, [(1, 1)], shawl, tenders=[("cash", "1500.00")])
    )
    new = await Sale.get(id=doc.exchange_sale_id)
    assert not replayed and doc.total == D("1180.00") and doc.cash_paid_out == 0
    assert (new.total, new.paid, new.change_due, new.cash_taken) == (
        D("2500.00"),
        D("2680.00"),
        D("180.00"),
        D("1320.00"),
    )
    assert (new.number, doc.number) == ("LHR-C1-000002", "R-LHR-C1-000001")
    assert new.customer_name == sale.customer_name and new.status is SaleStatus.PLACED
    assert [t.amount for t in await Tender.filter(sale_id=new.id)] == [D("1500.00")]
    original = await Sale.get(id=sale.id)
    assert (original.status, original.refunded_total) == (SaleStatus.UPDATED, D("1180.00"))
    assert (await level(shop.branch, shop.kurta)).on_hand == 9
    assert (await level(shop.branch, shop.shawl)).on_hand == 9
    assert await StockPosting.filter(idempotency_key=f"exchange:{doc.id}").count() == 1
    cash = await drawer_cash(Tortoise.get_connection("default"), shop.register)
    assert cash.expected == D("5000.00") + D("2360.00") + D("1320.00")
    again, replayed = await exchanges.create_exchange(
        shop.cashier, swap(sale, shop.counter, [(1, 1)], shawl, tenders=[("cash", "1500.00")])
    )
    assert replayed and again.id == doc.id and await Sale.all().count() == 2
    assert await check_ledger() == ([], [])


async def test_exchange_where_the_customer_gets_money_back(shop):
    sale = await sell(shop, [sales.CheckoutLine(VariantRef(id=shop.shawl.id), 1)], "2500.00")
    kurta = [sales.CheckoutLine(VariantRef(sku=shop.kurta.sku), 1)]
    with pytest.raises(OperationError) as caught:  # the refund must cover the difference exactly
        await exchanges.create_exchange(
            shop.cashier, swap(sale, shop.counter, [(1, 1)], kurta, refunds=[("cash", "1000")])
        )
    assert (caught.value.problems[0].code, caught.value.problems[0].field) == (ErrorCode.INVALID, "refunds")
    doc, _ = await exchanges.create_exchange(
        shop.cashier, swap(sale, shop.counter, [(1, 1)], kurta, refunds=[("cash", "1320.00")])
    )
    new = await Sale.get(id=doc.exchange_sale_id)
    assert (doc.total, doc.cash_paid_out) == (D("2500.00"), D("1320.00"))
    assert (new.total, new.paid, new.change_due, new.cash_taken) == (D("1180.00"), D("1180.00"), 0, 0)
    assert (await Sale.get(id=sale.id)).status is SaleStatus.REFUNDED
    assert (await level(shop.branch, shop.kurta)).on_hand == 9
    assert (await level(shop.branch, shop.shawl)).on_hand == 10
    cash = await drawer_cash(Tortoise.get_connection("default"), shop.register)
    assert cash.expected == D("5000.00") + D("2500.00") - D("1320.00")
    assert await check_ledger() == ([], [])


async def test_an_even_exchange_takes_no_tenders(shop):
    sale = await sell(shop, [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 1)], "1180.00")
    same = [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 1)]
    with pytest.raises(OperationError) as caught:
        await exchanges.create_exchange(shop.cashier, swap(sale, shop.counter, [(1, 1)], same, tenders=[("cash", "1")]))
    assert [(p.code, p.field) for p in caught.value.problems] == [(ErrorCode.INVALID, "tenders")]
    doc, _ = await exchanges.create_exchange(shop.cashier, swap(sale, shop.counter, [(1, 1)], same))
    assert (doc.total, (await Sale.get(id=doc.exchange_sale_id)).total) == (D("1180.00"), D("1180.00"))
    assert (await level(shop.branch, shop.kurta)).on_hand == 9
    assert await check_ledger() == ([], [])


async def test_an_exchange_whose_new_line_is_out_of_stock_writes_nothing(shop):
    sale = await sell(shop, [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 2)], "2360.00")
    before = {line.id: line.returned_quantity for line in await SaleLine.filter(sale_id=sale.id)}
    too_many = [sales.CheckoutLine(VariantRef(id=shop.shawl.id), 11)]
    with pytest.raises(OperationError) as caught:
        await exchanges.create_exchange(
            shop.cashier, swap(sale, shop.counter, [(1, 1)], too_many, tenders=[("cash", "30000.00")])
        )
    assert (caught.value.problems[0].code, caught.value.problems[0].field) == (
        ErrorCode.INSUFFICIENT_STOCK,
        "newLines.0.quantity",
    )
    await nothing_written(sale, before)
    assert await Sale.all().count() == 1
    assert (await level(shop.branch, shop.kurta)).on_hand == 8
    assert (await level(shop.branch, shop.shawl)).on_hand == 10
    with pytest.raises(OperationError) as caught:  # and more back than sold, in an exchange
        await exchanges.create_exchange(
            shop.cashier,
            swap(sale, shop.counter, [(1, 3)], [sales.CheckoutLine(VariantRef(id=shop.shawl.id), 1)], key="x2"),
        )
    assert [(p.code, p.field) for p in caught.value.problems] == [(ErrorCode.INVALID, "returnLines.0.quantity")]
    await nothing_written(sale, before)
