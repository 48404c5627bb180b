"""A branch with a counter, two variants in stock, a cashier and a manager, and an open register."""

from decimal import Decimal

import pytest

from models.catalog import Variant
from models.staff import Role
from operations.counter.registers import open_register
from operations.directory.branches import NewCounter, create_counter
from operations.directory.staff import NewStaff, authenticate, create_staff, login
from operations.kernel.access import SYSTEM
from tests.factories import make_branch, make_variants, stock


async def staff_actor(role: Role, branch_ids: list[int], pin: str | None = None, email: str | None = None):
    """A signed-in staff member, as operations see them (the Actor behind a real session token)."""
    email = email or f"{role.value}-{len(branch_ids)}-{pin or 'x'}@t.pk"
    await create_staff(SYSTEM, NewStaff(email, f"{role.value} person", role, "a long password", pin, branch_ids))
    return await authenticate((await login(email, "a long password")).token)


class Shop:
    pass


@pytest.fixture
async def shop(db):
    s = Shop()
    s.branch = await make_branch("LHR")
    s.counter, _ = await create_counter(SYSTEM, NewCounter(s.branch.id, "C1", "Counter 1"))
    s.kurta, s.shawl = await make_variants(2, prefix="K")
    await Variant.filter(id=s.kurta.id).update(price=Decimal("1180.00"), tax_rate=Decimal("18.00"))
    await Variant.filter(id=s.shawl.id).update(price=Decimal("2500.00"), tax_rate=Decimal("18.00"))
    for v in (s.kurta, s.shawl):
        await stock(s.branch.id, v.id, 10)
    s.cashier = await staff_actor(Role.CASHIER, [s.branch.id], pin="1357", email="cashier@t.pk")
    s.manager = await staff_actor(Role.BRANCH_MANAGER, [s.branch.id], pin="902715", email="manager@t.pk")
    s.register = await open_register(s.cashier, s.counter.id, Decimal("5000.00"), "open-1")
    return s
