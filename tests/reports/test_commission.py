"""Salesperson commission: the most specific rate in effect when sold, earned on what was paid, less refunds."""

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from models.catalog import Product
from models.reports import CommissionRate
from models.sales import SaleLine
from models.staff import AuditEntry, Role
from operations.kernel import SYSTEM, AccessDenied, OperationError
from operations.reports.commission import NewRate, commission_report, set_commission_rate
from tests.operations.conftest import staff_actor
from tests.reports.conftest import give_back, karachi_today, sell

D = Decimal


def pct(amount: Decimal, percent: str) -> Decimal:
    return (amount * D(percent) / 100).quantize(D("0.01"))


async def test_commission_after_a_partial_refund_and_a_later_rate_change(world):
    kurta, shawl = world.variants[:2]
    await Product.filter(id=kurta.product_id).update(product_type="Kurta")
    ali, sara = world.salespeople[:2]
    yesterday = datetime.now(UTC) - timedelta(days=1)
    await set_commission_rate(SYSTEM, NewRate(D("2.00"), staff_id=ali, effective_from=yesterday), "r1")
    await set_commission_rate(SYSTEM, NewRate(D("5.00"), product_type="Kurta", effective_from=yesterday), "r2")
    await set_commission_rate(SYSTEM, NewRate(D("3.00"), ali, "Kurta", effective_from=yesterday), "r3")
    _, again = await set_commission_rate(SYSTEM, NewRate(D("3.00"), ali, "Kurta", yesterday), "r3")
    assert again and await CommissionRate.all().count() == 3
    assert await AuditEntry.filter(action="commission.rate_set").count() == 3

    sold = await sell(world, 0, [(kurta, 2), (shawl, 1)], key="a", salesperson=ali)  # every line: Kurta, 3%
    other = await sell(world, 1, [(kurta, 1)], key="b", salesperson=sara)  # the type's rate: 5%
    await sell(world, 0, [(kurta, 1)], key="c")  # nobody's sale
    await give_back(world, 0, sold, [(1, 1)], key="ret")  # one kurta of two back
    [kurta_line] = await SaleLine.filter(sale_id=sold.id, line_no=1)
    refunded = (kurta_line.total / 2).quantize(D("0.01"))
    # A rate set now applies from now on: the sales above keep the rate they were sold at.
    await set_commission_rate(SYSTEM, NewRate(D("10.00"), ali, "Kurta"), "r4")

    day = karachi_today()
    board = await commission_report(SYSTEM, day, day)
    assert [(r.rank, r.salesperson_id) for r in board] == [(1, ali), (2, sara)]
    lines = await SaleLine.filter(sale_id=sold.id).order_by("line_no")
    earned = sum((pct(line.total, "3") for line in lines), D("0.00"))
    assert board[0].sales == sold.total and board[0].refunds == refunded
    assert board[0].commission == earned - pct(refunded, "3")
    assert (board[1].sales, board[1].commission) == (other.total, pct(other.total, "5"))


async def test_who_may_set_a_rate(world):
    khi, lhr = world.branches
    ali = world.salespeople[0]  # works at KHI
    manager = await staff_actor(Role.BRANCH_MANAGER, [lhr.id], email="lhr-manager@t.pk")
    with pytest.raises(AccessDenied) as refused:
        await set_commission_rate(manager, NewRate(D("2.00"), staff_id=ali), "m1")
    assert refused.value.code == "FORBIDDEN"
    with pytest.raises(AccessDenied) as refused:  # a type's rate is for everyone: owners and admins only
        await set_commission_rate(manager, NewRate(D("2.00"), product_type="Kurta"), "m2")
    assert refused.value.code == "FORBIDDEN"
    own = await staff_actor(Role.BRANCH_MANAGER, [khi.id], email="khi-manager@t.pk")
    rate, _ = await set_commission_rate(own, NewRate(D("2.50"), staff_id=ali), "m3")
    assert rate.set_by.startswith("staff:")
    with pytest.raises(OperationError) as bad:
        await set_commission_rate(own, NewRate(D("120"), staff_id=ali), "m4")
    assert bad.value.problems[0].code == "INVALID"


async def test_racing_callers_with_one_key_set_one_rate(world):
    ali = world.salespeople[0]
    same = await asyncio.gather(
        *(set_commission_rate(SYSTEM, NewRate(D("4.00"), staff_id=ali), "race") for _ in range(4))
    )
    assert len({rate.id for rate, _ in same}) == 1 and sum(not replayed for _, replayed in same) == 1
    await asyncio.gather(*(set_commission_rate(SYSTEM, NewRate(D("4.00"), staff_id=ali), f"k{i}") for i in range(3)))
    assert await CommissionRate.filter(staff_id=ali).count() == 4
