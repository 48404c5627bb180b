"""Drafts and quotes (with or without a stock hold), placing them at another counter, voiding."""

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from models.sales import Sale, SaleStatus, TenderType
from models.staff import Role
from models.stock import StockLevel
from operations.counter import checkouts as sales
from operations.counter import drafts
from operations.counter.registers import open_register
from operations.directory.branches import NewCounter, create_counter
from operations.directory.catalog import VariantRef
from operations.kernel.access import SYSTEM
from operations.kernel.errors import ErrorCode, OperationError
from operations.stock.adjustments import check_ledger
from tests.operations.conftest import staff_actor


async def level(shop, variant) -> tuple[int, int]:
    lvl = await StockLevel.get(branch_id=shop.branch.id, variant_id=variant.id)
    return lvl.on_hand, lvl.reserved


def two_kurtas(shop, hold: int | None = 30, quote: bool = False) -> drafts.Draft:
    return drafts.Draft(
        shop.counter.id,
        [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 2)],
        hold_minutes=hold,
        is_quote=quote,
        customer_name="Mrs. Qureshi",
    )


CASH = [sales.Payment(TenderType.CASH, Decimal("2360.00"))]


async def test_a_held_draft_reserves_and_placing_it_elsewhere_deducts_once(shop):
    draft = await drafts.save_draft(shop.cashier, two_kurtas(shop))
    assert draft.status is SaleStatus.DRAFT and draft.number is None and draft.total == Decimal("2360.00")
    assert await level(shop, shop.kurta) == (10, 2)
    # The customer comes back to the other counter.
    counter2, _ = await create_counter(SYSTEM, NewCounter(shop.branch.id, "C2", "Counter 2"))
    cashier2 = await staff_actor(Role.CASHIER, [shop.branch.id], pin="2684", email="c2@t.pk")
    await open_register(cashier2, counter2.id, Decimal("0"), "open-2")
    placed, replayed = await drafts.place_draft(cashier2, draft.id, counter2.id, CASH, "place-1")
    assert not replayed and placed.status is SaleStatus.PLACED and placed.number == "LHR-C2-000001"
    assert await level(shop, shop.kurta) == (8, 0)
    again, replayed = await drafts.place_draft(cashier2, draft.id, counter2.id, CASH, "place-1")
    assert replayed and again.id == placed.id
    assert await check_ledger() == ([], [])


async def test_placing_the_same_draft_at_two_counters_at_once_sells_it_once(shop):
    draft = await drafts.save_draft(shop.cashier, two_kurtas(shop))
    results = await asyncio.gather(
        drafts.place_draft(shop.cashier, draft.id, shop.counter.id, CASH, "a"),
        drafts.place_draft(shop.cashier, draft.id, shop.counter.id, CASH, "b"),
        return_exceptions=True,
    )
    assert sum(isinstance(r, tuple) for r in results) == 1
    assert await level(shop, shop.kurta) == (8, 0)


async def test_editing_a_draft_moves_its_hold_and_expiry_gives_it_back(shop):
    draft = await drafts.save_draft(shop.cashier, two_kurtas(shop))
    edited = drafts.Draft(shop.counter.id, [sales.CheckoutLine(VariantRef(id=shop.shawl.id), 1)], hold_minutes=5)
    await drafts.save_draft(shop.cashier, edited, draft.id)
    assert (await level(shop, shop.kurta), await level(shop, shop.shawl)) == ((10, 0), (10, 1))
    assert await drafts.release_expired_holds(datetime.now(UTC) + timedelta(minutes=6)) == 1
    assert await level(shop, shop.shawl) == (10, 0)
    assert await drafts.release_expired_holds(datetime.now(UTC) + timedelta(minutes=6)) == 0
    # Placed after its hold ran out: deducted from what is available then.
    await drafts.place_draft(
        shop.cashier, draft.id, shop.counter.id, [sales.Payment(TenderType.CASH, Decimal("2500.00"))], "late"
    )
    assert await level(shop, shop.shawl) == (9, 0)
    assert await check_ledger() == ([], [])


async def test_a_quote_holds_nothing_and_cannot_hold_more_than_available(shop):
    quote = await drafts.save_draft(shop.cashier, two_kurtas(shop, hold=None, quote=True))
    assert quote.is_quote and await level(shop, shop.kurta) == (10, 0)
    greedy = drafts.Draft(shop.counter.id, [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 11)], hold_minutes=10)
    with pytest.raises(OperationError) as caught:
        await drafts.save_draft(shop.cashier, greedy)
    assert caught.value.problems[0].code is ErrorCode.INSUFFICIENT_STOCK
    assert await Sale.all().count() == 1


async def test_void_needs_a_manager_and_the_same_register_and_restores_stock(shop):
    sale, _ = await sales.checkout(
        shop.cashier, sales.Checkout(shop.counter.id, [sales.CheckoutLine(VariantRef(id=shop.kurta.id), 2)], CASH, "s1")
    )
    with pytest.raises(OperationError) as caught:
        await drafts.void_sale(shop.cashier, sale.id, "1357", "customer changed mind")  # a cashier's PIN
    assert caught.value.problems[0].code is ErrorCode.APPROVAL_REQUIRED
    voided = await drafts.void_sale(shop.cashier, sale.id, "902715", "customer changed mind", "void-1")
    assert voided.status is SaleStatus.VOIDED and voided.approved_by_id == shop.manager.staff_id
    assert await level(shop, shop.kurta) == (10, 0)
    again = await drafts.void_sale(shop.cashier, sale.id, "902715", "customer changed mind", "void-1")  # a retry
    assert again.status is SaleStatus.VOIDED and await level(shop, shop.kurta) == (10, 0)
    with pytest.raises(OperationError) as twice:  # not a retry: another void of a voided sale
        await drafts.void_sale(shop.cashier, sale.id, "902715", "again", "void-2")
    assert twice.value.problems[0].code is ErrorCode.WRONG_STATE
    with pytest.raises(OperationError) as reused:
        await drafts.void_sale(shop.cashier, sale.id, "902715", "another reason", "void-1")
    assert reused.value.problems[0].code is ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert await level(shop, shop.kurta) == (10, 0)
    assert await check_ledger() == ([], [])


async def test_a_retried_save_makes_one_draft_and_one_hold(shop):
    saves = await asyncio.gather(*(drafts.save_draft(shop.cashier, two_kurtas(shop), None, "park-1") for _ in range(4)))
    assert len({d.id for d in saves}) == 1
    assert await Sale.filter(status=SaleStatus.DRAFT).count() == 1
    assert await level(shop, shop.kurta) == (10, 2)
