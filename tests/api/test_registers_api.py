"""The register mutations and X/Z report queries over GraphQL: payload errors, access, one close."""

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from models.registers import CashMovement, Register, Shift
from models.sales import Sale, SaleReturn, SaleStatus, TenderType
from models.staff import Role, Staff
from operations.counter import checkouts as checkout
from operations.counter import returns
from operations.counter.registers import shift_for
from operations.directory.branches import NewCounter, create_counter
from operations.directory.catalog import VariantRef
from operations.directory.staff import authenticate
from operations.kernel.access import SYSTEM
from schema.ids import decode, global_id
from tests.factories import make_branch, make_variants, stock

OPEN = """mutation($c: ID!, $f: Decimal!, $k: String!) {
  openRegister(input: {counterId: $c, openingFloat: $f, idempotencyKey: $k}) {
    register { id status openingFloat { amount currency } counter { code } }
    errors { field message code }
  }
}"""
CASH = """mutation($r: ID!, $kind: CashMovementKind!, $a: Decimal!, $why: String!, $k: String!) {
  recordCashMovement(input: {registerId: $r, kind: $kind, amount: $a, reason: $why, idempotencyKey: $k}) {
    cashMovement { kind amount { amount } reason }
    errors { field message code }
  }
}"""
CLOSE = """mutation($r: ID!, $k: String!, $counted: CashCountInput!) {
  closeRegister(input: {registerId: $r, idempotencyKey: $k, counted: $counted}) {
    register { status closedAt expectedCash { amount } countedCash { amount } overShort { amount }
               report { final overShort { amount } } }
    errors { field message code }
  }
}"""
CURRENT = "query($c: ID!) { currentRegister(counterId: $c) { id status } }"
REPORT = """query($r: ID!) {
  registerReport(registerId: $r) {
    final openingFloat { amount } salesCount salesTotal { amount } voidedCount returnsCount
    refundedTotal { amount } cashSales { amount } cashRefunds { amount } cashIn { amount } cashOut { amount }
    salesByTender { cash { amount } card { amount } bank { amount } }
    expectedCash { amount } countedCash { amount } overShort { amount }
    shifts { cashierName salesCount salesTotal { amount } endedAt }
  }
}"""
END_SHIFT = """mutation($r: ID!, $k: String!) {
  endShift(input: {registerId: $r, idempotencyKey: $k}) { shift { endedAt } errors { code field } } }"""


def gid(kind: str, pk: int) -> str:
    return str(global_id(kind, pk))


@pytest.fixture
async def shop(db):
    """Branch A with a counter, and branch B."""
    a, b = await make_branch("A"), await make_branch("B")
    counter, _ = await create_counter(SYSTEM, NewCounter(a.id, "C1", "Counter 1"))
    return a, b, gid("Counter", counter.id)


async def open_at(client, counter: str, opening_float: str = "5000.00", key: str = "open") -> dict:
    return (await client(OPEN, {"c": counter, "f": opening_float, "k": key}))["openRegister"]


async def insert_sale(register_pk: int, status: SaleStatus, total: str, cash_taken: str) -> Sale:
    register = await Register.get(id=register_pk)
    shift = await Shift.get(register_id=register_pk, cashier_id=register.opened_by_id)
    return await Sale.create(
        shift_id=shift.id,
        branch_id=register.branch_id,
        counter_id=register.counter_id,
        register_id=register.id,
        cashier_id=register.opened_by_id,
        status=status,
        subtotal=Decimal(total),
        total=Decimal(total),
        cash_taken=Decimal(cash_taken),
        occurred_at=datetime.now(UTC),
    )


async def test_a_day_at_the_counter(anonymous, shop):
    a, _, counter = shop
    cashier = await anonymous.as_staff(Role.CASHIER, [a.id], pin="4821")
    opened = await open_at(cashier, counter)
    assert opened["errors"] == []
    register = opened["register"]
    assert (register["status"], register["openingFloat"], register["counter"]) == (
        "OPEN",
        {"amount": "5000.00", "currency": "PKR"},
        {"code": "C1"},
    )
    assert (await cashier(CURRENT, {"c": counter}))["currentRegister"] == {"id": register["id"], "status": "OPEN"}
    again = await open_at(cashier, counter)
    assert again["register"]["id"] == register["id"]  # same key: the first register

    pk = decode(register["id"], "Register", "id")
    sold = await insert_sale(pk, SaleStatus.PLACED, "4200.00", "4200.00")
    await insert_sale(pk, SaleStatus.PLACED, "1800.50", "800.50")  # 1,000 by card
    await insert_sale(pk, SaleStatus.VOIDED, "650.00", "650.00")  # handed back: ignored
    await SaleReturn.create(
        number="R-1",
        sale_id=sold.id,
        branch_id=a.id,
        counter_id=sold.counter_id,
        register_id=pk,
        cashier_id=sold.cashier_id,
        net=Decimal("1050"),
        tax=Decimal(0),
        total=Decimal("1050.00"),
        cash_paid_out=Decimal("1050.00"),
    )
    for kind, amount, why in (("CASH_IN", "3000", "change from the bank"), ("CASH_OUT", "250.50", "courier")):
        moved = await cashier(CASH, {"r": register["id"], "kind": kind, "a": amount, "why": why, "k": kind})
        assert moved["recordCashMovement"]["errors"] == []

    # 5000 + 4200 + 800.50 − 1050 + 3000 − 250.50 = 11700.00
    x = (await cashier(REPORT, {"r": register["id"]}))["registerReport"]
    assert x["final"] is False and x["expectedCash"] == {"amount": "11700.00"} and x["overShort"] is None
    assert (x["salesCount"], x["salesTotal"], x["voidedCount"], x["returnsCount"]) == (2, {"amount": "6000.50"}, 1, 1)
    assert (x["cashSales"], x["cashRefunds"], x["cashIn"], x["cashOut"]) == (
        {"amount": "5000.50"},
        {"amount": "1050.00"},
        {"amount": "3000.00"},
        {"amount": "250.50"},
    )
    [shift] = x["shifts"]
    assert (shift["cashierName"], shift["salesCount"], shift["salesTotal"], shift["endedAt"]) == (
        "cashier user",
        2,
        {"amount": "6000.50"},
        None,
    )

    # 2×5000 + 1×1000 + 6×100 + 1×50 + 2×20 + 1×10 = 11700: the drawer balances.
    notes = [{"value": v, "count": n} for v, n in ((5000, 2), (1000, 1), (100, 6), (50, 1), (20, 2), (10, 1))]
    closed = (await cashier(CLOSE, {"r": register["id"], "k": "z", "counted": {"denominations": notes}}))[
        "closeRegister"
    ]
    assert closed["errors"] == []
    assert closed["register"]["status"] == "CLOSED" and closed["register"]["report"]["final"] is True
    assert (closed["register"]["expectedCash"], closed["register"]["overShort"]) == (
        {"amount": "11700.00"},
        {"amount": "0.00"},
    )
    replay = (await cashier(CLOSE, {"r": register["id"], "k": "z", "counted": {"denominations": notes}}))[
        "closeRegister"
    ]
    assert replay == closed
    assert (await cashier(CURRENT, {"c": counter}))["currentRegister"] is None
    z = (await cashier(REPORT, {"r": register["id"]}))["registerReport"]
    assert (z["final"], z["countedCash"], z["overShort"]) == (True, {"amount": "11700.00"}, {"amount": "0.00"})
    assert z["shifts"][0]["endedAt"] is not None
    node = await cashier("query($id: ID!) { node(id: $id) { ... on Register { status } } }", {"id": register["id"]})
    assert node["node"] == {"status": "CLOSED"}


async def test_second_register_at_a_counter_is_refused(anonymous, shop):
    a, _, counter = shop
    first = await open_at(await anonymous.as_staff(Role.CASHIER, [a.id], pin="1593"), counter, key="k1")
    second = await open_at(await anonymous.as_staff(Role.CASHIER, [a.id], pin="2684"), counter, key="k2")
    assert second["register"] is None
    [error] = second["errors"]
    assert (error["code"], error["field"]) == ("DUPLICATE", "counterId")
    assert f"#{decode(first['register']['id'], 'Register', 'id')}" in error["message"]


async def test_cashier_of_branch_b_cannot_work_branch_a(anonymous, api, shop):
    _, b, counter = shop
    opened = await open_at(api, counter)
    outsider = await anonymous.as_staff(Role.CASHIER, [b.id], pin="3719")
    register = opened["register"]["id"]
    for query, variables in (
        (OPEN, {"c": counter, "f": "100", "k": "x"}),
        (CASH, {"r": register, "kind": "CASH_IN", "a": "1", "why": "x", "k": "x"}),
        (CLOSE, {"r": register, "k": "x", "counted": {"total": "0"}}),
        (REPORT, {"r": register}),
        (CURRENT, {"c": counter}),
    ):
        body = await outsider.raw(query, variables)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert await Register.all().count() == 1 and await CashMovement.all().count() == 0
    assert (await anonymous.raw(CURRENT, {"c": counter}))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    hidden = await outsider("query($id: ID!) { node(id: $id) { id } }", {"id": register})
    assert hidden["node"] is None


@pytest.mark.parametrize(
    ("opening_float", "field"),
    [("-1.00", "openingFloat"), ("10.005", "openingFloat"), ("12000000", "openingFloat")],
)
async def test_bad_opening_floats_are_payload_errors(api, shop, opening_float, field):
    _, _, counter = shop
    refused = await open_at(api, counter, opening_float)
    assert refused["register"] is None
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID", field)]
    assert await Register.all().count() == 0


async def test_bad_cash_and_counts_are_payload_errors_and_change_nothing(api, shop):
    _, _, counter = shop
    register = (await open_at(api, counter, "1000.00"))["register"]["id"]

    async def cash(kind: str, amount: str, key: str) -> list:
        data = await api(CASH, {"r": register, "kind": kind, "a": amount, "why": "bank deposit", "k": key})
        return [(e["code"], e["field"]) for e in data["recordCashMovement"]["errors"]]

    async def close(key: str, **counted) -> list:
        data = await api(CLOSE, {"r": register, "k": key, "counted": counted})
        return [(e["code"], e["field"]) for e in data["closeRegister"]["errors"]]

    assert await cash("CASH_OUT", "1000.01", "out-1") == [("INVALID", "amount")]  # beyond the drawer
    assert await cash("CASH_IN", "0", "in-0") == [("INVALID", "amount")]
    # A total and denominations both, or neither: CashCountInput is @oneOf, refused before anything runs.
    for counted in ({"total": "10", "denominations": [{"value": 100, "count": 1}]}, {}):
        body = await api.raw(CLOSE, {"r": register, "k": "z1", "counted": counted})
        assert body.get("data") is None and body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}, body
        assert body["errors"][0]["message"].startswith("Variable '$counted' has invalid value"), body
    assert await close("z3", denominations=[{"value": 75, "count": 2}]) == [("INVALID", "counted.denominations")]
    assert await close("z4", denominations=[{"value": 100, "count": 1}, {"value": 100, "count": 2}]) == [
        ("INVALID", "counted.denominations.1.value")
    ]
    assert await close("z5", total="-5") == [("INVALID", "counted.total")]
    assert await CashMovement.all().count() == 0
    assert (await Register.get(id=decode(register, "Register", "id"))).status == "open"

    assert await close("z6", total="1000") == []
    assert await cash("CASH_IN", "10", "in-late") == [("REGISTER_CLOSED", "registerId")]
    assert await close("z7", total="1000") == [("REGISTER_CLOSED", "registerId")]
    assert await CashMovement.all().count() == 0


async def test_concurrent_closes_over_graphql_close_once(api, shop):
    _, _, counter = shop
    register = (await open_at(api, counter, "300.00"))["register"]["id"]
    results = await asyncio.gather(
        *(api(CLOSE, {"r": register, "k": f"z{i}", "counted": {"total": f"{300 + i}"}}) for i in range(5))
    )
    errors = [r["closeRegister"]["errors"] for r in results]
    assert sum(e == [] for e in errors) == 1
    assert all(e[0]["code"] == "REGISTER_CLOSED" for e in errors if e)


async def test_a_cashier_ends_their_shift_and_the_register_stays_open(anonymous, shop):
    a, _, counter = shop
    cashier = await anonymous.as_staff(Role.CASHIER, [a.id], pin="5820")
    register = (await open_at(cashier, counter, "0"))["register"]["id"]
    ended = (await cashier(END_SHIFT, {"r": register, "k": "end-1"}))["endShift"]
    assert ended["errors"] == [] and ended["shift"]["endedAt"]
    again = (await cashier(END_SHIFT, {"r": register, "k": "end-2"}))["endShift"]
    assert again["errors"] == [{"code": "NOT_FOUND", "field": "registerId"}]
    assert (await cashier(CURRENT, {"c": counter}))["currentRegister"]["status"] == "OPEN"


async def test_a_retried_end_shift_returns_the_first_shift_and_ends_no_other(anonymous, shop):
    a, _, counter = shop
    cashier = await anonymous.as_staff(Role.CASHIER, [a.id], pin="5820")
    register = (await open_at(cashier, counter, "0"))["register"]["id"]
    pk = decode(register, "Register", "id")
    first = (await cashier(END_SHIFT, {"r": register, "k": "end-1"}))["endShift"]
    assert first["errors"] == [] and first["shift"]["endedAt"]
    [ended] = await Shift.filter(register_id=pk)
    later = await shift_for(await Register.get(id=pk), ended.cashier_id)  # back at the till: a new shift
    again = (await cashier(END_SHIFT, {"r": register, "k": "end-1"}))["endShift"]
    assert again == first
    assert (await Shift.get(id=later.id)).ended_at is None  # the retry ended nothing
    colleague = await anonymous.as_staff(Role.CASHIER, [a.id], pin="6931")
    reused = (await colleague(END_SHIFT, {"r": register, "k": "end-1"}))["endShift"]
    assert reused == {"shift": None, "errors": [{"code": "IDEMPOTENCY_KEY_REUSED", "field": "idempotencyKey"}]}
    assert (await Shift.get(id=later.id)).ended_at is None


LINKS = """query($s: ID!, $r: ID!, $ret: ID!) {
  sale: node(id: $s) { ... on Sale { cashier { name } register { id } shift { register { id } cashier { name } } } }
  saleReturn: node(id: $ret) { ... on SaleReturn { register { id } shift { cashier { name } } } }
  registerReport(registerId: $r) {
    register { id } counter { code } branch { code } openedByName openedBy { name } closedBy { name }
    shifts { cashierName cashier { name } } } }"""
CASH_LINK = """mutation($r: ID!) {
  recordCashMovement(input: {registerId: $r, kind: CASH_IN, amount: "100", reason: "change", idempotencyKey: "in-1"}) {
    cashMovement { staff { name } } errors { code } } }"""


async def test_sales_returns_shifts_cash_and_reports_link_objects_and_show_colleagues_names_not_emails(anonymous, shop):
    a, _, counter = shop
    [v] = await make_variants(1, prefix="LNK")
    await stock(a.id, v.id, 5)
    cashier = await anonymous.as_staff(Role.CASHIER, [a.id], pin="7139")
    colleague = await anonymous.as_staff(Role.CASHIER, [a.id], pin="8240")
    manager = await anonymous.as_staff(Role.BRANCH_MANAGER, [a.id], pin="902715")
    register = (await open_at(cashier, counter, "0"))["register"]["id"]
    actor = await authenticate(cashier.token)
    sale, _ = await checkout.checkout(
        actor,
        checkout.Checkout(
            decode(counter, "Counter", "c"),
            [checkout.CheckoutLine(VariantRef(id=v.id), 1)],
            [checkout.Payment(TenderType.CASH, Decimal("1000.00"))],
            "sell",
        ),
    )
    back, _ = await returns.create_return(
        actor,
        returns.ReturnRequest(
            sale.id,
            sale.counter_id,
            [returns.ReturnItem(1, 1)],
            [checkout.Payment(TenderType.CASH, Decimal("1000.00"))],
            "back",
        ),
    )
    moved = (await cashier(CASH_LINK, {"r": register}))["recordCashMovement"]
    assert moved == {"cashMovement": {"staff": {"name": "cashier user"}}, "errors": []}
    ids = {"s": gid("Sale", sale.id), "r": register, "ret": gid("SaleReturn", back.id)}
    own = await cashier(LINKS, ids)
    shift = {"register": {"id": register}, "cashier": {"name": "cashier user"}}
    assert own["sale"] == {"cashier": {"name": "cashier user"}, "register": {"id": register}, "shift": shift}
    assert own["saleReturn"] == {"register": {"id": register}, "shift": {"cashier": {"name": "cashier user"}}}
    assert own["registerReport"] == {
        "register": {"id": register},
        "counter": {"code": "C1"},
        "branch": {"code": "A"},
        "openedByName": "cashier user",
        "openedBy": {"name": "cashier user"},
        "closedBy": None,
        "shifts": [{"cashierName": "cashier user", "cashier": {"name": "cashier user"}}],
    }
    # A colleague sees who sold and who opened the register, as the manager does; a sign-in email only
    # the person themself and those who manage staff.
    assert (await colleague(LINKS, ids)) == own
    assert (await manager(LINKS, ids)) == own
    email = (await Staff.get(id=actor.staff_id)).email
    seller = "query($s: ID!) { node(id: $s) { ... on Sale { cashier { name email } } } }"
    assert (await cashier(seller, ids))["node"]["cashier"] == {"name": "cashier user", "email": email}
    assert (await manager(seller, ids))["node"]["cashier"] == {"name": "cashier user", "email": email}
    assert (await colleague(seller, ids))["node"]["cashier"] == {"name": "cashier user", "email": None}
