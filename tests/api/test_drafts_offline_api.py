"""Drafts, voids and offline uploads over GraphQL."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from models.staff import Role
from operations.counter.registers import open_register
from operations.directory.branches import NewCounter, create_counter
from operations.directory.staff import authenticate
from operations.kernel.access import SYSTEM
from schema.ids import global_id
from tests.factories import make_branch, make_variants, stock

SALE = "sale { id number status total { amount } } errors { field code message }"


async def test_park_place_void_and_upload_offline(anonymous, db):
    branch = await make_branch("KHI")
    counter, _ = await create_counter(SYSTEM, NewCounter(branch.id, "C1", "Counter 1"))
    [v] = await make_variants(1, prefix="LIP")
    await stock(branch.id, v.id, 2)
    cashier = await anonymous.as_staff(Role.CASHIER, [branch.id], pin="1290")
    await anonymous.as_staff(Role.BRANCH_MANAGER, [branch.id], pin="343917")
    await open_register(await authenticate(cashier.token), counter.id, Decimal("0"), "open")
    c = str(global_id("Counter", counter.id))
    parked = await cashier(
        f"mutation($c: ID!, $sku: String!) {{ saveDraft(input: {{counterId: $c, holdMinutes: 15,"
        f" lines: [{{sku: $sku, quantity: 1}}]}}) {{ {SALE} }} }}",
        {"c": c, "sku": v.sku},
    )
    draft = parked["saveDraft"]["sale"]
    assert draft["status"] == "DRAFT" and draft["number"] is None
    placed = await cashier(
        f'mutation($d: ID!, $c: ID!) {{ placeDraft(input: {{draftId: $d, counterId: $c, idempotencyKey: "p1",'
        f' tenders: [{{type: CASH, amount: "1000"}}]}}) {{ {SALE} }} }}',
        {"d": draft["id"], "c": c},
    )
    assert placed["placeDraft"]["sale"]["number"] == "KHI-C1-000001"
    voided = await cashier(
        f'mutation($s: ID!) {{ voidSale(input: {{saleId: $s, managerPin: "343917", reason: "wrong shade"}})'
        f" {{ {SALE} }} }}",
        {"s": draft["id"]},
    )
    assert voided["voidSale"]["sale"]["status"] == "VOIDED"
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    upload = """mutation($c: ID!, $sales: [OfflineSaleInput!]!) {
      syncOfflineSales(input: {counterId: $c, sales: $sales}) {
      results { offlineId replayed oversold sale { number } errors { code field } } errors { code } } }"""
    sales = [
        {
            "offlineId": "tab-1",
            "occurredAt": when,
            "lines": [{"sku": v.sku, "quantity": 3}],
            "tenders": [{"type": "CASH", "amount": "3000"}],
        },
        {
            "offlineId": "tab-2",
            "occurredAt": when,
            "lines": [{"sku": "NOPE", "quantity": 1}],
            "tenders": [{"type": "CASH", "amount": "10"}],
        },
    ]
    first = (await cashier(upload, {"c": c, "sales": sales}))["syncOfflineSales"]["results"]
    again = (await cashier(upload, {"c": c, "sales": sales}))["syncOfflineSales"]["results"]
    assert (first[0]["oversold"], first[0]["replayed"], again[0]["replayed"]) == (True, False, True)
    assert first[0]["sale"]["number"] == again[0]["sale"]["number"]
    assert first[1]["errors"] == [{"code": "NOT_FOUND", "field": "sales.1.lines.0.sku"}]
