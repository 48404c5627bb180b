"""The invoice a fiscal document reports, built from what was stored when the worker first sends it.

- a sale: USIN = the sale number, one item per line (SKU, description, PCT code, quantity, rate, the value
  tax is computed on after discounts, the discount, the tax, the line total), the payment mode from its
  tenders, the buyer above the threshold, the sale's own time (an offline sale's, not its upload's);
- a return (or an exchange's return): a credit note, InvoiceType 3 with RefUSIN = the sale's USIN, one item per
  returned line with the return's amounts;
- a void: a credit note for the whole sale.

Amounts are positive on credit notes, as the public samples send them (fbr/invoice.py's options say why).
The POS fee is the invoice's `service_fee`: printed on the receipt, kept out of the tax fields.
"""

from decimal import Decimal

from fbr.invoice import (
    Authority,
    Buyer,
    FiscalInvoice,
    FiscalItem,
    InvoiceType,
    ItemInvoiceType,
    PaymentMode,
    payment_mode,
)
from models.customers import Customer
from models.fiscal import FiscalDocument, FiscalKind
from models.sales import ReturnLine, Sale, SaleLine, Tender
from operations.kernel import current_settings

ZERO = Decimal(0)


def tender_mode(tenders: list[Tender]) -> PaymentMode:
    """Cash 1, card 2, a bank transfer or wallet (no code of its own) 2, more than one kind 5 (fbr/invoice.py)."""
    return payment_mode(t.type.value for t in tenders)


def pct_code(line: SaleLine) -> str:
    return (line.pct_code or "").replace(".", "").strip() or current_settings().fiscal.default_pct_code


async def _buyer(sale: Sale) -> Buyer:
    """The buyer is named above the threshold (SRO 1006), from the sale's customer."""
    if sale.customer_id is None or sale.total <= current_settings().fiscal.buyer_threshold:
        return Buyer()
    customer = await Customer.get_or_none(id=sale.customer_id)
    if customer is None:
        return Buyer()
    return Buyer(
        name=customer.display_name[:150], ntn=customer.ntn or "", cnic=customer.cnic or "", phone=customer.phone or ""
    )


def _item(line: SaleLine, quantity: int, net, discount, tax, total, kind: ItemInvoiceType, ref) -> FiscalItem:
    return FiscalItem(
        item_code=line.sku[:50],
        item_name=(line.description or line.sku)[:150],
        pct_code=pct_code(line),
        quantity=Decimal(quantity),
        tax_rate=Decimal(line.tax_rate),
        sale_value=Decimal(net),
        tax_charged=Decimal(tax),
        total_amount=Decimal(total),
        discount=Decimal(discount),
        invoice_type=kind,
        ref_usin=ref,
    )


async def invoice_for(doc: FiscalDocument) -> FiscalInvoice:
    sale = await Sale.get(id=doc.sale_id)
    lines = {line.id: line for line in await SaleLine.filter(sale_id=sale.id).order_by("line_no")}
    if doc.kind is FiscalKind.INVOICE:
        kind, ref, fee = InvoiceType.NEW, None, current_settings().fiscal.pos_fee
        items = [
            _item(
                line,
                line.quantity,
                line.net,
                line.line_discount + line.order_discount,
                line.tax,
                line.total,
                ItemInvoiceType.NEW,
                None,
            )
            for line in lines.values()
        ]
        tenders = await Tender.filter(sale_id=sale.id)
    elif doc.sale_return_id is not None:
        kind, ref, fee = InvoiceType.CREDIT, doc.ref_usin, ZERO
        items = [
            _item(lines[r.sale_line_id], r.quantity, r.net, r.discount, r.tax, r.total, ItemInvoiceType.CREDIT, ref)
            for r in await ReturnLine.filter(sale_return_id=doc.sale_return_id).order_by("id")
        ]
        tenders = await Tender.filter(sale_return_id=doc.sale_return_id) or await Tender.filter(sale_id=sale.id)
    else:  # a void: the whole sale back
        kind, ref, fee = InvoiceType.CREDIT, doc.ref_usin, ZERO
        items = [
            _item(
                line,
                line.quantity,
                line.net,
                line.line_discount + line.order_discount,
                line.tax,
                line.total,
                ItemInvoiceType.CREDIT,
                ref,
            )
            for line in lines.values()
        ]
        tenders = await Tender.filter(sale_id=sale.id)
    return FiscalInvoice.summed(
        usin=doc.usin,
        pos_id=int(doc.pos_id or 0),
        issued_at=doc.issued_at,
        items=items,
        payment_mode=tender_mode(list(tenders)),
        invoice_type=kind,
        ref_usin=ref,
        buyer=await _buyer(sale) if kind is InvoiceType.NEW else Buyer(),
        authority=Authority(doc.authority.value),
        service_fee=fee,
    )
