"""Two counters spending the same wallet at once never overspend it (run on SQLite and PostgreSQL)."""

import asyncio
from decimal import Decimal

from models.loyalty import LoyaltyEntry
from models.sales import Sale
from models.staff import Role
from operations.counter import checkouts as sales
from operations.counter.registers import open_register
from operations.directory.branches import NewCounter, create_counter
from operations.directory.loyalty_rules import adjust_points
from operations.kernel.access import SYSTEM
from operations.kernel.errors import ErrorCode, OperationError
from tests.loyalty.conftest import cash, points, sale_of, wallet
from tests.operations.conftest import staff_actor


async def test_two_counters_redeeming_one_wallet_never_overspend_it(shop, customer):
    counter2, _ = await create_counter(SYSTEM, NewCounter(shop.branch.id, "C2", "Counter 2"))
    cashier2 = await staff_actor(Role.CASHIER, [shop.branch.id], pin="2684", email="c2@t.pk")
    await open_register(cashier2, counter2.id, Decimal("0"), "open-2")
    await adjust_points(shop.manager, customer.id, 300, "opening balance", "gift")  # covers one 180, not two
    a = sale_of(shop, "a", [points("180"), cash("1000")], customer_id=customer.id)
    b = sale_of(shop, "b", [points("180"), cash("1000")], customer_id=customer.id, counter_id=counter2.id)
    results = await asyncio.gather(sales.checkout(shop.cashier, a), sales.checkout(cashier2, b), return_exceptions=True)
    won = [r for r in results if isinstance(r, tuple)]
    lost = [r for r in results if isinstance(r, OperationError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].problems[0].code is ErrorCode.INSUFFICIENT_POINTS
    assert await Sale.all().count() == 1
    assert await wallet(customer) == (300 - 180 + 10, [("adjust", 300), ("redeem", -180), ("earn", 10)])


async def test_the_same_adjustment_sent_twice_at_once_is_posted_once(shop, customer):
    results = await asyncio.gather(
        *(adjust_points(shop.manager, customer.id, 40, "goodwill", "same") for _ in range(4))
    )
    assert len({entry.id for entry, _, _ in results}) == 1
    assert await LoyaltyEntry.all().count() == 1
    assert (await wallet(customer))[0] == 40
