"""Plain-text counter receipts for 58 mm and 80 mm thermal printers.

This module is deliberately pure: it takes an already-computed ``ReceiptData`` and
returns a string. Totals, tax splits and fiscal numbers are decided elsewhere (the
sale and fiscal modules); a receipt must print exactly what was charged, so nothing
here recalculates money. Keeping it free of I/O and the ORM also lets the same text
be printed, e-mailed, reprinted or golden-tested without a database.

Layout rules and why they exist:

* Thermal printers hard-wrap at a fixed character count (32 columns on 58 mm paper,
  48 on 80 mm). A line one character too long spills onto the next line and breaks
  the column alignment, so every line is built to fit and never relies on the printer.
* Many printers only have an ASCII code page, so anything else would print as garbage.
  Common typographic characters are transliterated, accents are stripped, and the rest
  becomes "?". Control characters are removed too: an ESC byte in a product title
  would be interpreted as an ESC/POS command (cut paper, open the cash drawer).
* Trailing spaces are dropped because some drivers count them and wrap early.
"""

import textwrap
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

# Paper width in mm -> printable characters per line with the printer's default font.
WIDTHS = {58: 32, 80: 48}

_CENT = Decimal("0.01")

# Characters that NFKD decomposition does not turn into ASCII but that have an obvious
# ASCII look-alike; seen in Shopify titles and branch names typed on phones.
_TRANSLITERATE = str.maketrans(
    {
        "–": "-",
        "—": "-",
        "‐": "-",
        "−": "-",
        "·": "-",
        "•": "-",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "…": "...",
        "×": "x",
        "₨": "Rs",
        "\u00a0": " ",
    }
)


@dataclass(frozen=True)
class ReceiptLine:
    description: str  # product title + variant (e.g. "Gulnar Lawn 3-Pc Rust")
    sku: str
    quantity: int
    unit_price: Decimal
    discount: Decimal  # line + order discount share, amount
    total: Decimal  # what the customer pays for the line
    tax_rate: Decimal  # percent


@dataclass(frozen=True)
class ReceiptTender:
    kind: str  # "Cash", "Card", "Bank"
    amount: Decimal
    reference: str | None = None  # card last 4 / bank transaction id


@dataclass(frozen=True)
class ReceiptData:
    retailer: str
    branch_name: str
    branch_code: str
    counter_code: str
    cashier: str
    register_id: int
    shift_id: int
    sale_number: str  # e.g. "LHR-GUL-C1-000042"
    issued_at: datetime  # aware UTC
    timezone: str  # IANA, e.g. "Asia/Karachi": print local time
    lines: list[ReceiptLine]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    tax_by_rate: dict[Decimal, tuple[Decimal, Decimal]]  # rate -> (net, tax)
    total: Decimal
    tenders: list[ReceiptTender]
    change_due: Decimal
    currency: str = "PKR"
    tax_inclusive: bool = True
    customer: str | None = None
    salesperson: str | None = None
    fiscal_invoice_number: str | None = None  # FBR, filled later by the fiscal module
    fiscal_qr: str | None = None  # text to print (or "[QR]" placeholder line) when present
    # The fiscal block (docs/fbr.md): "fbr" or "pra" when the counter reports the sale, None when it does not;
    # a pending number prints "fiscal number pending", a reprint once it is back prints the number and QR.
    fiscal_authority: str | None = None
    fiscal_pos_id: str | None = None
    fiscal_fee: Decimal | None = None  # the POS service fee (SRO 1279), printed in the fiscal block
    footer: str = "Thank you for shopping with us"
    title: str = "SALE RECEIPT"  # e.g. "RETURN RECEIPT", "EXCHANGE RECEIPT", "QUOTE"
    # A reprint (reprintReceipt) says so under the title, with when it was reprinted: a shop must never hand out
    # a second original of a fiscal invoice.
    reprinted_at: datetime | None = None
    voided: bool = False  # the sale was voided since: a reprint says so


def _ascii(text: str) -> str:
    """Printable single-line ASCII with whitespace runs collapsed."""
    text = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    text = "".join(c for c in text if not unicodedata.combining(c))  # "é" -> "e"
    text = text.encode("ascii", "replace").decode("ascii")
    text = "".join(c if c.isprintable() else " " for c in text)  # drops ESC/POS bytes
    return " ".join(text.split())


def _money(amount: Decimal) -> str:
    # Quantize explicitly: Decimal's own formatting rounds half-even, cashiers expect half-up.
    value = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    if not value:
        value = value.copy_abs()  # never print "-0.00"
    return f"{value:,.2f}"


def _rate(rate: Decimal) -> str:
    # "18.00" -> "18", "17.5" -> "17.5"; format "f" avoids "1E+2" from normalize().
    return format(rate.normalize(), "f")


def _wrap(text: str, width: int) -> list[str]:
    # break_on_hyphens=False keeps "3-Pc" or "LHR-GUL-C1-000042" whole; only a single
    # word longer than the paper is split, because there is no other way to fit it.
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]


def _centre(text: str, width: int) -> list[str]:
    return [line.center(width).rstrip() for line in _wrap(_ascii(text), width)]


def _pair(left: str, right: str, width: int, indent: int = 0) -> list[str]:
    """``left`` flush left, ``right`` flush right; ``right`` drops a line if both don't fit.

    Dropping to a new line (instead of truncating) matters for money: a clipped amount
    on a receipt is worse than an extra line of paper.
    """
    pad = width - indent - len(left) - len(right)
    if pad >= 1:
        return [" " * indent + left + " " * pad + right]
    lines = [" " * indent + line for line in _wrap(left, width - indent)]
    return lines + [line.rjust(width) for line in _wrap(right, width)]


def _local_time(issued_at: datetime, timezone: str) -> str:
    # A naive datetime would be silently taken as the server's local time, printing a
    # wrong but plausible time on a legal document; refuse it instead.
    if issued_at.tzinfo is None or issued_at.utcoffset() is None:
        raise ValueError("issued_at must be timezone-aware")
    return issued_at.astimezone(ZoneInfo(timezone)).strftime("%d-%m-%Y %H:%M")


def _header(r: ReceiptData, width: int) -> list[str]:
    out: list[str] = []
    for text in (
        r.retailer,
        r.branch_name,
        f"Branch {r.branch_code} - Counter {r.counter_code}",
        r.title,
        *(("DUPLICATE COPY - NOT ORIGINAL",) if r.reprinted_at else ()),
        *((f"Reprinted {_local_time(r.reprinted_at, r.timezone)}",) if r.reprinted_at else ()),
        *(("SALE VOIDED",) if r.voided else ()),
        r.sale_number,
        _local_time(r.issued_at, r.timezone),
        f"Cashier: {r.cashier}",
        f"Register {r.register_id} - Shift {r.shift_id}",
    ):
        out += _centre(text, width)
    if r.customer:
        out += _centre(f"Customer: {r.customer}", width)
    if r.salesperson:
        out += _centre(f"Salesperson: {r.salesperson}", width)
    return out


def _items(r: ReceiptData, width: int) -> list[str]:
    out: list[str] = []
    for line in r.lines:
        out += _wrap(_ascii(line.description), width)
        out += _pair(f"{line.quantity} x {_money(line.unit_price)}", _money(line.total), width)
        if line.discount > 0:
            out += _pair("Discount", f"-{_money(line.discount)}", width, indent=2)
    return out


def _totals(r: ReceiptData, width: int) -> list[str]:
    out = _pair("Subtotal:", _money(r.subtotal), width)
    if r.discount_total:
        out += _pair("Discount:", f"-{_money(r.discount_total)}", width)
    incl = " (incl.)" if r.tax_inclusive else ""
    if r.tax_by_rate:
        for rate in sorted(r.tax_by_rate):
            _net, tax = r.tax_by_rate[rate]
            out += _pair(f"Sales tax {_rate(rate)}%{incl}:", _money(tax), width)
    elif r.tax_total:
        # No per-rate split supplied: still show the tax charged rather than hide it.
        out += _pair(f"Sales tax{incl}:", _money(r.tax_total), width)
    if len(r.tax_by_rate) > 1:
        out += _pair("Total tax:", _money(r.tax_total), width)
    out += _pair(f"TOTAL ({_ascii(r.currency)}):", _money(r.total), width)
    for tender in r.tenders:
        label = _ascii(tender.kind)
        if tender.reference:
            label += f" ({_ascii(tender.reference)})"
        out += _pair(f"{label}:", _money(tender.amount), width)
    out += _pair("Change:", _money(r.change_due), width)
    return out


def _fiscal(r: ReceiptData, width: int) -> list[str]:
    out: list[str] = []
    name = (r.fiscal_authority or "fbr").upper()
    if r.fiscal_authority and r.fiscal_pos_id:
        out += _centre(f"{name} POS {r.fiscal_pos_id}", width)
    if r.fiscal_fee:
        out += _pair("POS service fee:", _money(r.fiscal_fee), width)
    if r.fiscal_invoice_number:
        out += _centre(f"{name} Invoice: {r.fiscal_invoice_number}", width)
        if r.fiscal_qr:
            # The printer draws the QR from this content (ESC/POS QR command); clients get the SVG (Sale.fiscal).
            out += _centre(f"QR: {r.fiscal_qr}", width)
        if name == "FBR":
            out += _centre("Verify on the Tax Asaan app or SMS the number to 9966", width)
    elif r.fiscal_authority:
        out += _centre(f"{name} fiscal number pending", width)
    return out


def render_thermal(receipt: ReceiptData, width_mm: int = 80) -> str:
    """Render ``receipt`` for a ``width_mm`` (58 or 80) printer; "\\n"-separated, ends with "\\n"."""
    if width_mm not in WIDTHS:
        raise ValueError(f"width_mm must be one of {sorted(WIDTHS)}, got {width_mm!r}")
    width = WIDTHS[width_mm]
    rule = "-" * width
    out = [*_header(receipt, width), rule, *_items(receipt, width), rule, *_totals(receipt, width)]
    fiscal = _fiscal(receipt, width)
    if fiscal:
        out += [rule, *fiscal]
    out.append(rule)
    for paragraph in receipt.footer.splitlines():  # a multi-line footer keeps its breaks
        out += _centre(paragraph, width)
    return "\n".join(line.rstrip() for line in out) + "\n"
