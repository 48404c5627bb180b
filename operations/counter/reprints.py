"""Reprinting a sale's receipt: the text as the sale stands now (its fiscal number and QR once back), marked as a
duplicate so a shop never hands out a second original, and audited (who reprinted which sale, when)."""

from dataclasses import replace

from models.sales import Sale, SaleStatus
from models.staff import AuditEntry
from operations.counter.checkouts import receipt_for
from operations.counter.receipts import WIDTHS, render_thermal
from operations.counter.returns import original
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problems,
    record_audit,
    require,
    run_once,
    transaction,
)


async def reprint_receipt(
    actor: Actor, sale_id: int | None, sale_number: str | None, width_mm: int, idempotency_key: str
) -> tuple[Sale, str, bool]:
    """(the sale, the duplicate receipt's text, replayed). Whoever may see the branch's sales may reprint them, as
    they may read `Sale.receiptText`. A retry under the same key is the same reprint: audited once, stamped with
    the first reprint's time, its text still read as the sale stands now (a number back since is printed)."""
    problems = Problems()
    problems.check_key(idempotency_key, required=True)
    if width_mm not in WIDTHS:
        problems.add(ErrorCode.INVALID, f"widthMm is one of {', '.join(map(str, sorted(WIDTHS)))}", "widthMm")
    problems.raise_if_any()
    sale = await original(sale_id, sale_number)
    require(actor, Permission.VIEW_SALES, sale.branch_id)
    if sale.status is SaleStatus.DRAFT:
        raise OperationError.single(ErrorCode.WRONG_STATE, "a draft has no receipt to reprint", "sale")

    async def reprint() -> AuditEntry:
        return await record_audit(
            actor,
            "sale.receipt_reprinted",
            branch_id=sale.branch_id,
            target=("sale", sale.id),
            number=sale.number,
            width_mm=width_mm,
        )

    async with transaction() as tx:
        request = {"sale": sale.id, "widthMm": width_mm}
        entry, replayed = await run_once(
            tx, "reprintReceipt", idempotency_key, request, reprint, lambda pk: AuditEntry.get(id=pk)
        )
    sale = await Sale.get(id=sale.id)
    receipt = replace(await receipt_for(sale), reprinted_at=entry.at, voided=sale.status is SaleStatus.VOIDED)
    return sale, render_thermal(receipt, width_mm), replayed
