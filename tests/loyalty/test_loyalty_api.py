"""Loyalty over GraphQL: a branch's rate, a manager's adjustment, points as a tender, the wallet and its entries."""

from decimal import Decimal

from models.customers import Customer
from models.staff import AuditEntry, Role
from operations.counter.registers import open_register
from operations.directory.branches import NewCounter, create_counter
from operations.directory.staff import authenticate
from operations.kernel.access import SYSTEM
from schema.ids import global_id
from tests.api.conftest import anonymous, api  # noqa: F401  (fixtures)
from tests.factories import make_branch, make_variants, stock

RATE = """mutation($input: SetBranchLoyaltySettingsInput!) { setBranchLoyaltySettings(input: $input) {
  branch { id loyaltyPointsPer100Pkr } errors { field message code } } }"""
ADJUST = """mutation($input: AdjustLoyaltyPointsInput!) { adjustLoyaltyPoints(input: $input) {
  entry { kind points note } customer { loyalty { balance } } errors { field message code } } }"""
CHECKOUT = """mutation($input: CheckoutInput!) { checkout(input: $input) {
  sale { id number tenders { type amount { amount } } } errors { field message code } } }"""
WALLET = """query($id: ID!, $after: String) { node(id: $id) { ... on Customer {
  loyalty { balance value { amount } entries(first: 2, after: $after) {
    edges { node { kind points sale { number } } } pageInfo { hasNextPage endCursor } } } } } }"""


async def test_the_wallet_over_graphql(anonymous, api, db):  # noqa: F811
    branch = await make_branch()
    counter, _ = await create_counter(SYSTEM, NewCounter(branch.id, "C1", "Counter 1"))
    [v] = await make_variants(1)  # PKR 1000
    await stock(branch.id, v.id, 10)
    cashier = await anonymous.as_staff(Role.CASHIER, [branch.id], pin="1357")
    manager = await anonymous.as_staff(Role.BRANCH_MANAGER, [branch.id], pin="902715")
    await open_register(await authenticate(cashier.token), counter.id, Decimal("0"), "open")
    customer = await Customer.create(first_name="Ayesha", phone="+923001234567")
    branch_id, customer_id = str(global_id("Branch", branch.id)), str(global_id("Customer", customer.id))

    rate = {"input": {"branchId": branch_id, "pointsPer100Pkr": "2", "idempotencyKey": "rate-1"}}
    assert (await api(RATE, rate))["setBranchLoyaltySettings"]["branch"]["loyaltyPointsPer100Pkr"] == "2.00"

    adjust = {"input": {"customerId": customer_id, "points": 100, "reason": "welcome", "idempotencyKey": "adj-1"}}
    made = (await manager(ADJUST, adjust))["adjustLoyaltyPoints"]
    assert made == {
        "entry": {"kind": "ADJUST", "points": 100, "note": "welcome"},
        "customer": {"loyalty": {"balance": 100}},
        "errors": [],
    }
    assert (await manager(ADJUST, adjust))["adjustLoyaltyPoints"] == made  # replayed, not posted twice
    assert await AuditEntry.filter(action="loyalty.adjusted").count() == 1
    refused = await cashier.raw(ADJUST, {"input": {**adjust["input"], "idempotencyKey": "adj-2"}})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    def sale(key):
        return {
            "input": {
                "counterId": str(global_id("Counter", counter.id)),
                "lines": [{"variant": {"sku": v.sku}, "quantity": 1}],
                "tenders": [{"type": "LOYALTY", "amount": "100"}, {"type": "CASH", "amount": "900"}],
                "customer": {"phone": "0300-1234567"},
                "idempotencyKey": key,
            }
        }

    placed = (await cashier(CHECKOUT, sale("s-1")))["checkout"]
    assert placed["errors"] == []
    assert [t["type"] for t in placed["sale"]["tenders"]] == ["LOYALTY", "CASH"]
    short = (await cashier(CHECKOUT, sale("s-2")))["checkout"]
    assert short["sale"] is None
    assert [(e["code"], e["field"]) for e in short["errors"]] == [("INSUFFICIENT_POINTS", "tenders.0.amount")]

    wallet = (await cashier(WALLET, {"id": customer_id}))["node"]["loyalty"]
    assert (wallet["balance"], wallet["value"]["amount"]) == (18, "18.00")  # 100 − 100 + 900 × 2 / 100
    number = placed["sale"]["number"]
    assert [e["node"] for e in wallet["entries"]["edges"]] == [
        {"kind": "EARN", "points": 18, "sale": {"number": number}},
        {"kind": "REDEEM", "points": -100, "sale": {"number": number}},
    ]
    assert wallet["entries"]["pageInfo"]["hasNextPage"]
    after = wallet["entries"]["pageInfo"]["endCursor"]
    rest = (await cashier(WALLET, {"id": customer_id, "after": after}))["node"]["loyalty"]["entries"]
    assert [e["node"]["kind"] for e in rest["edges"]] == ["ADJUST"] and not rest["pageInfo"]["hasNextPage"]

    # The sales report by tender shows what points paid as its own tender (schema/reports.py ReportTender).
    by_tender = """query { salesReport(filter: {period: TODAY, groupBy: [TENDER_TYPE]}) {
      rows { tenderType total { amount } } } }"""
    rows = (await api(by_tender))["salesReport"]["rows"]
    assert {r["tenderType"]: r["total"]["amount"] for r in rows} == {"LOYALTY": "100.00", "CASH": "900.00"}
