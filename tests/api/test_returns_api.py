"""createReturn and createExchange over GraphQL: payloads, typed errors, branch scope."""

from decimal import Decimal

import pytest

from models.sales import SaleReturn
from models.staff import Role
from models.stock import StockLevel
from operations.counter.registers import open_register
from operations.directory.branches import NewCounter, create_counter
from operations.directory.staff import authenticate
from operations.kernel.access import SYSTEM
from schema.ids import global_id
from tests.factories import make_branch, make_variants, stock

CHECKOUT = """mutation($c: ID!, $k: String!) { checkout(input: {counterId: $c, idempotencyKey: $k,
  orderDiscount: "300.00", lines: [{variant: {sku: "K-0"}, quantity: 3},
    {variant: {sku: "K-1"}, quantity: 2, discount: "100.00"}],
  tenders: [{type: CASH, amount: "8140.00"}]}) { sale { id number total { amount } } errors { code field } } }"""
RETURN = """mutation($input: CreateReturnInput!) { createReturn(input: $input) {
  saleReturn { id number total { amount currency } cashPaidOut { amount } branch { code }
    lines { lineNo sku quantity restock discount { amount } net { amount } tax { amount } total { amount } }
    tenders { type amount { amount } } exchangeSale { id }
    sale { number status refundedTotal { amount } lines { lineNo returnedQuantity } } }
  errors { code field message } } }"""
EXCHANGE = """mutation($input: CreateExchangeInput!) { createExchange(input: $input) {
  saleReturn { number total { amount } exchangeSale { number } }
  sale { number total { amount } paid { amount } changeDue { amount } lines { sku quantity } }
  errors { code field message } } }"""
NODE = "query($id: ID!) { node(id: $id) { ... on SaleReturn { number lines { sku quantity restock } } } }"


def gid(kind: str, pk: int) -> str:
    return str(global_id(kind, pk))


@pytest.fixture
async def store(anonymous, db):
    """Lahore sells a discounted basket (8140.00); Karachi has a counter and its own cashier."""
    s = type("Store", (), {})()
    s.lahore, s.karachi = await make_branch("LHR"), await make_branch("KHI")
    s.lhr_counter, _ = await create_counter(SYSTEM, NewCounter(s.lahore.id, "C1", "Counter 1"))
    s.khi_counter, _ = await create_counter(SYSTEM, NewCounter(s.karachi.id, "C1", "Counter 1"))
    s.kurta, s.shawl = await make_variants(2, prefix="K")
    await s.kurta.__class__.filter(id=s.kurta.id).update(price=Decimal("1180.00"), tax_rate=Decimal("18.00"))
    await s.shawl.__class__.filter(id=s.shawl.id).update(price=Decimal("2500.00"), tax_rate=Decimal("18.00"))
    for v in (s.kurta, s.shawl):
        await stock(s.lahore.id, v.id, 10)
    s.lhr = await anonymous.as_staff(Role.CASHIER, [s.lahore.id], pin="1593")
    s.khi = await anonymous.as_staff(Role.CASHIER, [s.karachi.id], pin="2684")
    await open_register(await authenticate(s.lhr.token), s.lhr_counter.id, Decimal("1000.00"), "open-lhr")
    await open_register(await authenticate(s.khi.token), s.khi_counter.id, Decimal("1000.00"), "open-khi")
    body = await s.lhr(CHECKOUT, {"c": gid("Counter", s.lhr_counter.id), "k": "sale-1"})
    s.sale = body["checkout"]["sale"]
    assert s.sale["total"]["amount"] == "8140.00", body
    return s


def return_input(store, counter, lines, refunds, key="r1", **kw) -> dict:
    return {
        "input": {
            "sale": {"id": store.sale["id"]},
            "counterId": gid("Counter", counter.id),
            "lines": [{"lineNo": n, "quantity": q, "restock": r} for n, q, r in lines],
            "refunds": [{"type": t, "amount": a} for t, a in refunds],
            "idempotencyKey": key,
            **kw,
        }
    }


async def test_a_partial_return_refunds_the_pro_rated_amount(store):
    variables = return_input(store, store.lhr_counter, [(1, 1, "RESTOCK"), (2, 1, "DAMAGED")], [("CASH", "3500.97")])
    doc = (await store.lhr(RETURN, variables))["createReturn"]
    assert doc["errors"] == []
    r = doc["saleReturn"]
    assert (r["number"], r["total"], r["cashPaidOut"]["amount"]) == (
        "R-LHR-C1-000001",
        {"amount": "3500.97", "currency": "PKR"},
        "3500.97",
    )
    assert r["lines"] == [
        {
            "lineNo": 1,
            "sku": "K-0",
            "quantity": 1,
            "restock": "RESTOCK",
            "discount": {"amount": "41.94"},
            "net": {"amount": "964.45"},
            "tax": {"amount": "173.60"},
            "total": {"amount": "1138.05"},
        },
        {
            "lineNo": 2,
            "sku": "K-1",
            "quantity": 1,
            "restock": "DAMAGED",
            "discount": {"amount": "137.09"},
            "net": {"amount": "2002.47"},
            "tax": {"amount": "360.45"},
            "total": {"amount": "2362.92"},
        },
    ]
    assert r["tenders"] == [{"type": "CASH", "amount": {"amount": "3500.97"}}] and r["exchangeSale"] is None
    assert r["sale"]["status"] == "UPDATED" and r["sale"]["refundedTotal"]["amount"] == "3500.97"
    assert r["sale"]["lines"] == [{"lineNo": 1, "returnedQuantity": 1}, {"lineNo": 2, "returnedQuantity": 1}]
    # Replayed with the same key: the same return, nothing done twice.
    again = (await store.lhr(RETURN, variables))["createReturn"]["saleReturn"]
    assert again["id"] == r["id"] and await SaleReturn.all().count() == 1
    node = (await store.lhr(NODE, {"id": r["id"]}))["node"]
    assert node["number"] == "R-LHR-C1-000001" and node["lines"][1]["restock"] == "DAMAGED"
    assert (await store.khi(NODE, {"id": r["id"]}))["node"] is None  # Karachi does not see Lahore's returns


async def test_bad_returns_are_typed_errors(store):
    cases = [
        (
            return_input(store, store.lhr_counter, [(1, 4, "RESTOCK")], [("CASH", "4552.20")]),
            "INVALID",
            "lines.0.quantity",
        ),
        (return_input(store, store.lhr_counter, [(1, 1, "RESTOCK")], [("CASH", "1.00")]), "INVALID", "refunds"),
        (return_input(store, store.lhr_counter, [(9, 1, "RESTOCK")], []), "NOT_FOUND", "lines.0.lineNo"),
        (return_input(store, store.lhr_counter, [(1, 1, "RESTOCK")], [], sale={"id": "nope"}), "INVALID", "sale.id"),
    ]
    for variables, code, field in cases:
        result = (await store.lhr(RETURN, variables))["createReturn"]
        assert result["saleReturn"] is None
        assert (result["errors"][0]["code"], result["errors"][0]["field"]) == (code, field), result
    assert "only 3 left" in (await store.lhr(RETURN, cases[0][0]))["createReturn"]["errors"][0]["message"]
    # The sale by its ID or its number, not both (SaleRefInput is @oneOf): refused before anything runs.
    both = {"id": store.sale["id"], "number": store.sale["number"]}
    body = await store.lhr.raw(RETURN, return_input(store, store.lhr_counter, [(1, 1, "RESTOCK")], [], sale=both))
    assert body.get("data") is None and body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}, body
    assert body["errors"][0]["message"].startswith("Variable '$input' has invalid value at .sale"), body
    assert await SaleReturn.all().count() == 0


async def test_returns_at_another_branch_but_only_by_its_own_staff(store):
    by_number = return_input(
        store, store.khi_counter, [(1, 2, "RESTOCK")], [("CARD", "2276.12")], sale={"number": store.sale["number"]}
    )
    # A Lahore cashier may not take returns at a Karachi counter.
    body = await store.lhr.raw(RETURN, by_number)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    result = (await store.khi(RETURN, by_number))["createReturn"]
    assert result["errors"] == [] and result["saleReturn"]["number"] == "R-KHI-C1-000001"
    assert result["saleReturn"]["branch"]["code"] == "KHI"
    assert (await StockLevel.get(branch_id=store.karachi.id, variant_id=store.kurta.id)).on_hand == 2
    assert (await StockLevel.get(branch_id=store.lahore.id, variant_id=store.kurta.id)).on_hand == 7


async def test_exchange_pays_the_difference_or_writes_nothing(store):
    def exchange(new_quantity: int, key: str, tenders) -> dict:
        return {
            "input": {
                "sale": {"number": store.sale["number"]},
                "counterId": gid("Counter", store.lhr_counter.id),
                "returnLines": [{"lineNo": 1, "quantity": 1, "restock": "RESTOCK"}],
                "newLines": [{"variant": {"sku": "K-1"}, "quantity": new_quantity}],
                "tenders": [{"type": "CASH", "amount": a} for a in tenders],
                "idempotencyKey": key,
            }
        }

    short = (await store.lhr(EXCHANGE, exchange(9, "x0", ["30000.00"])))["createExchange"]
    assert short["sale"] is None and short["errors"][0]["code"] == "INSUFFICIENT_STOCK"
    assert short["errors"][0]["field"] == "newLines.0.quantity"
    assert await SaleReturn.all().count() == 0
    # A kurta back (1138.05 of the discounted sale) for a shawl at 2500.00: 1361.95 to pay.
    result = (await store.lhr(EXCHANGE, exchange(1, "x1", ["1400.00"])))["createExchange"]
    assert result["errors"] == []
    assert result["saleReturn"]["total"]["amount"] == "1138.05"
    assert result["saleReturn"]["exchangeSale"]["number"] == result["sale"]["number"] == "LHR-C1-000002"
    assert (
        result["sale"]["total"]["amount"],
        result["sale"]["paid"]["amount"],
        result["sale"]["changeDue"]["amount"],
    ) == (
        "2500.00",
        "2538.05",
        "38.05",
    )
    assert (await StockLevel.get(branch_id=store.lahore.id, variant_id=store.shawl.id)).on_hand == 7
    assert (await StockLevel.get(branch_id=store.lahore.id, variant_id=store.kurta.id)).on_hand == 8
