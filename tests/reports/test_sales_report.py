"""The sales report against what the counter wrote: receipts, Z reports and the ledger agree with it."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from models.sales import Restock, ReturnLine, Sale, SaleReturn, SaleStatus, TenderType
from models.stock import StockMovement
from operations.counter import close_register, register_report
from operations.kernel import SYSTEM, AccessDenied, OperationError
from operations.reports import SalesFilter, SalesGroup, day_close, returns_report, sales_report
from tests.reports.conftest import KARACHI, karachi_today, seeded_day, sell

D = Decimal
SOLD = (SaleStatus.PLACED, SaleStatus.UPDATED, SaleStatus.REFUNDED)


async def report(groups=(), branch_ids=None, actor=SYSTEM, first=None, last=None):
    day = karachi_today()
    return await sales_report(actor, SalesFilter(first or day, last or day, branch_ids, tuple(groups)))


@pytest.mark.parametrize("seed", [3, 17, 2026])
async def test_a_random_day_adds_up_to_the_receipts_the_z_reports_and_the_ledger(world, seed):
    done = await seeded_day(world, seed)
    sales = await Sale.filter(status__in=SOLD)
    returns_ = await SaleReturn.all()

    [totals] = await report()
    assert totals.total == sum((s.total for s in sales), D("0.00"))
    assert totals.sales_count == len(sales)
    assert totals.refunds == sum((r.total for r in returns_), D("0.00"))
    assert totals.returns_count == len(returns_)
    assert totals.gross - totals.discounts == totals.net + totals.tax or not sales[0].tax_inclusive
    assert totals.total == totals.net + totals.tax
    assert all(v.id not in {s.id for s in sales} for v in done["voided"])

    # By branch and counter: each register's Z report shows the same sales and refunds.
    by_counter = {
        (r.key[SalesGroup.BRANCH], r.key[SalesGroup.COUNTER]): r
        for r in await report([SalesGroup.BRANCH, SalesGroup.COUNTER])
    }
    for counter, branch, cashier, register in world.counters:
        await close_register(cashier, register.id, counted_total=D("0"), idempotency_key=f"close-{register.id}")
        z = await register_report(SYSTEM, register.id)
        assert z.final
        row = by_counter.get((branch.id, counter.id))
        assert (row.total if row else D("0.00")) == z.sales_total
        assert (row.refunds if row else D("0.00")) == z.refunded_total
        assert (row.sales_count if row else 0) == z.sales_count

    # The day close: the same registers' Z reports side by side, and the returns report's refunds.
    day = karachi_today()
    closed = await day_close(SYSTEM, day, day)
    assert len(closed.registers) == len(world.counters) and all(z.final for z in closed.registers)
    assert (closed.sales_total, closed.refunded_total) == (totals.total, totals.refunds)
    back = await returns_report(SYSTEM, day, day)
    assert sum(r.refunds for r in back) == totals.refunds
    assert sum(r.units for r in back) == totals.returned_units
    assert sum(r.units for r in back if r.exchange) == sum(
        line.quantity for line in await ReturnLine.filter(sale_return__exchange_sale_id__not_isnull=True)
    )

    # By tender: what the tenders took adds up to what was charged; refunds to what was paid back.
    tenders = await report([SalesGroup.TENDER_TYPE])
    assert sum((t.total for t in tenders), D("0.00")) == totals.total
    assert sum((t.refunds for t in tenders), D("0.00")) == totals.refunds

    # The ledger: each branch's shelf lost what the report says was sold, less what came back to it.
    by_branch = {r.key[SalesGroup.BRANCH]: r for r in await report([SalesGroup.BRANCH])}
    for branch in world.branches:
        moved = sum(
            m.delta
            for m in await StockMovement.filter(branch_id=branch.id, bucket="on_hand").exclude(reason="opening_stock")
        )
        restocked = sum(
            line.quantity for line in await ReturnLine.filter(sale_return__branch_id=branch.id, restock=Restock.RESTOCK)
        )
        row = by_branch.get(branch.id)
        assert moved == -(row.units if row else 0) + restocked

    # Product lines add up to the totals, and so do days.
    by_variant = await report([SalesGroup.VARIANT])
    for figure in ("total", "net", "tax", "units", "refunds", "returned_units", "cost_of_goods"):
        assert sum(getattr(r, figure) for r in by_variant) == getattr(totals, figure), figure
    [today] = await report([SalesGroup.DAY])
    assert today.key[SalesGroup.DAY] == karachi_today() and today.total == totals.total


async def test_cost_of_goods_and_margin_come_from_the_cost_when_sold(world):
    kurta, _, _, uncosted = world.variants
    sale = await sell(world, 0, [(kurta, 2), (uncosted, 1)], key="s1")
    [row] = await report()
    assert row.cost_of_goods == D("1400.00") and row.uncosted_units == 1
    assert row.margin == row.net - row.cost_of_goods
    assert row.average_basket == sale.total
    by_type = await report([SalesGroup.PRODUCT_TYPE, SalesGroup.PRODUCT])
    assert [r.total for r in by_type] == [sale.total]


async def test_the_day_ends_at_midnight_in_karachi_not_utc(world):
    counter, _, cashier, _ = world.counters[0]
    from operations.counter import CheckoutLine, OfflineSale, Payment, sync_offline_sales
    from operations.directory import VariantRef

    today = karachi_today()
    midnight = datetime.combine(today, datetime.min.time(), KARACHI).astimezone(UTC)  # 19:00 UTC the day before
    lines = [CheckoutLine(VariantRef(id=world.variants[2].id), 1)]
    pay = [Payment(TenderType.CASH, D("450.00"))]
    await sync_offline_sales(
        cashier,
        counter.id,
        [
            OfflineSale("late", midnight - timedelta(minutes=1), lines, pay),
            OfflineSale("early", midnight + timedelta(minutes=1), lines, pay),
        ],
    )
    assert (midnight - timedelta(minutes=1)).date() == (midnight + timedelta(minutes=1)).date()  # one UTC day
    [today_row] = await report([SalesGroup.DAY])
    assert today_row.key[SalesGroup.DAY] == today and today_row.sales_count == 1
    days = await report([SalesGroup.DAY], first=today - timedelta(days=1), last=today)
    assert [(r.key[SalesGroup.DAY], r.sales_count) for r in days] == [(today - timedelta(days=1), 1), (today, 1)]


async def test_a_cashier_and_another_branchs_manager_are_refused(world):
    from models.staff import Role
    from tests.operations.conftest import staff_actor

    khi, lhr = world.branches
    cashier = world.counters[0][2]
    with pytest.raises(AccessDenied) as refused:
        await report(actor=cashier)
    assert refused.value.code == "FORBIDDEN"
    manager = await staff_actor(Role.BRANCH_MANAGER, [lhr.id], email="other@t.pk")
    with pytest.raises(AccessDenied) as refused:
        await report(branch_ids=[khi.id], actor=manager)
    assert refused.value.code == "FORBIDDEN"
    await sell(world, 0, [(world.variants[0], 1)], key="k1")
    [own] = await report(actor=manager)  # every branch it may see: only its own, which sold nothing
    assert own.sales_count == 0


async def test_tender_type_does_not_combine_with_products(world):
    with pytest.raises(OperationError) as refused:
        await report([SalesGroup.TENDER_TYPE, SalesGroup.VARIANT])
    assert refused.value.problems[0].code == "INVALID"
