"""Customers in the database: one per phone under concurrency, and the Shopify import linking instead of
duplicating (both engines)."""

import asyncio

import orjson
import pytest

from models.customers import Customer
from models.shopify import ImportStatus
from models.staff import Role
from operations.directory import customers
from operations.directory.customers import CustomerExists, NewCustomer, create_customer
from operations.directory.staff import NewStaff, authenticate, create_staff, login
from operations.kernel import ErrorCode, OperationError
from operations.kernel.access import SYSTEM
from operations.sync import catalog_import as shopify_import
from tests.factories import make_branch


async def cashier(n: int, branch_id: int):
    email = f"cashier{n}@t.pk"
    await create_staff(SYSTEM, NewStaff(email, f"Cashier {n}", Role.CASHIER, "a long password", None, [branch_id]))
    return await authenticate((await login(email, "a long password")).token)


async def test_two_counters_making_the_same_customer_at_once_make_one(db):
    branch = await make_branch()
    a, b = await cashier(1, branch.id), await cashier(2, branch.id)
    results = await asyncio.gather(
        create_customer(a, NewCustomer("Ayesha", phone="0300-1234567"), "till-1"),
        create_customer(b, NewCustomer("Ayesha", phone="+92 300 1234567"), "till-2"),
        return_exceptions=True,
    )
    made = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, OperationError)]
    assert len(made) == 1 and len(refused) == 1, results
    assert isinstance(refused[0], CustomerExists) and refused[0].customer_id == made[0][0].id
    assert refused[0].problems[0].code is ErrorCode.DUPLICATE
    assert await Customer.filter(phone="+923001234567").count() == 1


async def test_the_unique_index_settles_a_race_the_first_look_missed(db, monkeypatch):
    """Both requests look before writing and the look is made to see nobody: the index refuses one."""
    branch = await make_branch()
    a, b = await cashier(1, branch.id), await cashier(2, branch.id)
    looks = 0
    real = customers._phone_holder

    async def blind_first_look(phone, except_id=None):
        nonlocal looks
        looks += 1
        if looks <= 2:  # each request's first look finds nobody
            await asyncio.sleep(0.01)
            return None
        return await real(phone, except_id)

    monkeypatch.setattr(customers, "_phone_holder", blind_first_look)
    results = await asyncio.gather(
        create_customer(a, NewCustomer("Ayesha", phone="03001234567"), "till-1"),
        create_customer(b, NewCustomer("Bilal", phone="03001234567"), "till-2"),
        return_exceptions=True,
    )
    made = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, CustomerExists)]
    assert len(made) == 1 and len(refused) == 1, results
    assert refused[0].customer_id == made[0][0].id
    assert await Customer.all().count() == 1


def _customer_line(n: int, phone: str | None, first: str = "Shopify") -> dict:
    return {
        "__typename": "Customer",
        "id": f"gid://shopify/Customer/{9007199254740993 + n}",
        "firstName": first,
        "lastName": f"Customer{n}",
        "phone": phone,
    }


async def test_the_import_links_a_counter_customer_by_phone_and_never_duplicates_a_phone(db, tmp_path):
    branch = await make_branch()
    till = await cashier(1, branch.id)
    counter_made, _ = await create_customer(till, NewCustomer("Ayesha", phone="0300-1234567"), "till-1")
    export = tmp_path / "customers.jsonl"
    lines = [
        _customer_line(1, "+92 300 1234567", "Ayesha"),  # the counter's customer: linked, not duplicated
        _customer_line(2, "0321-7654321"),
        _customer_line(3, "923217654321"),  # the same phone as 2 in another form: kept by 2 only
        _customer_line(4, "not a phone"),
        _customer_line(5, None),
    ]
    export.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))

    job, _ = await shopify_import.start_import(SYSTEM, source="file", create_branches=True)
    job = await shopify_import.run_job(job.id, [export])

    assert job.status == ImportStatus.COMPLETED, job.error
    rows = {c.shopify_customer_id: c for c in await Customer.all()}
    assert len(rows) == 5  # the counter's customer is one of them
    linked = rows[lines[0]["id"]]
    assert linked.id == counter_made.id and linked.phone == "+923001234567"
    assert rows[lines[1]["id"]].phone == "+923217654321"
    assert rows[lines[2]["id"]].phone is None
    assert rows[lines[3]["id"]].phone == "not a phone"  # kept as given: nobody can find it by phone
    assert job.counts["customers"]["linked_by_phone"] == 1
    assert any("+923217654321 belongs to another customer" in w["message"] for w in job.warnings)

    again = await shopify_import.run_job(
        (await shopify_import.start_import(SYSTEM, source="file", create_branches=True))[0].id, [export]
    )
    assert again.status == ImportStatus.COMPLETED
    assert again.counts["customers"] == {"unchanged": 5}
    assert await Customer.all().count() == 5


@pytest.mark.parametrize("phone", ["03001234567", "+923001234567"])
async def test_a_sale_by_phone_finds_the_customer_in_any_form(db, phone):
    made, _ = await create_customer(SYSTEM, NewCustomer("Ayesha", phone="0300 1234567"), "k")
    assert (await customers.customer_for_sale(None, phone, "customer")).id == made.id
