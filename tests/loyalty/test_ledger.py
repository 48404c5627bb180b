"""The wallet's ledger: the balance is always the sum of its entries; expiry once per earn."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.customers import Customer
from models.loyalty import LoyaltyEntry
from operations.counter import checkouts as sales
from operations.counter.returns import ReturnItem, ReturnRequest, create_return
from operations.directory.loyalty_rules import adjust_points, expire_points
from operations.kernel.errors import OperationError
from tests.conftest import settings_changed
from tests.loyalty.conftest import cash, points, sale_of, wallet

step = st.one_of(
    st.tuples(st.just("adjust"), st.integers(-300, 300).filter(bool)),
    st.tuples(st.just("sale"), st.integers(0, 6)),  # points paid, in hundreds
    st.tuples(st.just("return"), st.integers(0, 5)),  # which earlier sale
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=8))
async def test_the_balance_is_the_sum_of_entries_after_anything(shop, steps):
    customer = await Customer.create(first_name="Random")
    placed = []
    for i, (kind, n) in enumerate(steps):
        try:
            if kind == "adjust":
                await adjust_points(shop.manager, customer.id, n, "test", f"{customer.id}-a{i}")
            elif kind == "sale":
                tenders = [points(str(n * 100)), cash(str(1180 - n * 100))] if n else [cash("1180")]
                sale, _ = await sales.checkout(
                    shop.cashier, sale_of(shop, f"{customer.id}-s{i}", tenders, customer_id=customer.id)
                )
                placed.append(sale)
            elif placed:
                sale = placed[n % len(placed)]
                money = Decimal("1180") - sum(
                    -e.points for e in await LoyaltyEntry.filter(sale_id=sale.id, kind="redeem")
                )
                refunds = [cash(str(money))] if money else []
                request = ReturnRequest(sale.id, shop.counter.id, [ReturnItem(1, 1)], refunds, f"{customer.id}-r{i}")
                await create_return(shop.cashier, request)
        except OperationError:
            pass  # refused (too few points, already returned): changed nothing
        balance, _ = await wallet(customer)  # proves balance == sum of entries, for every wallet
        assert balance >= 0


async def test_expiry_takes_unused_points_once_oldest_first(shop, customer):
    with settings_changed(loyalty={"expiry_days": 30}):
        await sales.checkout(shop.cashier, sale_of(shop, "s1", [cash("1180")], customer_id=customer.id))  # +11
    with settings_changed(loyalty={"expiry_days": 60}):  # as if earned a month later
        await sales.checkout(shop.cashier, sale_of(shop, "s2", [cash("2360")], kurtas=2, customer_id=customer.id))
    await adjust_points(shop.manager, customer.id, -5, "spent", "spend")  # used from the oldest earn
    earns = await LoyaltyEntry.filter(kind="earn").order_by("id")
    assert [e.points for e in earns] == [11, 23] and all(e.expires_at for e in earns)
    assert await expire_points(datetime.now(UTC)) == 0  # not yet
    # The first earn has run out: 6 of its 11 unused.
    first_due = earns[0].expires_at + timedelta(seconds=1)
    assert await expire_points(first_due) == 1
    assert await expire_points(first_due) == 0  # swept once
    assert await wallet(customer) == (23, [("earn", 11), ("earn", 23), ("adjust", -5), ("expire", -6)])
    # Both run out; the second earn is untouched by the spending: all 23 expire.
    assert await expire_points(earns[1].expires_at + timedelta(days=1)) == 1
    assert (await wallet(customer))[0] == 0
    assert await LoyaltyEntry.filter(kind="expire").count() == 2


async def test_no_expiry_unless_the_retailer_sets_it(shop, customer):
    await sales.checkout(shop.cashier, sale_of(shop, "s1", [cash("1180")], customer_id=customer.id))
    assert await expire_points(datetime.now(UTC) + timedelta(days=3650)) == 0
    assert (await wallet(customer))[0] == 11
