"""The shop of tests/operations/conftest.py, with a customer and a helper for the wallet."""

from decimal import Decimal

import pytest

from models.customers import Customer
from models.loyalty import LoyaltyEntry
from models.sales import TenderType
from models.staff import Role
from operations.counter import checkouts as sales
from operations.directory.catalog import VariantRef
from operations.directory.loyalty import balance_of, check_loyalty
from tests.operations.conftest import shop, staff_actor  # noqa: F401  (fixture)


@pytest.fixture
async def customer(db):
    return await Customer.create(first_name="Ayesha", last_name="Khan", phone="+923001234567")


@pytest.fixture
async def owner(shop):  # noqa: F811
    return await staff_actor(Role.OWNER, [], email="owner@t.pk")


def cash(amount: str) -> sales.Payment:
    return sales.Payment(TenderType.CASH, Decimal(amount))


def points(amount: str) -> sales.Payment:
    return sales.Payment(TenderType.LOYALTY, Decimal(amount))


def sale_of(s, key: str, payments, *, kurtas: int = 1, customer_id=None, counter_id=None) -> sales.Checkout:
    return sales.Checkout(
        counter_id=counter_id or s.counter.id,
        lines=[sales.CheckoutLine(VariantRef(id=s.kurta.id), kurtas)],
        payments=payments,
        idempotency_key=key,
        customer_id=customer_id,
    )


async def wallet(customer) -> tuple[int, list[tuple[str, int]]]:
    """The balance and every entry (kind, points), after proving the balance is their sum."""
    assert await check_loyalty() == []
    entries = [(e.kind.value, e.points) for e in await LoyaltyEntry.filter(customer_id=customer.id).order_by("id")]
    balance = await balance_of(None, customer.id)
    assert balance == sum(p for _, p in entries)
    return balance, entries
