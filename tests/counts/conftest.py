"""A branch mid-trading (the operations' shop: counter, cashier, manager with PIN 902715, register
open, two variants with 10 each), plus an inventory clerk who counts and a second branch."""

from decimal import Decimal

import pytest

from models.sales import TenderType
from models.staff import Role
from operations.counter import checkouts as sales
from operations.directory.catalog import VariantRef
from tests.factories import make_branch
from tests.operations.conftest import shop, staff_actor  # noqa: F401  (fixtures)


@pytest.fixture
async def store(shop):  # noqa: F811
    shop.clerk = await staff_actor(Role.INVENTORY, [shop.branch.id], email="clerk@t.pk")
    shop.other_branch = await make_branch("KHI")
    shop.outsider = await staff_actor(Role.BRANCH_MANAGER, [shop.other_branch.id], pin="558203", email="khi@t.pk")
    return shop


_sales = iter(range(1, 10_000))


async def sell(s, variant, quantity: int = 1, key: str | None = None):
    """A real checkout at the shop's counter, while the count goes on."""
    return await sales.checkout(
        s.cashier,
        sales.Checkout(
            counter_id=s.counter.id,
            lines=[sales.CheckoutLine(VariantRef(id=variant.id), quantity)],
            payments=[sales.Payment(TenderType.CASH, Decimal("100000.00"))],
            idempotency_key=key or f"sale-{next(_sales)}",
        ),
    )
