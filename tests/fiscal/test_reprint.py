"""reprintReceipt: the receipt as the sale stands now ("fiscal number pending", then the number and the QR content),
marked as a duplicate, audited (who, which sale, when), once per key, and only for whoever may see the branch's
sales."""

from models.staff import AuditEntry, Role, Staff
from operations.counter import drafts
from operations.fiscal import drain_fiscal
from schema.ids import global_id
from tests.factories import make_branch
from tests.fiscal.test_reporting import sell

REPRINT = """mutation($input: ReprintReceiptInput!) { reprintReceipt(input: $input) {
  sale { id number } receiptText errors { field code } } }"""


def ask(key: str, sale: dict, width: int = 58) -> dict:
    return {"input": {"sale": sale, "widthMm": width, "idempotencyKey": key}}


async def test_a_reprint_shows_pending_then_the_number_and_is_audited(api, fshop):
    cashier = await api.as_staff(Role.CASHIER, [fshop.branch.id], pin="2468")
    staff = await Staff.filter(role=Role.CASHIER, email__endswith="@test.pk").get()
    sale = await sell(fshop)
    by_id = {"id": str(global_id("Sale", sale.id))}

    before = (await cashier(REPRINT, ask("p1", by_id)))["reprintReceipt"]
    assert before["errors"] == [] and before["sale"]["number"] == sale.number
    text = before["receiptText"]
    assert "FBR fiscal number pending" in text and "FBR Invoice" not in text
    assert "DUPLICATE COPY - NOT ORIGINAL" in text and "Reprinted " in text
    assert max(len(line) for line in text.splitlines()) <= 32  # 58 mm paper

    await drain_fiscal(10)
    number = fshop.sim.invoices(sale.number)[0].invoice_number
    after = (await cashier(REPRINT, ask("p2", {"number": sale.number}, 80)))["reprintReceipt"]
    text = after["receiptText"]
    assert f"FBR Invoice: {number}" in text and f"QR: {number}" in text and "pending" not in text
    assert "DUPLICATE COPY - NOT ORIGINAL" in text

    # The first request again: the same reprint, not audited twice; read as the sale stands now.
    again = (await cashier(REPRINT, ask("p1", by_id)))["reprintReceipt"]
    assert again["errors"] == [] and "FBR Invoice:" in again["receiptText"]  # 58 mm: the number wraps
    assert number in again["receiptText"] and "pending" not in again["receiptText"]
    entries = await AuditEntry.filter(action="sale.receipt_reprinted").order_by("id")
    assert [(e.actor_staff_id, e.branch_id, e.target_type, e.target_id) for e in entries] == [
        (staff.id, fshop.branch.id, "sale", str(sale.id))
    ] * 2
    assert entries[0].detail == {"number": sale.number, "width_mm": 58} and entries[0].at is not None

    reused = (await cashier(REPRINT, ask("p1", by_id, 80)))["reprintReceipt"]
    assert reused["errors"] == [{"field": "idempotencyKey", "code": "IDEMPOTENCY_KEY_REUSED"}]
    bad = (await cashier(REPRINT, ask("p3", by_id, 60)))["reprintReceipt"]
    assert bad["errors"] == [{"field": "widthMm", "code": "INVALID"}]
    unknown = (await cashier(REPRINT, ask("p4", {"number": "NOPE-1"})))["reprintReceipt"]
    assert unknown["errors"] == [{"field": "sale.number", "code": "NOT_FOUND"}]
    assert await AuditEntry.filter(action="sale.receipt_reprinted").count() == 2


async def test_a_cashier_of_another_branch_may_not_reprint(api, fshop):
    sale = await sell(fshop)
    other = await make_branch("ISB")
    stranger = await api.as_staff(Role.CASHIER, [other.id], pin="2468")
    for ref in ({"id": str(global_id("Sale", sale.id))}, {"number": sale.number}):
        denied = await stranger.raw(REPRINT, ask(f"x-{len(ref)}-{'id' in ref}", ref))
        assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await AuditEntry.filter(action="sale.receipt_reprinted").count() == 0


async def test_a_voided_sale_reprints_as_voided(api, fshop):
    sale = await sell(fshop)
    await drafts.void_sale(fshop.manager, sale.id, "902715", "rang up twice", "void-1")
    text = (await api(REPRINT, ask("v1", {"number": sale.number}, 80)))["reprintReceipt"]["receiptText"]
    assert "SALE VOIDED" in text and "DUPLICATE COPY - NOT ORIGINAL" in text
