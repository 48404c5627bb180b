"""Drafts, voids and offline uploads over GraphQL."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from models.sales import Sale, SaleStatus, TenderType
from models.staff import AuditEntry, Role
from models.stock import StockLevel, StockMovement
from operations.counter import checkouts as checkout
from operations.counter.registers import open_register
from operations.directory.branches import NewCounter, create_counter
from operations.directory.catalog import VariantRef
from operations.directory.staff import authenticate
from operations.kernel.access import SYSTEM
from operations.stock.adjustments import check_ledger
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
        f' idempotencyKey: "park-1", lines: [{{variant: {{sku: $sku}}, quantity: 1}}]}}) {{ {SALE} }} }}',
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
        f'mutation($s: ID!) {{ voidSale(input: {{saleId: $s, managerPin: "343917", reason: "wrong shade",'
        f' idempotencyKey: "void-1"}}) {{ {SALE} }} }}',
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
            "lines": [{"variant": {"sku": v.sku}, "quantity": 3}],
            "tenders": [{"type": "CASH", "amount": "3000"}],
        },
        {
            "offlineId": "tab-2",
            "occurredAt": when,
            "lines": [{"variant": {"sku": "NOPE"}, "quantity": 1}],
            "tenders": [{"type": "CASH", "amount": "10"}],
        },
    ]
    first = (await cashier(upload, {"c": c, "sales": sales}))["syncOfflineSales"]["results"]
    again = (await cashier(upload, {"c": c, "sales": sales}))["syncOfflineSales"]["results"]
    assert (first[0]["oversold"], first[0]["replayed"], again[0]["replayed"]) == (True, False, True)
    assert first[0]["sale"]["number"] == again[0]["sale"]["number"]
    assert first[1]["errors"] == [{"code": "NOT_FOUND", "field": "sales.1.lines.0.variant.sku"}]


async def _till(anonymous, code: str, units: int):
    """A branch with a counter, one variant with `units` in stock, a cashier (PIN 1290), a manager
    (PIN 343917) and an open register."""
    branch = await make_branch(code)
    counter, _ = await create_counter(SYSTEM, NewCounter(branch.id, "C1", "Counter 1"))
    [v] = await make_variants(1, prefix=f"{code}V")
    await stock(branch.id, v.id, units)
    cashier = await anonymous.as_staff(Role.CASHIER, [branch.id], pin="1290")
    await anonymous.as_staff(Role.BRANCH_MANAGER, [branch.id], pin="343917")
    actor = await authenticate(cashier.token)
    await open_register(actor, counter.id, Decimal("0"), f"open-{code}")
    return branch, counter, v, cashier, actor


async def _level(branch, variant) -> tuple[int, int]:
    row = await StockLevel.get(branch_id=branch.id, variant_id=variant.id)
    return row.on_hand, row.reserved


VOID = f"""mutation($s: ID!, $why: String!, $k: String!) {{
  voidSale(input: {{saleId: $s, managerPin: "343917", reason: $why, idempotencyKey: $k}}) {{ {SALE} }} }}"""


async def test_a_retried_void_returns_the_first_result_and_restocks_once(anonymous, db):
    branch, counter, v, cashier, actor = await _till(anonymous, "PEW", 5)
    sale, _ = await checkout.checkout(
        actor,
        checkout.Checkout(
            counter.id,
            [checkout.CheckoutLine(VariantRef(id=v.id), 2)],
            [checkout.Payment(TenderType.CASH, Decimal("2000.00"))],
            "sell-1",
        ),
    )
    assert await _level(branch, v) == (3, 0)
    s = str(global_id("Sale", sale.id))
    first = (await cashier(VOID, {"s": s, "why": "wrong size", "k": "void-1"}))["voidSale"]
    assert first["errors"] == [] and first["sale"]["status"] == "VOIDED"
    assert await _level(branch, v) == (5, 0)
    again = (await cashier(VOID, {"s": s, "why": "wrong size", "k": "void-1"}))["voidSale"]
    assert again == first  # the first result, not "a voided sale cannot be voided"
    assert await _level(branch, v) == (5, 0)
    assert await StockMovement.filter(reason="void").count() == 1
    assert await AuditEntry.filter(action="sale.voided").count() == 1
    reused = (await cashier(VOID, {"s": s, "why": "changed mind", "k": "void-1"}))["voidSale"]
    assert reused["sale"] is None
    assert [(e["code"], e["field"]) for e in reused["errors"]] == [("IDEMPOTENCY_KEY_REUSED", "idempotencyKey")]
    other = (await cashier(VOID, {"s": s, "why": "wrong size", "k": "void-2"}))["voidSale"]
    assert [(e["code"], e["field"]) for e in other["errors"]] == [("WRONG_STATE", "saleId")]
    assert await _level(branch, v) == (5, 0) and await check_ledger() == ([], [])


SAVE = """mutation($c: ID!, $d: ID, $sku: String!, $q: Int!, $k: String!) {
  saveDraft(input: {counterId: $c, draftId: $d, holdMinutes: 30, idempotencyKey: $k,
                     lines: [{variant: {sku: $sku}, quantity: $q}]}) {
    sale { id status lines { quantity } } errors { field code message } } }"""


async def test_a_retried_save_draft_returns_the_first_result_and_holds_once(anonymous, db):
    branch, counter, v, cashier, _ = await _till(anonymous, "QTA", 10)
    c = str(global_id("Counter", counter.id))
    save = {"c": c, "d": None, "sku": v.sku}
    first = (await cashier(SAVE, {**save, "q": 2, "k": "park-1"}))["saveDraft"]
    assert first["errors"] == [] and first["sale"]["status"] == "DRAFT"
    again = (await cashier(SAVE, {**save, "q": 2, "k": "park-1"}))["saveDraft"]
    assert again == first
    assert await Sale.filter(status=SaleStatus.DRAFT).count() == 1 and await _level(branch, v) == (10, 2)
    reused = (await cashier(SAVE, {**save, "q": 1, "k": "park-1"}))["saveDraft"]
    assert reused["sale"] is None
    assert [(e["code"], e["field"]) for e in reused["errors"]] == [("IDEMPOTENCY_KEY_REUSED", "idempotencyKey")]
    assert await Sale.all().count() == 1 and await _level(branch, v) == (10, 2)

    # Edits: a retried edit is not applied again over a later one.
    edit = {**save, "d": first["sale"]["id"]}
    assert (await cashier(SAVE, {**edit, "q": 1, "k": "edit-1"}))["saveDraft"]["errors"] == []
    assert await _level(branch, v) == (10, 1)
    assert (await cashier(SAVE, {**edit, "q": 3, "k": "edit-2"}))["saveDraft"]["errors"] == []
    replayed = (await cashier(SAVE, {**edit, "q": 1, "k": "edit-1"}))["saveDraft"]
    assert replayed["errors"] == [] and replayed["sale"]["id"] == first["sale"]["id"]
    assert replayed["sale"]["lines"] == [{"quantity": 3}]
    assert await _level(branch, v) == (10, 3) and await check_ledger() == ([], [])
