"""checkout over GraphQL: the payload, the receipt, typed errors, and who may sell where."""

from decimal import Decimal

from models.sales import Sale
from models.staff import Role
from operations.counter.registers import open_register
from operations.directory.branches import NewCounter, create_counter
from operations.directory.staff import authenticate
from operations.kernel.access import SYSTEM
from schema.ids import global_id
from tests.factories import make_branch, make_variants, stock

CHECKOUT = """mutation($input: CheckoutInput!) { checkout(input: $input) {
  sale { id number status total { amount currency } changeDue { amount } taxTotal { amount }
         lines { lineNo sku quantity total { amount } } tenders { type amount { amount } }
         receiptText(widthMm: 58) }
  errors { field message code } } }"""


async def test_cashier_sells_at_own_counter_and_gets_a_receipt(anonymous, db):
    branch = await make_branch("ISB")
    counter, _ = await create_counter(SYSTEM, NewCounter(branch.id, "C1", "Counter 1"))
    [v] = await make_variants(1, prefix="SHWL")
    await stock(branch.id, v.id, 3)
    cashier = await anonymous.as_staff(Role.CASHIER, [branch.id], pin="1357")
    await open_register(await authenticate(cashier.token), counter.id, Decimal("1000.00"), "open")
    line = {"variant": {"sku": v.sku}, "quantity": 2}
    data = await cashier(
        CHECKOUT,
        {
            "input": {
                "counterId": str(global_id("Counter", counter.id)),
                "lines": [line],
                "tenders": [
                    {"type": "CARD", "amount": "1500.00", "reference": "4242"},
                    {"type": "CASH", "amount": "1000"},
                ],
                "idempotencyKey": "isb-1",
            }
        },
    )
    sale = data["checkout"]["sale"]
    assert data["checkout"]["errors"] == []
    assert (sale["number"], sale["status"], sale["total"]["amount"], sale["changeDue"]["amount"]) == (
        "ISB-C1-000001",
        "PLACED",
        "2000.00",
        "500.00",
    )
    assert [t["type"] for t in sale["tenders"]] == ["CARD", "CASH"]
    assert "ISB-C1-000001" in sale["receiptText"] and max(map(len, sale["receiptText"].splitlines())) <= 32
    again = await cashier(
        CHECKOUT,
        {
            "input": {
                "counterId": str(global_id("Counter", counter.id)),
                "lines": [{"variant": {"sku": v.sku}, "quantity": 2}],
                "tenders": [
                    {"type": "CARD", "amount": "1500.00", "reference": "4242"},
                    {"type": "CASH", "amount": "1000"},
                ],
                "idempotencyKey": "isb-1",
            }
        },
    )
    assert again["checkout"]["sale"]["id"] == sale["id"]
    short = await cashier(
        CHECKOUT,
        {
            "input": {
                "counterId": str(global_id("Counter", counter.id)),
                "lines": [{"variant": {"sku": v.sku}, "quantity": 5}],
                "tenders": [{"type": "CASH", "amount": "99999"}],
                "idempotencyKey": "isb-2",
            }
        },
    )
    assert short["checkout"]["errors"][0]["code"] == "INSUFFICIENT_STOCK"
    listed = await cashier(
        "query($b: ID!) { sales(branchId: $b, first: 10) { edges { node { number } } } }",
        {"b": str(global_id("Branch", branch.id))},
    )
    assert [e["node"]["number"] for e in listed["sales"]["edges"]] == ["ISB-C1-000001"]
    inventory = await anonymous.as_staff(Role.INVENTORY, [branch.id])
    body = await inventory.raw(
        CHECKOUT,
        {
            "input": {
                "counterId": str(global_id("Counter", counter.id)),
                "lines": [{"variant": {"sku": v.sku}, "quantity": 1}],
                "tenders": [{"type": "CASH", "amount": "1000"}],
                "idempotencyKey": "inv-1",
            }
        },
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_line_naming_its_variant_two_ways_or_none_is_a_client_error(anonymous, db):
    """VariantRefInput is @oneOf: GraphQL refuses two keys, none or a null one before anything runs, as the
    client's mistake with the path of the line (never "Unexpected error.")."""
    branch = await make_branch("MUX")
    counter, _ = await create_counter(SYSTEM, NewCounter(branch.id, "C1", "Counter 1"))
    [v] = await make_variants(1, prefix="OOF")
    await stock(branch.id, v.id, 3)
    cashier = await anonymous.as_staff(Role.CASHIER, [branch.id], pin="1357")
    await open_register(await authenticate(cashier.token), counter.id, Decimal("0"), "open")
    c = str(global_id("Counter", counter.id))
    for variant in ({"sku": v.sku, "id": str(global_id("Variant", v.id))}, {}, {"sku": None}):
        sale = {"counterId": c, "idempotencyKey": "k", "tenders": [{"type": "CASH", "amount": "1000"}]}
        lines = [{"variant": {"sku": v.sku}, "quantity": 1}, {"variant": variant, "quantity": 1}]
        body = await cashier.raw(CHECKOUT, {"input": sale | {"lines": lines}})
        assert body.get("data") is None and "Unexpected error." not in str(body), body
        [error] = body["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT"}, body
        assert error["message"].startswith("Variable '$input' has invalid value at .lines[1].variant"), body
        assert "exactly one field must be specified" in error["message"], body
    literal = (
        'mutation { checkout(input: {counterId: "%s", idempotencyKey: "k", tenders: [{type: CASH, amount: "1000"}],'
        ' lines: [{variant: {sku: "%s", barcode: "8960000000011"}, quantity: 1}]}) { errors { code } } }'
    )
    body = await cashier.raw(literal % (c, v.sku))
    assert body.get("data") is None and "Unexpected error." not in str(body), body
    [error] = body["errors"]
    assert "exactly one field must be specified" in error["message"] and error["locations"], body
    assert await Sale.all().count() == 0
