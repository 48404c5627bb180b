"""The wallet at the counter: earn, redeem as a tender, refusals that change nothing, returns, exchanges, voids."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from models.loyalty import LoyaltyEntry
from models.sales import Sale, Tender, TenderType
from models.stock import StockLevel
from operations.counter import checkouts as sales
from operations.counter.drafts import Draft, place_draft, save_draft, void_sale
from operations.counter.exchanges import ExchangeRequest, create_exchange
from operations.counter.offline import OfflineSale, sync_offline_sales
from operations.counter.returns import ReturnItem, ReturnRequest, create_return
from operations.directory.catalog import VariantRef
from operations.directory.loyalty_rules import adjust_points, set_earn_rate
from operations.kernel.access import AccessDenied
from operations.kernel.errors import ErrorCode, OperationError
from tests.loyalty.conftest import cash, points, sale_of, wallet


async def give(shop, customer, n: int, key: str = "gift") -> None:
    await adjust_points(shop.manager, customer.id, n, "opening balance", key)


async def test_a_sale_earns_points_per_100_paid_rounded_down(shop, customer):
    await sales.checkout(shop.cashier, sale_of(shop, "s1", [cash("1200")], customer_id=customer.id))
    assert await wallet(customer) == (11, [("earn", 11)])  # PKR 1180 at 1 per 100


async def test_a_branch_sets_its_own_rate(shop, customer, owner):
    await set_earn_rate(owner, shop.branch.id, Decimal("2.5"), "rate")
    await sales.checkout(shop.cashier, sale_of(shop, "s1", [cash("1180")], customer_id=customer.id))
    assert (await wallet(customer))[0] == 29  # 1180 × 2.5 / 100 = 29.5
    await set_earn_rate(owner, shop.branch.id, Decimal("0"), "none")
    await sales.checkout(shop.cashier, sale_of(shop, "s2", [cash("1180")], customer_id=customer.id))
    assert (await wallet(customer))[0] == 29
    with pytest.raises(AccessDenied):  # a branch manager does not set the retailer's rates
        await set_earn_rate(shop.manager, shop.branch.id, Decimal("3"), "not theirs")
    with pytest.raises(OperationError) as caught:
        await set_earn_rate(owner, shop.branch.id, Decimal("0.001"), "too fine")
    assert (caught.value.problems[0].code, caught.value.problems[0].field) == (ErrorCode.INVALID, "pointsPer100Pkr")


async def test_no_customer_no_points(shop, customer):
    await sales.checkout(shop.cashier, sale_of(shop, "s1", [cash("1180")]))
    assert await LoyaltyEntry.all().count() == 0


async def test_points_pay_as_a_tender_and_earn_on_the_rest(shop, customer):
    await give(shop, customer, 500)
    sale, _ = await sales.checkout(
        shop.cashier, sale_of(shop, "s1", [points("180"), cash("1000")], customer_id=customer.id)
    )
    assert await wallet(customer) == (330, [("adjust", 500), ("redeem", -180), ("earn", 10)])
    assert {t.type for t in await Tender.filter(sale_id=sale.id)} == {TenderType.LOYALTY, TenderType.CASH}
    assert sale.cash_taken == Decimal("1000.00")


async def test_too_few_points_is_refused_and_changes_nothing(shop, customer):
    await give(shop, customer, 100)
    with pytest.raises(OperationError) as caught:
        await sales.checkout(shop.cashier, sale_of(shop, "s1", [points("180"), cash("1000")], customer_id=customer.id))
    [problem] = caught.value.problems
    assert (problem.code, problem.field) == (ErrorCode.INSUFFICIENT_POINTS, "tenders.0.amount")
    assert await wallet(customer) == (100, [("adjust", 100)])
    assert await Sale.all().count() == 0
    assert (await StockLevel.get(branch_id=shop.branch.id, variant_id=shop.kurta.id)).on_hand == 10


@pytest.mark.parametrize(
    ("payments", "named", "field", "code"),
    [
        (["loyalty:180", "cash:1000"], False, "tenders.0.type", ErrorCode.INVALID),  # whose points?
        (["cash:1000", "loyalty:180.50"], True, "tenders.1.amount", ErrorCode.INVALID),  # whole points only
    ],
)
async def test_loyalty_tender_refusals(shop, customer, payments, named, field, code):
    await give(shop, customer, 500)
    tenders = [sales.Payment(TenderType(t.split(":")[0]), Decimal(t.split(":")[1])) for t in payments]
    with pytest.raises(OperationError) as caught:
        await sales.checkout(shop.cashier, sale_of(shop, "s1", tenders, customer_id=customer.id if named else None))
    assert [(p.code, p.field) for p in caught.value.problems] == [(code, field)]
    assert await Sale.all().count() == 0


async def test_a_replayed_checkout_posts_points_once(shop, customer):
    await give(shop, customer, 500)
    basket = sale_of(shop, "s1", [points("180"), cash("1000")], customer_id=customer.id)
    first, _ = await sales.checkout(shop.cashier, basket)
    again, replayed = await sales.checkout(shop.cashier, basket)
    assert replayed and again.id == first.id
    assert (await wallet(customer))[0] == 330


async def test_an_adjustment_is_idempotent_and_audited(shop, customer):
    entry, balance, replayed = await adjust_points(shop.manager, customer.id, 50, "goodwill", "adj")
    again, balance2, replayed2 = await adjust_points(shop.manager, customer.id, 50, "goodwill", "adj")
    assert (again.id, balance, balance2, replayed, replayed2) == (entry.id, 50, 50, False, True)
    with pytest.raises(OperationError) as caught:
        await adjust_points(shop.manager, customer.id, 60, "goodwill", "adj")
    assert caught.value.problems[0].code is ErrorCode.IDEMPOTENCY_KEY_REUSED
    with pytest.raises(OperationError) as caught:
        await adjust_points(shop.manager, customer.id, -51, "typo", "adj2")
    assert (caught.value.problems[0].code, caught.value.problems[0].field) == (ErrorCode.INSUFFICIENT_POINTS, "points")
    assert await wallet(customer) == (50, [("adjust", 50)])


async def test_a_cashier_may_not_adjust(shop, customer):
    with pytest.raises(AccessDenied):
        await adjust_points(shop.cashier, customer.id, 50, "a friend", "adj")


def refund(amount: str):
    return [sales.Payment(TenderType.CASH, Decimal(amount))]


async def test_returns_claw_back_in_proportion_and_give_back_points_paid(shop, customer):
    await give(shop, customer, 500)
    sale, _ = await sales.checkout(
        shop.cashier, sale_of(shop, "s1", [points("360"), cash("2000")], kurtas=2, customer_id=customer.id)
    )
    assert (await wallet(customer))[0] == 500 - 360 + 20
    one = [ReturnItem(1, 1)]
    # Half the goods back: half the 360 points paid come back as points, so the money refunded is 1180 − 180.
    with pytest.raises(OperationError) as caught:
        await create_return(shop.cashier, ReturnRequest(sale.id, shop.counter.id, one, refund("1180"), "r1"))
    assert "due is 1000.00 (180.00 goes back to the wallet as points)" in caught.value.problems[0].message
    back, _ = await create_return(shop.cashier, ReturnRequest(sale.id, shop.counter.id, one, refund("1000"), "r1"))
    balance, entries = await wallet(customer)
    assert entries[-2:] == [("refund", 180), ("clawback", -10)] and balance == 330
    assert {(t.type, t.amount) for t in await Tender.filter(sale_return_id=back.id)} == {
        (TenderType.CASH, Decimal("1000.00")),
        (TenderType.LOYALTY, Decimal("180.00")),
    }
    await create_return(shop.cashier, ReturnRequest(sale.id, shop.counter.id, one, refund("1000"), "r2"))
    assert (await wallet(customer))[0] == 500  # everything back: as if the sale had never been


async def test_points_refunds_are_not_tendered_by_hand(shop, customer):
    sale, _ = await sales.checkout(shop.cashier, sale_of(shop, "s1", [cash("1180")], customer_id=customer.id))
    with pytest.raises(OperationError) as caught:
        await create_return(
            shop.cashier, ReturnRequest(sale.id, shop.counter.id, [ReturnItem(1, 1)], [points("1180")], "r1")
        )
    assert (caught.value.problems[0].code, caught.value.problems[0].field) == (ErrorCode.INVALID, "refunds.0.type")


async def test_a_clawback_takes_only_what_is_left_and_says_so(shop, customer):
    sale, _ = await sales.checkout(shop.cashier, sale_of(shop, "s1", [cash("1180")], customer_id=customer.id))
    await adjust_points(shop.manager, customer.id, -7, "spent at the café", "spend")  # 4 of the 11 left
    await create_return(shop.cashier, ReturnRequest(sale.id, shop.counter.id, [ReturnItem(1, 1)], refund("1180"), "r1"))
    balance, entries = await wallet(customer)
    assert (balance, entries[-1]) == (0, ("clawback", -4))
    note = (await LoyaltyEntry.filter(kind="clawback").first()).note
    assert "4 of 11 points" in note and "7 already spent" in note


async def test_an_exchange_claws_back_and_earns_on_the_new_sale(shop, customer):
    sale, _ = await sales.checkout(shop.cashier, sale_of(shop, "s1", [cash("1180")], customer_id=customer.id))
    x = ExchangeRequest(
        sale.id,
        shop.counter.id,
        [ReturnItem(1, 1)],
        [sales.CheckoutLine(VariantRef(id=shop.shawl.id), 1)],
        "x1",
        tenders=[sales.Payment(TenderType.CASH, Decimal("1320"))],
    )
    await create_exchange(shop.cashier, x)
    assert await wallet(customer) == (25, [("earn", 11), ("clawback", -11), ("earn", 25)])
    _, replayed = await create_exchange(shop.cashier, x)
    assert replayed and (await wallet(customer))[0] == 25


async def test_an_exchange_paid_partly_with_points(shop, customer):
    await give(shop, customer, 300)
    sale, _ = await sales.checkout(
        shop.cashier, sale_of(shop, "s1", [points("200"), cash("980")], customer_id=customer.id)
    )
    assert (await wallet(customer))[0] == 300 - 200 + 9
    # The kurta's 200 points come back as points; its 980 in money pays toward the shawl: 2500 − 980 = 1520 due,
    # 100 of it with points.
    x = ExchangeRequest(
        sale.id,
        shop.counter.id,
        [ReturnItem(1, 1)],
        [sales.CheckoutLine(VariantRef(id=shop.shawl.id), 1)],
        "x1",
        tenders=[points("100"), cash("1420")],
    )
    await create_exchange(shop.cashier, x)
    balance, entries = await wallet(customer)
    assert entries[-4:] == [("refund", 200), ("clawback", -9), ("redeem", -100), ("earn", 24)]
    assert balance == 300 + 0 - 100 + 24


async def test_a_void_puts_every_point_back(shop, customer):
    await give(shop, customer, 500)
    sale, _ = await sales.checkout(
        shop.cashier, sale_of(shop, "s1", [points("180"), cash("1000")], customer_id=customer.id)
    )
    await void_sale(shop.cashier, sale.id, "902715", "rang up twice", "v1")
    balance, entries = await wallet(customer)
    assert balance == 500 and entries[-2:] == [("refund", 180), ("clawback", -10)]


async def test_a_draft_placed_with_points(shop, customer):
    await give(shop, customer, 200)
    draft = await save_draft(
        shop.cashier,
        Draft(shop.counter.id, [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 1)], customer_id=customer.id),
        idempotency_key="d1",
    )
    with pytest.raises(OperationError) as caught:
        await place_draft(shop.cashier, draft.id, shop.counter.id, [points("300"), cash("880")], "p0")
    assert caught.value.problems[0].code is ErrorCode.INSUFFICIENT_POINTS
    await place_draft(shop.cashier, draft.id, shop.counter.id, [points("180"), cash("1000")], "p1")
    assert await wallet(customer) == (30, [("adjust", 200), ("redeem", -180), ("earn", 10)])


async def test_points_are_not_spent_offline(shop, customer):
    offline = OfflineSale(
        "o1", datetime.now(UTC), [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 1)], [points("1180")]
    )
    [result] = await sync_offline_sales(shop.cashier, shop.counter.id, [offline])
    assert [(p.code, p.field) for p in result.problems] == [(ErrorCode.INVALID, "sales.0.tenders.0.type")]
