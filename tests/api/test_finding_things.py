"""Finding things: which branch has a variant, sales by number, day, counter, people, status and tender,
returns and cash movements by branch, day, sale or register, and who moved stock, for what."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from models.registers import CashMovement, CashMovementKind
from models.sales import SaleReturn, TenderType
from models.staff import Role
from operations.counter import checkouts, drafts, offline, returns
from operations.counter.registers import open_register, record_cash
from operations.directory.branches import NewBranch, NewCounter, create_branch, create_counter
from operations.directory.catalog import VariantRef
from operations.directory.staff import authenticate
from operations.kernel.access import SYSTEM
from schema.ids import global_id
from tests.factories import deduct, make_branch, make_variants, stock

KARACHI = ZoneInfo("Asia/Karachi")


def gid(kind: str, pk: int) -> str:
    return str(global_id(kind, pk))


def local(day: date, hour: int, minute: int, zone: ZoneInfo = KARACHI) -> datetime:
    return datetime.combine(day, time(hour, minute), zone)


def karachi_today() -> date:
    return datetime.now(KARACHI).date()


async def actor_of(client):
    return await authenticate(client.token)


# --- Variant.stock: which branch has it ---------------------------------------------------------------

STOCK = """query($sku: String!, $inStock: Boolean!) { variants(first: 5, sku: $sku) { edges { node {
  sku stock(inStock: $inStock) { branch { code } onHand reserved available inTransit damaged } } } } }"""
NODE_STOCK = "query($id: ID!) { node(id: $id) { ... on Variant { stock { branch { code } onHand } } } }"


async def test_which_branch_has_it_shows_each_branch_the_caller_may_see(anonymous, api, db):
    lahore, karachi, islamabad = await make_branch("LHR"), await make_branch("KHI"), await make_branch("ISB")
    [kurta] = await make_variants(1, prefix="WHERE")
    await stock(lahore.id, kurta.id, 5)
    await stock(karachi.id, kurta.id, 3)
    await stock(islamabad.id, kurta.id, 2)
    await deduct([(islamabad.id, kurta.id, 2)])  # a level at Islamabad, none left
    levels = (await api(STOCK, {"sku": kurta.sku, "inStock": False}))["variants"]["edges"][0]["node"]["stock"]
    assert levels == [
        {"branch": {"code": "LHR"}, "onHand": 5, "reserved": 0, "available": 5, "inTransit": 0, "damaged": 0},
        {"branch": {"code": "KHI"}, "onHand": 3, "reserved": 0, "available": 3, "inTransit": 0, "damaged": 0},
        {"branch": {"code": "ISB"}, "onHand": 0, "reserved": 0, "available": 0, "inTransit": 0, "damaged": 0},
    ]
    in_stock = (await api(STOCK, {"sku": kurta.sku, "inStock": True}))["variants"]["edges"][0]["node"]["stock"]
    assert [level["branch"]["code"] for level in in_stock] == ["LHR", "KHI"]

    # A cashier sees the branches their role lets them see; a manager of two sees two.
    cashier = await anonymous.as_staff(Role.CASHIER, [karachi.id])
    seen = (await cashier(STOCK, {"sku": kurta.sku, "inStock": False}))["variants"]["edges"][0]["node"]["stock"]
    assert [(level["branch"]["code"], level["onHand"]) for level in seen] == [("KHI", 3)]
    by_node = (await cashier(NODE_STOCK, {"id": gid("Variant", kurta.id)}))["node"]["stock"]
    assert by_node == [{"branch": {"code": "KHI"}, "onHand": 3}]
    manager = await anonymous.as_staff(Role.BRANCH_MANAGER, [lahore.id, islamabad.id])
    seen = (await manager(STOCK, {"sku": kurta.sku, "inStock": False}))["variants"]["edges"][0]["node"]["stock"]
    assert [level["branch"]["code"] for level in seen] == ["LHR", "ISB"]
    # Finance reads sales, not stock: the variant is there, its stock is not shown.
    finance = await anonymous.as_staff(Role.FINANCE, [lahore.id])
    assert (await finance(STOCK, {"sku": kurta.sku, "inStock": False}))["variants"]["edges"][0]["node"]["stock"] == []


# --- sales: the filters -------------------------------------------------------------------------------

SALES = """query($b: ID!, $first: Int!, $after: String, $number: String, $from: Date, $to: Date, $counter: ID,
  $cashier: ID, $salesperson: ID, $phone: String, $status: SaleStatus, $tender: TenderType) {
  sales(branchId: $b, first: $first, after: $after, number: $number, from: $from, to: $to, counterId: $counter,
    cashierId: $cashier, salespersonId: $salesperson, customerPhone: $phone, status: $status, tenderType: $tender) {
    edges { cursor node { id number status occurredAt } } pageInfo { hasNextPage endCursor } } }"""


class Shop:
    pass


@pytest.fixture
async def shop(anonymous, db):
    """Lahore: two counters, two cashiers; sales by card, cash and bank, a draft, and two sales made offline
    three days ago, at 23:30 and at 00:30 the next night (Karachi time)."""
    s = Shop()
    s.lahore, s.karachi = await make_branch("LHR"), await make_branch("KHI")
    s.c1, _ = await create_counter(SYSTEM, NewCounter(s.lahore.id, "C1", "Counter 1"))
    s.c2, _ = await create_counter(SYSTEM, NewCounter(s.lahore.id, "C2", "Counter 2"))
    s.khi_counter, _ = await create_counter(SYSTEM, NewCounter(s.karachi.id, "C1", "Counter 1"))
    [s.kurta] = await make_variants(1, prefix="K")
    for branch in (s.lahore, s.karachi):
        await stock(branch.id, s.kurta.id, 50)
    s.ayesha = await anonymous.as_staff(Role.CASHIER, [s.lahore.id])
    s.bilal = await anonymous.as_staff(Role.CASHIER, [s.lahore.id])
    s.khi = await anonymous.as_staff(Role.CASHIER, [s.karachi.id])
    s.a, s.b, s.k = await actor_of(s.ayesha), await actor_of(s.bilal), await actor_of(s.khi)
    s.r1 = await open_register(s.a, s.c1.id, Decimal("1000.00"), "open-c1")
    s.r2 = await open_register(s.b, s.c2.id, Decimal("1000.00"), "open-c2")
    s.rk = await open_register(s.k, s.khi_counter.id, Decimal("1000.00"), "open-khi")
    line = [checkouts.CheckoutLine(VariantRef(id=s.kurta.id), 1)]

    async def sell(actor, counter, payments, key, **kw):
        sale, _ = await checkouts.checkout(actor, checkouts.Checkout(counter.id, line, payments, key, **kw))
        return sale

    s.cash = await sell(
        s.a,
        s.c1,
        [checkouts.Payment(TenderType.CASH, Decimal("1000.00"))],
        "cash",
        customer_phone="03001234567",
        salesperson_id=s.b.staff_id,
    )
    s.card = await sell(s.a, s.c1, [checkouts.Payment(TenderType.CARD, Decimal("1000.00"), "4242")], "card")
    s.bank = await sell(
        s.b,
        s.c2,
        [checkouts.Payment(TenderType.BANK, Decimal("400.00")), checkouts.Payment(TenderType.CASH, Decimal("600.00"))],
        "bank",
    )
    s.draft = await drafts.save_draft(s.a, drafts.Draft(s.c1.id, line), idempotency_key="draft")
    s.day = karachi_today() - timedelta(days=3)
    uploads = [
        offline.OfflineSale("late", local(s.day, 23, 30), line, [checkouts.Payment(TenderType.CASH, Decimal(1000))]),
        offline.OfflineSale(
            "after-midnight",
            local(s.day + timedelta(days=1), 0, 30),
            line,
            [checkouts.Payment(TenderType.CARD, Decimal(1000))],
        ),
    ]
    s.late, s.after_midnight = [r.sale for r in await offline.sync_offline_sales(s.a, s.c1.id, uploads)]
    return s


async def _all(client, variables: dict, first: int = 100) -> list[dict]:
    """Every sale the filters let through, page by page."""
    found, after = [], None
    while True:
        page = (await client(SALES, {"first": first, "after": after, **variables}))["sales"]
        found += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


async def test_sales_found_by_each_filter(shop, api):
    b = gid("Branch", shop.lahore.id)

    async def ids(**filters) -> list[str]:
        return [n["id"] for n in await _all(api, {"b": b, **filters})]

    assert await ids(number=shop.card.number) == [gid("Sale", shop.card.id)]
    assert await ids(number="LHR-C1-999999") == []
    assert await ids(counter=gid("Counter", shop.c2.id)) == [gid("Sale", shop.bank.id)]
    assert await ids(cashier=gid("Staff", shop.b.staff_id)) == [gid("Sale", shop.bank.id)]
    assert await ids(salesperson=gid("Staff", shop.b.staff_id)) == [gid("Sale", shop.cash.id)]
    assert await ids(phone="03001234567") == [gid("Sale", shop.cash.id)]
    assert await ids(status="DRAFT") == [gid("Sale", shop.draft.id)]
    assert await ids(tender="BANK") == [gid("Sale", shop.bank.id)]
    cash = [gid("Sale", s.id) for s in (shop.cash, shop.bank, shop.late)]
    assert await ids(tender="CASH") == cash  # a sale paid two ways is listed once
    assert await ids(tender="CASH", counter=gid("Counter", shop.c1.id)) == cash[::2]  # filters add up
    # Another branch's counter is not one of this branch's: nothing, not that counter's sales.
    assert await ids(counter=gid("Counter", shop.khi_counter.id)) == []


async def test_a_sale_at_half_past_eleven_at_night_is_on_that_day_at_the_branch(shop, api):
    """Days are the branch's calendar days (Asia/Karachi, UTC+5): 23:30 there is 18:30 UTC the same day, and
    00:30 the next night is 19:30 UTC, still the same UTC day, but the next day at the branch."""
    b = gid("Branch", shop.lahore.id)
    assert shop.late.occurred_at.astimezone(UTC).date() == shop.after_midnight.occurred_at.astimezone(UTC).date()
    day, next_day = shop.day.isoformat(), (shop.day + timedelta(days=1)).isoformat()

    async def numbers(**filters) -> list[str]:
        return [n["number"] for n in await _all(api, {"b": b, **filters})]

    assert await numbers(**{"from": day, "to": day}) == [shop.late.number]
    assert await numbers(**{"from": next_day, "to": next_day}) == [shop.after_midnight.number]
    assert await numbers(to=day) == [shop.late.number]
    today = karachi_today().isoformat()
    assert set(await numbers(**{"from": today})) == {shop.cash.number, shop.card.number, shop.bank.number, None}
    assert await numbers(**{"from": day, "to": next_day, "tender": "CARD"}) == [shop.after_midnight.number]
    body = await api.raw(SALES, {"b": b, "first": 5, "from": next_day, "to": day})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "to"}


async def test_keyset_paging_walks_a_filtered_list_once(shop, api):
    b = gid("Branch", shop.lahore.id)
    everything = await _all(api, {"b": b, "tender": "CASH"})
    one_by_one = await _all(api, {"b": b, "tender": "CASH"}, first=1)
    assert [n["id"] for n in one_by_one] == [n["id"] for n in everything] and len(everything) == 3
    first = (await api(SALES, {"b": b, "first": 2, "tender": "CASH"}))["sales"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (await api(SALES, {"b": b, "first": 2, "tender": "CASH", "after": first["pageInfo"]["endCursor"]}))["sales"]
    assert [e["node"]["id"] for e in first["edges"] + rest["edges"]] == [n["id"] for n in everything]
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_sales_stay_branch_scoped_and_bad_filters_are_client_errors(shop, anonymous):
    b = gid("Branch", shop.lahore.id)
    body = await shop.khi.raw(SALES, {"b": b, "first": 5, "tender": "CASH"})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    inventory = await anonymous.as_staff(Role.INVENTORY, [shop.lahore.id])
    assert (await inventory.raw(SALES, {"b": b, "first": 5}))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    own = await _all(shop.khi, {"b": gid("Branch", shop.karachi.id)})
    assert own == []
    for variables, field in (
        ({"counter": gid("Branch", shop.lahore.id)}, "counterId"),
        ({"cashier": "not-an-id"}, "cashierId"),
        ({"salesperson": gid("Sale", 1)}, "salespersonId"),
    ):
        body = await shop.ayesha.raw(SALES, {"b": b, "first": 5, **variables})
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, body
    body = await shop.ayesha.raw(SALES, {"b": b, "first": 5, "status": "SOLD"})
    assert "SaleStatus" in body["errors"][0]["message"] and body.get("data") is None


# --- returns ------------------------------------------------------------------------------------------

RETURNS = """query($first: Int!, $after: String, $b: ID, $from: Date, $to: Date, $sale: ID) {
  returns(first: $first, after: $after, branchId: $b, from: $from, to: $to, saleId: $sale) {
    edges { node { id number branch { code } sale { number } total { amount } } }
    pageInfo { hasNextPage endCursor } } }"""


async def _take_back(shop, actor, counter, sale, key, refund_type=TenderType.CASH):
    request = returns.ReturnRequest(
        sale.id, counter.id, [returns.ReturnItem(1, 1)], [checkouts.Payment(refund_type, Decimal("1000.00"))], key
    )
    doc, _ = await returns.create_return(actor, request)
    return doc


async def test_returns_by_branch_day_and_sale(shop, api, anonymous):
    at_lahore = await _take_back(shop, shop.a, shop.c1, shop.cash, "r-lhr")
    at_karachi = await _take_back(shop, shop.k, shop.khi_counter, shop.card, "r-khi", TenderType.CARD)
    older = await _take_back(shop, shop.a, shop.c1, shop.bank, "r-old")
    await SaleReturn.filter(id=older.id).update(created_at=local(shop.day, 23, 30).astimezone(UTC))

    async def numbers(client, **variables) -> list[str]:
        page = (await client(RETURNS, {"first": 10, **variables}))["returns"]
        return [edge["node"]["number"] for edge in page["edges"]]

    everything = [at_lahore.number, at_karachi.number, older.number]
    assert await numbers(api) == everything
    assert await numbers(api, b=gid("Branch", shop.karachi.id)) == [at_karachi.number]
    assert await numbers(api, sale=gid("Sale", shop.card.id)) == [at_karachi.number]
    day = shop.day.isoformat()
    assert await numbers(api, **{"from": day, "to": day}) == [older.number]
    assert await numbers(api, to=(shop.day - timedelta(days=1)).isoformat()) == []
    assert await numbers(api, **{"from": karachi_today().isoformat()}) == everything[:2]
    # Paging on with the cursor.
    first = (await api(RETURNS, {"first": 2}))["returns"]
    rest = (await api(RETURNS, {"first": 2, "after": first["pageInfo"]["endCursor"]}))["returns"]
    assert [e["node"]["number"] for e in first["edges"] + rest["edges"]] == everything
    assert (first["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasNextPage"]) == (True, False)

    # A Lahore cashier sees Lahore's returns, even of a sale made elsewhere; Karachi's are not theirs to see.
    assert await numbers(shop.ayesha) == [at_lahore.number, older.number]
    assert await numbers(shop.ayesha, sale=gid("Sale", shop.card.id)) == []
    body = await shop.ayesha.raw(RETURNS, {"first": 5, "b": gid("Branch", shop.karachi.id)})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    inventory = await anonymous.as_staff(Role.INVENTORY, [shop.lahore.id])
    assert (await inventory.raw(RETURNS, {"first": 5}))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await api.raw(RETURNS, {"first": 5, "sale": gid("Branch", shop.lahore.id)})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "saleId"}


# --- cash movements -----------------------------------------------------------------------------------

CASH_MOVEMENTS = """query($first: Int!, $after: String, $r: ID, $b: ID, $from: Date, $to: Date) {
  cashMovements(first: $first, after: $after, registerId: $r, branchId: $b, from: $from, to: $to) {
    edges { node { id kind amount { amount } reason staff { name } register { id branch { code } } } }
    pageInfo { hasNextPage endCursor } } }"""
NODE_CASH = "query($id: ID!) { node(id: $id) { ... on CashMovement { reason register { counter { code } } } } }"


async def test_cash_movements_by_register_branch_and_day_in_each_branchs_time_zone(shop, api, anonymous):
    dubai, _ = await create_branch(SYSTEM, NewBranch("DXB", "Dubai Mall", timezone="Asia/Dubai"))
    dxb_counter, _ = await create_counter(SYSTEM, NewCounter(dubai.id, "C1", "Counter 1"))
    dubai_cashier = await actor_of(await anonymous.as_staff(Role.CASHIER, [dubai.id]))
    dxb_register = await open_register(dubai_cashier, dxb_counter.id, Decimal("0"), "open-dxb")
    moved = {}
    for name, actor, register, kind in (
        ("tea", shop.a, shop.r1, CashMovementKind.CASH_OUT),
        ("change", shop.b, shop.r2, CashMovementKind.CASH_IN),
        ("khi", shop.k, shop.rk, CashMovementKind.CASH_OUT),
        ("dubai", dubai_cashier, dxb_register, CashMovementKind.CASH_IN),
    ):
        moved[name] = await record_cash(actor, register.id, kind, Decimal("100.00"), name, f"cash-{name}")
    # Late at night three days ago: 23:30 in Lahore (18:30 UTC), and 23:30 in Dubai (19:30 UTC), which is
    # already the next day in Lahore.
    await CashMovement.filter(id=moved["tea"].id).update(at=local(shop.day, 23, 30).astimezone(UTC))
    dubai_night = local(shop.day, 23, 30, ZoneInfo("Asia/Dubai")).astimezone(UTC)
    await CashMovement.filter(id=moved["dubai"].id).update(at=dubai_night)

    async def reasons(client, **variables) -> list[str]:
        page = (await client(CASH_MOVEMENTS, {"first": 10, **variables}))["cashMovements"]
        return [edge["node"]["reason"] for edge in page["edges"]]

    assert await reasons(api) == ["tea", "change", "khi", "dubai"]
    assert await reasons(api, r=gid("Register", shop.r2.id)) == ["change"]
    assert await reasons(api, b=gid("Branch", shop.lahore.id)) == ["tea", "change"]
    assert await reasons(api, b=gid("Branch", shop.karachi.id), r=gid("Register", shop.r1.id)) == []
    day = shop.day.isoformat()
    assert await reasons(api, **{"from": day, "to": day}) == ["tea", "dubai"]
    assert await reasons(api, b=gid("Branch", shop.lahore.id), **{"from": day, "to": day}) == ["tea"]
    today = karachi_today().isoformat()
    assert await reasons(api, **{"from": today}) == ["change", "khi"]
    page = (await api(CASH_MOVEMENTS, {"first": 1, "b": gid("Branch", shop.lahore.id)}))["cashMovements"]
    [edge] = page["edges"]
    assert edge["node"]["staff"]["name"] == "cashier user" and edge["node"]["register"]["branch"]["code"] == "LHR"
    after = page["pageInfo"]["endCursor"]
    rest = await api(CASH_MOVEMENTS, {"first": 1, "b": gid("Branch", shop.lahore.id), "after": after})
    assert [e["node"]["reason"] for e in rest["cashMovements"]["edges"]] == ["change"]

    # Who may see registers at a branch sees its cash: a Lahore cashier Lahore's, finance its branches'.
    assert await reasons(shop.ayesha) == ["tea", "change"]
    finance = await anonymous.as_staff(Role.FINANCE, [shop.karachi.id])
    assert await reasons(finance) == ["khi"]
    for variables in ({"b": gid("Branch", shop.karachi.id)}, {"r": gid("Register", shop.rk.id)}):
        body = await shop.ayesha.raw(CASH_MOVEMENTS, {"first": 5, **variables})
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    inventory = await anonymous.as_staff(Role.INVENTORY, [shop.lahore.id])
    assert (await inventory.raw(CASH_MOVEMENTS, {"first": 5}))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await api.raw(CASH_MOVEMENTS, {"first": 5, "r": gid("Register", 999_999)})
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "registerId"}

    # node(id:) reads a cash movement as the list shows it, to the same people.
    khi_id = gid("CashMovement", moved["khi"].id)
    assert (await shop.khi(NODE_CASH, {"id": khi_id}))["node"] == {
        "reason": "khi",
        "register": {"counter": {"code": "C1"}},
    }
    assert (await shop.ayesha(NODE_CASH, {"id": khi_id}))["node"] is None


# --- stock movements: who, for what, and the note -----------------------------------------------------

MOVEMENTS = """query($b: ID!) { stockMovements(branchId: $b, first: 100) { edges { node {
  delta reason actor { name role } reference { type id } note } } } }"""
ADJUST = """mutation($input: AdjustStockInput!) { adjustStock(input: $input) {
  movements { delta actor { name } reference { type id } note } errors { code } } }"""
SALE_BY_REFERENCE = "query($id: ID!) { node(id: $id) { ... on Sale { number } } }"


async def test_a_movement_says_who_moved_the_stock_for_what_and_the_note(shop, api, anonymous):
    manager = await anonymous.as_staff(Role.BRANCH_MANAGER, [shop.lahore.id])
    lines = [{"variant": {"id": gid("Variant", shop.kurta.id)}, "quantity": -2}]
    adjusted = await manager(
        ADJUST,
        {
            "input": {
                "branchId": gid("Branch", shop.lahore.id),
                "reason": "SHRINKAGE",
                "lines": lines,
                "note": "rain through the roof",
                "idempotencyKey": "roof",
            }
        },
    )
    assert adjusted["adjustStock"]["movements"] == [
        {
            "delta": -2,
            "actor": {"name": "branch_manager user"},
            "reference": {"type": "ADJUSTMENT", "id": None},
            "note": "rain through the roof",
        }
    ]
    nodes = [e["node"] for e in (await api(MOVEMENTS, {"b": gid("Branch", shop.lahore.id)}))["stockMovements"]["edges"]]
    opening, sold = nodes[0], nodes[1]
    assert (opening["actor"], opening["reference"], opening["note"]) == (None, None, None)  # the system's
    assert sold["reason"] == "SALE" and sold["actor"] == {"name": "cashier user", "role": "CASHIER"}
    assert sold["reference"] == {"type": "SALE", "id": gid("Sale", shop.cash.id)}
    assert (await api(SALE_BY_REFERENCE, {"id": sold["reference"]["id"]}))["node"] == {"number": shop.cash.number}
    offline_sale = [n for n in nodes if n["note"] == "uploaded after working offline"]
    assert len(offline_sale) == 2 and {n["reference"]["type"] for n in offline_sale} == {"SALE"}
    lost = nodes[-1]
    assert lost["reason"] == "SHRINKAGE" and lost["note"] == "rain through the roof"
    assert lost["actor"]["name"] == "branch_manager user"
    # A return names its return document.
    doc = await _take_back(shop, shop.a, shop.c1, shop.cash, "r-ref")
    nodes = [e["node"] for e in (await api(MOVEMENTS, {"b": gid("Branch", shop.lahore.id)}))["stockMovements"]["edges"]]
    assert nodes[-1]["reference"] == {"type": "SALE_RETURN", "id": gid("SaleReturn", doc.id)}


async def test_sales_found_by_the_customer_named_on_them(shop, api):
    from operations.directory.customers import NewCustomer, create_customer

    sana, _ = await create_customer(shop.a, NewCustomer("Sana", phone="0321-7654321"), "sana")
    line = [checkouts.CheckoutLine(VariantRef(id=shop.kurta.id), 1)]
    paid = [checkouts.Payment(TenderType.CASH, Decimal("1000.00"))]
    hers, _ = await checkouts.checkout(shop.a, checkouts.Checkout(shop.c1.id, line, paid, "hers", customer_id=sana.id))
    query = "query($b: ID!, $c: ID) { sales(branchId: $b, first: 100, customerId: $c) { edges { node { id } } } }"
    found = await api(query, {"b": gid("Branch", shop.lahore.id), "c": gid("Customer", sana.id)})
    assert [e["node"]["id"] for e in found["sales"]["edges"]] == [gid("Sale", hers.id)]
    nobody = await api(query, {"b": gid("Branch", shop.lahore.id), "c": gid("Customer", sana.id + 99)})
    assert nobody["sales"]["edges"] == []
