"""The fiscal documents a sale, a return or a void owes the authority, written in its own transaction.

The counter never waits for FBR (or PRA): it writes one `FiscalDocument` and one outbox row naming it, and the
fiscal worker (operations/fiscal/) builds the invoice from the stored sale when it sends. A counter that is not
registered writes its document as `not_fiscalised` and no outbox row: the sale is still made, and is visible
as not reported. What a person should look at (a line without a PCT code, a buyer missing above the
threshold) is a flag on the document; it is still reported.
"""

from datetime import datetime
from decimal import Decimal

from models.branches import Branch, Counter
from models.customers import Customer
from models.fiscal import FiscalAuthority, FiscalDocument, FiscalKind, FiscalStatus
from models.outbox import OutboxRow
from models.sales import Sale, SaleLine, SaleReturn
from operations.kernel import AboveThreshold, ErrorCode, OperationError, current_settings

INVOICE_TOPIC = "fbr.invoice"
CREDIT_NOTE_TOPIC = "fbr.credit_note"


def buyer_named(customer: Customer | None) -> bool:
    """SRO 1006: above the threshold the invoice carries the buyer's name and CNIC or NTN."""
    return bool(customer and customer.display_name.strip() and (customer.cnic or customer.ntn))


def above_threshold(total: Decimal) -> bool:
    return total > current_settings().fiscal.buyer_threshold


async def check_buyer(counter: Counter, total: Decimal, customer_id: int | None, field: str = "customerId") -> None:
    """At checkout, on a registered counter, with the setting `refuse`: a sale above the threshold without a
    named buyer is refused (BUYER_DETAILS_REQUIRED), before anything is written."""
    fiscal = current_settings().fiscal
    if (
        not counter.fiscal_registered
        or not above_threshold(total)
        or fiscal.above_threshold is not AboveThreshold.REFUSE
    ):
        return
    customer = await Customer.get_or_none(id=customer_id) if customer_id else None
    if not buyer_named(customer):
        raise OperationError.single(
            ErrorCode.BUYER_DETAILS_REQUIRED,
            f"a sale above {fiscal.buyer_threshold} names its buyer: a customer with a name and a CNIC or NTN",
            field,
        )


async def _authority(branch_id: int) -> FiscalAuthority:
    [authority] = await Branch.filter(id=branch_id).values_list("fiscal_authority", flat=True)
    return FiscalAuthority(authority)


async def _write(
    *,
    kind: FiscalKind,
    sale: Sale,
    counter: Counter,
    usin: str,
    issued_at: datetime,
    ref_usin=None,
    sale_return=None,
    pct_codes: list[tuple[str, str | None]] | None = None,
    authority: FiscalAuthority | None = None,
) -> FiscalDocument:
    flags = []
    status = (
        FiscalStatus.PENDING if counter.fiscal_registered and counter.fiscal_pos_id else FiscalStatus.NOT_FISCALISED
    )
    if kind is FiscalKind.INVOICE:
        lines = (
            pct_codes
            if pct_codes is not None
            else await SaleLine.filter(sale_id=sale.id).values_list("sku", "pct_code")
        )
        missing = sorted({sku for sku, pct in lines if not (pct or "").strip()})
        if missing:
            flags.append("no PCT code: " + ", ".join(missing))
        if above_threshold(sale.total):
            customer = await Customer.get_or_none(id=sale.customer_id) if sale.customer_id else None
            if not buyer_named(customer):
                flags.append("buyer not named above the threshold")
    else:
        original = await FiscalDocument.get_or_none(sale_id=sale.id, kind=FiscalKind.INVOICE)
        if original is None or original.status is FiscalStatus.NOT_FISCALISED:
            # Nothing reported to credit (a sale from an unregistered counter, or from before fiscal reporting).
            status = FiscalStatus.NOT_FISCALISED
            if counter.fiscal_registered:
                flags.append("the original sale was not fiscalised")
    doc = await FiscalDocument.create(
        kind=kind,
        sale_id=sale.id,
        sale_return_id=sale_return.id if sale_return else None,
        branch_id=counter.branch_id,
        counter_id=counter.id,
        authority=authority or await _authority(counter.branch_id),
        pos_id=counter.fiscal_pos_id,
        usin=usin,
        ref_usin=ref_usin,
        status=status,
        flag="; ".join(flags)[:300] or None,
        issued_at=issued_at,
    )
    if status is FiscalStatus.PENDING:
        topic = INVOICE_TOPIC if kind is FiscalKind.INVOICE else CREDIT_NOTE_TOPIC
        await OutboxRow.create(topic=topic, key=f"fbr:{usin}", payload={"kind": kind.value, "document": doc.id})
    return doc


async def queue_invoice(
    sale: Sale,
    counter: Counter,
    *,
    pct_codes: list[tuple[str, str | None]] | None = None,
    authority: FiscalAuthority | None = None,
) -> FiscalDocument:
    """A placed sale's invoice: USIN = the sale number, its time the sale's own (an offline sale's too).
    Call inside the sale's transaction, after its lines are written. A caller that has just written the lines
    may pass their (SKU, PCT code) and the branch's authority, which are otherwise read back."""
    return await _write(
        kind=FiscalKind.INVOICE,
        sale=sale,
        counter=counter,
        usin=sale.number,
        issued_at=sale.occurred_at,
        pct_codes=pct_codes,
        authority=authority,
    )


async def queue_return_credit(doc: SaleReturn, sale: Sale, counter: Counter) -> FiscalDocument:
    """A return's (or an exchange's return's) credit note: USIN = the return number, RefUSIN = the sale's."""
    return await _write(
        kind=FiscalKind.CREDIT_NOTE,
        sale=sale,
        counter=counter,
        usin=doc.number,
        ref_usin=sale.number,
        issued_at=doc.created_at,
        sale_return=doc,
    )


async def queue_void_credit(sale: Sale, counter: Counter, when: datetime) -> FiscalDocument:
    """A voided sale's credit note for all of it: its invoice was (or will be) reported, and the authority has
    no cancelling, only crediting (docs/fbr.md)."""
    return await _write(
        kind=FiscalKind.CREDIT_NOTE,
        sale=sale,
        counter=counter,
        usin=f"V-{sale.number}",
        ref_usin=sale.number,
        issued_at=when,
    )
