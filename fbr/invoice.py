"""What a fiscal invoice holds, the PostData JSON the authority expects, and pure checks of both.

The model follows the IMS ("FBR Integrated POS") invoice tables: a header (POSID, USIN, date-time, buyer,
totals, payment mode, invoice type, RefUSIN) and items (code, name, PCT code, quantity, rate, sale value,
tax, discount, further tax, total, item invoice type, RefUSIN). PRA (Punjab) uses the same model with one
field renamed (``BuyerPNTN``). docs/fbr.md ("The authority's interface") lists which facts are firm and
which are guesses, and the default chosen for each guess (the ``PostDataOptions`` and ``Rules`` here).

Money and quantities are ``Decimal``; the JSON gets numbers (the spec's ``double``), rounded to the paisa.
Nothing here does I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from enum import IntEnum, StrEnum
from typing import Any

PAISA = Decimal("0.01")
ZERO = Decimal(0)

# Pakistan Standard Time, UTC+5 all year (no daylight saving since 2009). The spec's DateTime is local time.
PAKISTAN_TIME = timezone(timedelta(hours=5), "PKT")
DATE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # spec samples: "2020-01-01 12:00:00"

# SRO 1279(I)/2021: Re 1 per invoice issued through an integrated POS, collected from the customer and
# deposited with the sales tax return. The IMS JSON has no field for it: FBR counts invoices itself.
POS_SERVICE_FEE = Decimal("1.00")

# The buyer's name is required on the receipt above this invoice value (SRO 1006(I)/2021).
BUYER_IDENTIFICATION_THRESHOLD = Decimal("100000")

# Field widths from the spec's tables (varchar(n)).
USIN_MAX = 50
ITEM_CODE_MAX = 50
ITEM_NAME_MAX = 150
BUYER_NAME_MAX = 150
PHONE_MAX = 20
PCT_DEFAULT_PRA = "00000000"  # PRA's spec: the PCT code to send when a line has none


class Authority(StrEnum):
    FBR = "fbr"  # federal: goods (and Islamabad services); IMS PostData
    PRA = "pra"  # Punjab Revenue Authority: services in Punjab; the same PRAL IMS model


class PaymentMode(IntEnum):
    CASH = 1
    CARD = 2
    GIFT_VOUCHER = 3
    LOYALTY_CARD = 4
    MIXED = 5  # more than one tender
    CHEQUE = 6


class InvoiceType(IntEnum):
    """Header ``InvoiceType``."""

    NEW = 1
    DEBIT = 2
    CREDIT = 3  # returns and cancellations: a new USIN whose RefUSIN is the original's


class ItemInvoiceType(IntEnum):
    """Item ``InvoiceType``. Third-Schedule goods (tax on the printed retail price) use 11/12."""

    NEW = 1
    CREDIT = 3
    THIRD_SCHEDULE_NEW = 11
    THIRD_SCHEDULE_CREDIT = 12
    SRO_297_2023 = 139  # a single source lists it (sale of goods under SRO 297(I)/2023); uncertain


# Which item types may appear under which header type. Item-level debit is undocumented: a debit note's
# lines are taken as new-sale lines (uncertain; see docs/fbr.md).
ITEM_TYPES_FOR = {
    InvoiceType.NEW: frozenset({ItemInvoiceType.NEW, ItemInvoiceType.THIRD_SCHEDULE_NEW, ItemInvoiceType.SRO_297_2023}),
    InvoiceType.DEBIT: frozenset({ItemInvoiceType.NEW, ItemInvoiceType.THIRD_SCHEDULE_NEW}),
    InvoiceType.CREDIT: frozenset({ItemInvoiceType.CREDIT, ItemInvoiceType.THIRD_SCHEDULE_CREDIT}),
}
THIRD_SCHEDULE = frozenset({ItemInvoiceType.THIRD_SCHEDULE_NEW, ItemInvoiceType.THIRD_SCHEDULE_CREDIT})

_PCT = re.compile(r"\d{8}")
_POS_ID = re.compile(r"[1-9]\d*")
_NTN = re.compile(r"(\d{7})-?(\d)?")
_DIGITS = re.compile(r"\d+")


_TENDER_MODES = {
    "cash": PaymentMode.CASH,
    "card": PaymentMode.CARD,
    "gift_voucher": PaymentMode.GIFT_VOUCHER,
    "voucher": PaymentMode.GIFT_VOUCHER,
    "loyalty": PaymentMode.LOYALTY_CARD,
    "loyalty_card": PaymentMode.LOYALTY_CARD,
    "points": PaymentMode.LOYALTY_CARD,
    "cheque": PaymentMode.CHEQUE,
}


def payment_mode(tender_kinds: Iterable[str]) -> PaymentMode:
    """The PaymentMode for the kinds of tender a sale was paid with: Mixed (5) when more than one kind;
    a kind the IMS has no code for (bank transfer, wallet, QR) counts as Card (2), as the public
    implementations do (uncertain); a sale paid with nothing (a zero total) as Cash."""
    kinds = {kind.strip().lower() for kind in tender_kinds}
    if len(kinds) > 1:
        return PaymentMode.MIXED
    if not kinds:
        return PaymentMode.CASH
    return _TENDER_MODES.get(kinds.pop(), PaymentMode.CARD)


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(PAISA, rounding=ROUND_HALF_UP)


def normalise_pct(code: str | None) -> str:
    """'9815.1000' → '98151000'; spaces and dots dropped. Does not validate (see ``problems``)."""
    return "" if code is None else code.replace(".", "").replace(" ", "").strip()


def normalise_cnic(cnic: str) -> str:
    """'35202-1234567-1' → '3520212345671' (the spec's varchar(13) has no room for the dashes)."""
    return cnic.replace("-", "").replace(" ", "").strip()


def normalise_ntn(ntn: str) -> str:
    """'12345678' or '1234567-8' → '1234567-8' (the spec's format); a bare 7-digit NTN stays as it is."""
    value = ntn.replace(" ", "").strip()
    m = _NTN.fullmatch(value)
    if not m:
        return value
    return f"{m.group(1)}-{m.group(2)}" if m.group(2) else m.group(1)


def normalise_phone(phone: str) -> str:
    """'+92 300 1234567' → '923001234567' (the spec's sample shows digits only)."""
    return "".join(ch for ch in phone if ch.isdigit())


def pos_id_problem(value: object, *, digits: tuple[int, int] = (6, 6)) -> str | None:
    """Why ``value`` is not a usable POSID, or None. The spec types POSID as bigint; every POSID seen
    (110014, 110001, 900005, 819038, 966130) has 6 digits, so that is the default accepted length."""
    if isinstance(value, bool):
        return "POSID must be a number"
    text = str(value).strip() if isinstance(value, int | str) else ""
    if not _POS_ID.fullmatch(text):
        return "POSID must be a positive whole number without leading zeros"
    low, high = digits
    if not low <= len(text) <= high:
        want = f"{low}" if low == high else f"{low} to {high}"
        return f"POSID must have {want} digits (got {len(text)})"
    return None


@dataclass(frozen=True)
class FiscalItem:
    """One line. ``sale_value`` is the value tax is computed on: excluding tax, after ``discount``."""

    item_code: str
    item_name: str
    pct_code: str  # 8 digits, no dot; "" when the product has none (PRA then sends "00000000")
    quantity: Decimal
    tax_rate: Decimal  # percent: 18, not 0.18
    sale_value: Decimal
    tax_charged: Decimal
    total_amount: Decimal  # sale_value + tax_charged + further_tax
    discount: Decimal = ZERO
    further_tax: Decimal = ZERO
    invoice_type: ItemInvoiceType = ItemInvoiceType.NEW
    ref_usin: str | None = None

    @classmethod
    def priced(
        cls,
        *,
        item_code: str,
        item_name: str,
        pct_code: str,
        quantity: Decimal | int,
        tax_rate: Decimal | int,
        sale_value: Decimal,
        tax_charged: Decimal | None = None,
        discount: Decimal = ZERO,
        further_tax: Decimal = ZERO,
        invoice_type: ItemInvoiceType = ItemInvoiceType.NEW,
        ref_usin: str | None = None,
    ) -> FiscalItem:
        """A line whose tax (unless given: Third-Schedule tax is on the retail price) and total are computed."""
        sale_value, discount, further_tax = money(sale_value), money(discount), money(further_tax)
        tax = money(sale_value * Decimal(tax_rate) / 100) if tax_charged is None else money(tax_charged)
        return cls(
            item_code=item_code,
            item_name=item_name,
            pct_code=normalise_pct(pct_code),
            quantity=Decimal(quantity),
            tax_rate=Decimal(tax_rate),
            sale_value=sale_value,
            tax_charged=tax,
            total_amount=sale_value + tax + further_tax,
            discount=discount,
            further_tax=further_tax,
            invoice_type=invoice_type,
            ref_usin=ref_usin,
        )


@dataclass(frozen=True)
class Buyer:
    name: str = ""
    ntn: str = ""  # FBR: BuyerNTN "1234567-8"; PRA: sent as BuyerPNTN
    cnic: str = ""  # 13 digits
    phone: str = ""


@dataclass(frozen=True)
class FiscalInvoice:
    """One invoice as reported. Header totals are explicit (what is sent); ``summed`` computes them.

    ``service_fee`` is the POS fee the customer paid on this invoice (Re 1 on a sale); it is printed on the
    receipt and, by default, not sent (``PostDataOptions.fee_in_bill_amount``).
    """

    usin: str
    pos_id: int
    issued_at: datetime  # aware (converted to Pakistan time) or naive (taken as Pakistan time)
    items: tuple[FiscalItem, ...]
    total_sale_value: Decimal
    total_tax_charged: Decimal
    total_bill_amount: Decimal  # total_sale_value + total_tax_charged + further_tax
    total_quantity: Decimal
    payment_mode: PaymentMode
    invoice_type: InvoiceType = InvoiceType.NEW
    ref_usin: str | None = None
    discount: Decimal = ZERO
    further_tax: Decimal = ZERO
    buyer: Buyer = field(default_factory=Buyer)
    authority: Authority = Authority.FBR
    service_fee: Decimal = ZERO

    @classmethod
    def summed(
        cls,
        *,
        usin: str,
        pos_id: int,
        issued_at: datetime,
        items: list[FiscalItem] | tuple[FiscalItem, ...],
        payment_mode: PaymentMode,
        invoice_type: InvoiceType = InvoiceType.NEW,
        ref_usin: str | None = None,
        buyer: Buyer | None = None,
        authority: Authority = Authority.FBR,
        service_fee: Decimal | None = None,
    ) -> FiscalInvoice:
        """An invoice whose header totals are the sums of its items. ``service_fee`` defaults to Re 1 on a
        sale or debit note and 0 on a credit note (whether a credit note carries the fee is undocumented)."""
        items = tuple(items)
        sale = sum((i.sale_value for i in items), ZERO)
        tax = sum((i.tax_charged for i in items), ZERO)
        further = sum((i.further_tax for i in items), ZERO)
        if service_fee is None:
            service_fee = ZERO if invoice_type == InvoiceType.CREDIT else POS_SERVICE_FEE
        return cls(
            usin=usin,
            pos_id=pos_id,
            issued_at=issued_at,
            items=items,
            total_sale_value=sale,
            total_tax_charged=tax,
            total_bill_amount=sale + tax + further,
            total_quantity=sum((i.quantity for i in items), ZERO),
            payment_mode=payment_mode,
            invoice_type=invoice_type,
            ref_usin=ref_usin,
            discount=sum((i.discount for i in items), ZERO),
            further_tax=further,
            buyer=buyer or Buyer(),
            authority=authority,
            service_fee=money(service_fee),
        )

    @property
    def payable(self) -> Decimal:
        """What the customer pays: the bill plus the POS service fee."""
        return self.total_bill_amount + self.service_fee


@dataclass(frozen=True)
class PostDataOptions:
    """Choices the reference leaves open; the defaults are the documented/safer reading."""

    # Some implementations add the Re 1 fee into TotalBillAmount; the spec has no field for it.
    fee_in_bill_amount: bool = False
    # Public samples send a credit note's amounts as positive numbers; the sign convention is undocumented.
    negative_credit_amounts: bool = False


@dataclass(frozen=True)
class Rules:
    """Limits ``problems`` applies. Defaults follow the reference; each is a guess where it says so."""

    pos_id_digits: tuple[int, int] = (6, 6)
    # A line's tax may differ from sale_value × rate / 100 by this much (tax carved out of inclusive prices
    # rounds the other way by up to a paisa). Third-Schedule lines are exempt (tax on the retail price).
    tax_tolerance: Decimal = PAISA
    # Above this TotalBillAmount the buyer's name is required (SRO 1006(I)/2021); None switches the check off.
    buyer_threshold: Decimal | None = BUYER_IDENTIFICATION_THRESHOLD
    # The SRO names the buyer's name only; asking for the NTN or CNIC as well is our choice, off by default.
    buyer_tax_id_above_threshold: bool = False


DEFAULT_OPTIONS = PostDataOptions()
DEFAULT_RULES = Rules()


def local_time(moment: datetime) -> datetime:
    return moment.astimezone(PAKISTAN_TIME).replace(tzinfo=None) if moment.tzinfo else moment


def _number(value: Decimal, negative: bool = False) -> float:
    """A JSON number (the spec's double) rounded to the paisa; integral values stay exact."""
    value = money(value)
    return float(-value if negative and value else value)


def _quantity(value: Decimal, negative: bool = False) -> float | int:
    value = -value if negative and value else value
    return int(value) if value == value.to_integral_value() else float(value)


def to_post_data(invoice: FiscalInvoice, options: PostDataOptions = DEFAULT_OPTIONS) -> dict[str, Any]:
    """The PostData JSON body (PascalCase, types per the spec). Does not validate: call ``problems`` first."""
    neg = options.negative_credit_amounts and invoice.invoice_type == InvoiceType.CREDIT
    pra = invoice.authority == Authority.PRA
    bill = invoice.total_bill_amount + (invoice.service_fee if options.fee_in_bill_amount else ZERO)
    buyer = invoice.buyer
    items = []
    for item in invoice.items:
        pct = normalise_pct(item.pct_code)
        items.append(
            {
                "ItemCode": item.item_code,
                "ItemName": item.item_name,
                "PCTCode": pct or (PCT_DEFAULT_PRA if pra else ""),
                "Quantity": _quantity(item.quantity, neg),
                "TaxRate": _quantity(item.tax_rate),
                "SaleValue": _number(item.sale_value, neg),
                "Discount": _number(item.discount, neg),
                "FurtherTax": _number(item.further_tax, neg),
                "TaxCharged": _number(item.tax_charged, neg),
                "TotalAmount": _number(item.total_amount, neg),
                "InvoiceType": int(item.invoice_type),
                "RefUSIN": item.ref_usin if item.ref_usin is not None else invoice.ref_usin,
            }
        )
    body: dict[str, Any] = {
        "InvoiceNumber": "",
        "POSID": int(invoice.pos_id),
        "USIN": invoice.usin,
        "RefUSIN": invoice.ref_usin,
        "DateTime": local_time(invoice.issued_at).strftime(DATE_TIME_FORMAT),
        "BuyerName": buyer.name.strip(),
        ("BuyerPNTN" if pra else "BuyerNTN"): normalise_ntn(buyer.ntn) if buyer.ntn else "",
        "BuyerCNIC": normalise_cnic(buyer.cnic) if buyer.cnic else "",
        "BuyerPhoneNumber": normalise_phone(buyer.phone) if buyer.phone else "",
        "TotalSaleValue": _number(invoice.total_sale_value, neg),
        "TotalTaxCharged": _number(invoice.total_tax_charged, neg),
        "TotalQuantity": _quantity(invoice.total_quantity, neg),
        "Discount": _number(invoice.discount, neg),
        "FurtherTax": _number(invoice.further_tax, neg),
        "TotalBillAmount": _number(bill, neg),
        "PaymentMode": int(invoice.payment_mode),
        "InvoiceType": int(invoice.invoice_type),
        "Items": items,
    }
    return body


def _is_amount(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite() and value == value.quantize(PAISA) and value >= 0


def _item_problems(i: int, item: FiscalItem, invoice: FiscalInvoice, rules: Rules) -> list[str]:
    where = f"Items[{i}]"
    out: list[str] = []
    if not item.item_code.strip() or len(item.item_code) > ITEM_CODE_MAX:
        out.append(f"{where}.ItemCode must be 1 to {ITEM_CODE_MAX} characters")
    if not item.item_name.strip() or len(item.item_name) > ITEM_NAME_MAX:
        out.append(f"{where}.ItemName must be 1 to {ITEM_NAME_MAX} characters")
    pct = normalise_pct(item.pct_code)
    if not pct and invoice.authority == Authority.FBR:
        out.append(f"{where}.PCTCode is missing (the product has no PCT code)")
    elif pct and not _PCT.fullmatch(pct):
        out.append(f"{where}.PCTCode must be 8 digits without a dot (got {item.pct_code!r})")
    if not (isinstance(item.quantity, Decimal) and item.quantity.is_finite() and item.quantity > 0):
        out.append(f"{where}.Quantity must be more than 0")
    if not (isinstance(item.tax_rate, Decimal) and item.tax_rate.is_finite() and 0 <= item.tax_rate <= 100):
        out.append(f"{where}.TaxRate must be a percentage from 0 to 100")
    amounts = {
        "SaleValue": item.sale_value,
        "TaxCharged": item.tax_charged,
        "TotalAmount": item.total_amount,
        "Discount": item.discount,
        "FurtherTax": item.further_tax,
    }
    bad = [name for name, value in amounts.items() if not _is_amount(value)]
    out.extend(f"{where}.{name} must be 0 or more, in paisa" for name in bad)
    if not bad:
        if item.total_amount != item.sale_value + item.tax_charged + item.further_tax:
            out.append(
                f"{where}.TotalAmount {item.total_amount} is not SaleValue + TaxCharged + FurtherTax "
                f"({item.sale_value + item.tax_charged + item.further_tax})"
            )
        if item.invoice_type not in THIRD_SCHEDULE and isinstance(item.tax_rate, Decimal):
            expected = item.sale_value * item.tax_rate / 100
            if abs(item.tax_charged - expected) > rules.tax_tolerance:
                out.append(
                    f"{where}.TaxCharged {item.tax_charged} is not {item.tax_rate}% of SaleValue {item.sale_value}"
                )
    allowed = ITEM_TYPES_FOR.get(invoice.invoice_type, frozenset())
    if item.invoice_type not in allowed:
        kinds = ", ".join(str(int(t)) for t in sorted(allowed))
        out.append(
            f"{where}.InvoiceType {int(item.invoice_type)} does not fit a header of type "
            f"{int(invoice.invoice_type)} (allowed: {kinds})"
        )
    if item.ref_usin is not None and item.ref_usin != invoice.ref_usin:
        out.append(f"{where}.RefUSIN {item.ref_usin!r} differs from the header's {invoice.ref_usin!r}")
    return out


def problems(invoice: FiscalInvoice, rules: Rules = DEFAULT_RULES) -> list[str]:
    """Everything wrong with ``invoice`` that the authority would or might refuse; [] when it may be sent."""
    out: list[str] = []
    if not invoice.usin.strip() or len(invoice.usin) > USIN_MAX:
        out.append(f"USIN must be 1 to {USIN_MAX} characters")
    pos = pos_id_problem(invoice.pos_id, digits=rules.pos_id_digits)
    if pos:
        out.append(pos)
    if not isinstance(invoice.issued_at, datetime):
        out.append("DateTime must be a date and time")
    if invoice.invoice_type in (InvoiceType.CREDIT, InvoiceType.DEBIT):
        if not invoice.ref_usin:
            out.append("RefUSIN (the original invoice's USIN) is required on a credit or debit note")
        elif invoice.ref_usin == invoice.usin:
            out.append("RefUSIN must name another invoice, not this one")
        elif len(invoice.ref_usin) > USIN_MAX:
            out.append(f"RefUSIN must be at most {USIN_MAX} characters")
    elif invoice.ref_usin:
        out.append("RefUSIN is only for credit and debit notes")
    if not invoice.items:
        out.append("an invoice needs at least one item")
    for i, item in enumerate(invoice.items):
        out.extend(_item_problems(i, item, invoice, rules))

    header = {
        "TotalSaleValue": invoice.total_sale_value,
        "TotalTaxCharged": invoice.total_tax_charged,
        "TotalBillAmount": invoice.total_bill_amount,
        "Discount": invoice.discount,
        "FurtherTax": invoice.further_tax,
    }
    bad = [name for name, value in header.items() if not _is_amount(value)]
    out.extend(f"{name} must be 0 or more, in paisa" for name in bad)
    if not _is_amount(invoice.service_fee):
        out.append("the POS service fee must be 0 or more, in paisa")
    items_ok = all(
        _is_amount(v) for it in invoice.items for v in (it.sale_value, it.tax_charged, it.discount, it.further_tax)
    )
    if not bad and items_ok:
        sums = {
            "TotalSaleValue": sum((i.sale_value for i in invoice.items), ZERO),
            "TotalTaxCharged": sum((i.tax_charged for i in invoice.items), ZERO),
            "Discount": sum((i.discount for i in invoice.items), ZERO),
            "FurtherTax": sum((i.further_tax for i in invoice.items), ZERO),
        }
        for name, total in sums.items():
            if header[name] != total:
                out.append(f"{name} {header[name]} is not the sum of the items ({total})")
        expected_bill = invoice.total_sale_value + invoice.total_tax_charged + invoice.further_tax
        if invoice.total_bill_amount != expected_bill:
            out.append(
                f"TotalBillAmount {invoice.total_bill_amount} is not TotalSaleValue + TotalTaxCharged + FurtherTax "
                f"({expected_bill})"
            )
    quantities = [i.quantity for i in invoice.items if isinstance(i.quantity, Decimal) and i.quantity.is_finite()]
    if len(quantities) == len(invoice.items) and invoice.total_quantity != sum(quantities, ZERO):
        out.append(f"TotalQuantity {invoice.total_quantity} is not the sum of the items ({sum(quantities, ZERO)})")

    if not isinstance(invoice.payment_mode, PaymentMode):
        out.append("PaymentMode must be one of 1 cash, 2 card, 3 gift voucher, 4 loyalty card, 5 mixed, 6 cheque")
    out.extend(_buyer_problems(invoice, rules))
    return out


def _buyer_problems(invoice: FiscalInvoice, rules: Rules) -> list[str]:
    buyer = invoice.buyer
    out: list[str] = []
    ntn_field = "BuyerPNTN" if invoice.authority == Authority.PRA else "BuyerNTN"
    if len(buyer.name) > BUYER_NAME_MAX:
        out.append(f"BuyerName must be at most {BUYER_NAME_MAX} characters")
    if buyer.ntn and not _NTN.fullmatch(buyer.ntn.replace(" ", "").strip()):
        out.append(f"{ntn_field} must be 7 digits and a check digit, e.g. 1234567-8")
    if buyer.cnic and not re.fullmatch(r"\d{13}", normalise_cnic(buyer.cnic)):
        out.append("BuyerCNIC must be 13 digits")
    if buyer.phone:
        digits = normalise_phone(buyer.phone)
        if not digits or len(digits) > PHONE_MAX:
            out.append(f"BuyerPhoneNumber must be 1 to {PHONE_MAX} digits")
    threshold = rules.buyer_threshold
    if threshold is not None and _is_amount(invoice.total_bill_amount) and invoice.total_bill_amount > threshold:
        if not buyer.name.strip():
            out.append(f"an invoice over Rs {threshold:,} needs the buyer's name (SRO 1006(I)/2021)")
        if rules.buyer_tax_id_above_threshold and not (buyer.ntn.strip() or buyer.cnic.strip()):
            out.append(f"an invoice over Rs {threshold:,} needs the buyer's NTN or CNIC")
    return out
