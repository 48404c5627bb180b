"""Fiscal reporting over GraphQL: registering a counter (owner/admin, typed refusals, replayed keys), the token
(never returned), a sale's fiscal document and QR, fiscalStatus per branch, requeueFiscal."""

from decimal import Decimal

from models.catalog import Variant
from models.fiscal import FiscalCredential
from models.staff import AuditEntry, Role
from operations.counter.registers import open_register
from operations.directory.branches import NewCounter, create_counter
from operations.directory.staff import authenticate
from operations.fiscal import drain_fiscal
from operations.kernel.access import SYSTEM
from schema.ids import global_id
from tests.factories import make_branch, make_variants, stock

REGISTER = """mutation($input: SetCounterFiscalRegistrationInput!) { setCounterFiscalRegistration(input: $input) {
  counter { id fiscalPosId fiscalRegistered } errors { field message code } } }"""
TOKEN = """mutation($input: SetFiscalTokenInput!) { setFiscalToken(input: $input) {
  authority updatedAt errors { field message code } } }"""
AUTHORITY = """mutation($input: SetBranchFiscalAuthorityInput!) { setBranchFiscalAuthority(input: $input) {
  branch { id } errors { field message code } } }"""
CHECKOUT = """mutation($input: CheckoutInput!) { checkout(input: $input) {
  sale { id number fiscal { status usin fiscalNumber qrContent qrSvg qrPngDataUrl flag } }
  errors { field message code } } }"""
SALE = """query($id: ID!) { node(id: $id) { ... on Sale { receiptText(widthMm: 58)
  fiscal { status fiscalNumber qrContent qrSvg qrPngDataUrl } } } }"""
STATUS = """query { fiscalStatus { pending ageing parked flaggedCount oldestPendingAt ageingHours
  branches { branch { code } pending fiscalised notFiscalised flagged } flagged { usin flag } } }"""
REQUEUE = """mutation($input: RequeueFiscalInput!) { requeueFiscal(input: $input) { requeued errors { code } } }"""


async def test_register_a_counter_sell_and_see_the_fiscal_number(api, sim):
    branch = await make_branch("ISB")
    counter, _ = await create_counter(SYSTEM, NewCounter(branch.id, "C1", "Counter 1"))
    [v] = await make_variants(1)
    await Variant.filter(id=v.id).update(pct_code="62044200", price=Decimal("1180.00"), tax_rate=Decimal("18"))
    await stock(branch.id, v.id, 10)
    cid = str(global_id("Counter", counter.id))

    # A manager may not register; a malformed POSID is INVALID on posId; nothing changed.
    manager = await api.as_staff(Role.BRANCH_MANAGER, [branch.id], pin="902715")
    denied = await manager.raw(
        REGISTER, {"input": {"counterId": cid, "posId": "100002", "registered": True, "idempotencyKey": "r0"}}
    )
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = await api(
        REGISTER, {"input": {"counterId": cid, "posId": "10-002", "registered": True, "idempotencyKey": "r1"}}
    )
    assert bad["setCounterFiscalRegistration"]["errors"][0]["field"] == "posId"
    assert bad["setCounterFiscalRegistration"]["errors"][0]["code"] == "INVALID"
    request = {"input": {"counterId": cid, "posId": "100002", "registered": True, "idempotencyKey": "r2"}}
    done = await api(REGISTER, request)
    again = await api(REGISTER, request)
    assert done == again
    assert done["setCounterFiscalRegistration"]["counter"] == {
        "id": cid,
        "fiscalPosId": "100002",
        "fiscalRegistered": True,
    }
    assert await AuditEntry.filter(action="counter.fiscal_registration").count() == 1

    token = sim.authority.token("fbr", "sandbox")
    stored = await api(TOKEN, {"input": {"authority": "FBR", "token": token, "idempotencyKey": "t1"}})
    assert stored["setFiscalToken"]["authority"] == "FBR" and token not in str(stored)
    assert token not in (await FiscalCredential.get(authority="fbr")).token_encrypted
    authority = await api(
        AUTHORITY,
        {"input": {"branchId": str(global_id("Branch", branch.id)), "authority": "FBR", "idempotencyKey": "a1"}},
    )
    assert authority["setBranchFiscalAuthority"]["errors"] == []

    cashier = await api.as_staff(Role.CASHIER, [branch.id], pin="1357")
    await open_register(await authenticate(cashier.token), counter.id, Decimal("0"), "open")
    sold = await cashier(
        CHECKOUT,
        {
            "input": {
                "counterId": cid,
                "lines": [{"variant": {"sku": v.sku}, "quantity": 1}],
                "tenders": [{"type": "CASH", "amount": "1180.00"}],
                "idempotencyKey": "s1",
            }
        },
    )
    sale = sold["checkout"]["sale"]
    assert sale["fiscal"]["status"] == "PENDING" and sale["fiscal"]["qrSvg"] is None
    status = (await api(STATUS))["fiscalStatus"]
    assert status["pending"] == 1 and status["branches"][0]["branch"]["code"] == "ISB"

    await drain_fiscal(10)
    node = (await cashier(SALE, {"id": sale["id"]}))["node"]
    number = sim.invoices(sale["number"])[0].invoice_number
    assert node["fiscal"]["status"] == "FISCALISED" and node["fiscal"]["fiscalNumber"] == number
    assert node["fiscal"]["qrContent"] == number and node["fiscal"]["qrSvg"].lstrip().startswith("<")
    assert node["fiscal"]["qrPngDataUrl"].startswith("data:image/png;base64,")
    assert number in node["receiptText"]  # the reprint is the final receipt
    status = (await api(STATUS))["fiscalStatus"]
    assert (status["pending"], status["branches"][0]["fiscalised"]) == (0, 1)

    requeued = await api(REQUEUE, {"input": {"idempotencyKey": "q1"}})
    assert requeued["requeueFiscal"] == {"requeued": 0, "errors": []}
