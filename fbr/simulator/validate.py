"""Checks a PostData body the way the reference says the IMS reads it, on the JSON itself (independently of
fbr/invoice.py, so a mistake there shows up here). Returns the problems as the `Errors` strings."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .config import SimConfig

HEADER_TYPES = {1, 2, 3}
ITEM_TYPES = {1: {1, 11, 139}, 2: {1, 11}, 3: {3, 12}}
PAYMENT_MODES = {1, 2, 3, 4, 5, 6}
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S")
_PCT = re.compile(r"\d{8}")
_NTN = re.compile(r"\d{7}(-?\d)?")
_CNIC = re.compile(r"\d{13}")


class Reader:
    def __init__(self, config: SimConfig) -> None:
        self.strict = config.strict_types
        self.errors: list[str] = []

    def fail(self, message: str) -> None:
        self.errors.append(message)

    def number(self, obj: dict, name: str, where: str, *, required: bool = True) -> Decimal | None:
        value = obj.get(name)
        if value is None:
            if required:
                self.fail(f"{where}{name} is required")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fail(f"{where}{name} must be a number")
            return None
        if isinstance(value, str) and self.strict:
            self.fail(f"{where}{name} must be a number, not a string")
            return None
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            self.fail(f"{where}{name} must be a number")
            return None
        if not number.is_finite():
            self.fail(f"{where}{name} must be a number")
            return None
        return number

    def integer(self, obj: dict, name: str, where: str) -> int | None:
        number = self.number(obj, name, where)
        if number is None:
            return None
        if number != number.to_integral_value():
            self.fail(f"{where}{name} must be a whole number")
            return None
        return int(number)

    def text(self, obj: dict, name: str, where: str, limit: int, *, required: bool = False) -> str:
        value = obj.get(name)
        if value is None or value == "":
            if required:
                self.fail(f"{where}{name} is required")
            return ""
        if not isinstance(value, str):
            if self.strict or not isinstance(value, int | float) or isinstance(value, bool):
                self.fail(f"{where}{name} must be a string")
                return ""
            value = str(value)
        if len(value) > limit:
            self.fail(f"{where}{name} must be at most {limit} characters")
        return value


def _close(a: Decimal, b: Decimal, tolerance: float) -> bool:
    return abs(a - b) <= Decimal(str(tolerance))


def check(body: Any, config: SimConfig, *, ntn_field: str = "BuyerNTN") -> tuple[list[str], int | None, str]:
    """(problems, POSID, USIN) of a PostData body; POSID/USIN are None/"" when unreadable."""
    if not isinstance(body, dict):
        return ["the body must be a JSON object"], None, ""
    r = Reader(config)
    pos_id = r.integer(body, "POSID", "")
    if pos_id is not None and pos_id <= 0:
        r.fail("POSID must be positive")
    usin = r.text(body, "USIN", "", 50, required=True)
    invoice_type = r.integer(body, "InvoiceType", "")
    if invoice_type is not None and invoice_type not in HEADER_TYPES:
        r.fail("InvoiceType must be 1 (new), 2 (debit) or 3 (credit)")
    ref_usin = r.text(body, "RefUSIN", "", 50)
    if invoice_type in (2, 3) and not ref_usin:
        r.fail("RefUSIN is required on a debit or credit note")
    stamp = r.text(body, "DateTime", "", 30, required=True)
    if stamp and not any(_parses(stamp, f) for f in DATE_FORMATS):
        r.fail("DateTime must be yyyy-MM-dd HH:mm:ss")
    r.text(body, "BuyerName", "", 150)
    ntn = r.text(body, ntn_field, "", 9)
    if ntn and not _NTN.fullmatch(ntn):
        r.fail(f"{ntn_field} must look like 1234567-8")
    cnic = r.text(body, "BuyerCNIC", "", 13)
    if cnic and not _CNIC.fullmatch(cnic):
        r.fail("BuyerCNIC must be 13 digits without dashes")
    r.text(body, "BuyerPhoneNumber", "", 20)
    mode = r.integer(body, "PaymentMode", "")
    if mode is not None and mode not in PAYMENT_MODES:
        r.fail("PaymentMode must be 1 to 6")
    header = {
        name: r.number(body, name, "", required=name not in ("Discount", "FurtherTax"))
        for name in ("TotalSaleValue", "TotalTaxCharged", "TotalBillAmount", "TotalQuantity", "Discount", "FurtherTax")
    }
    for name, value in header.items():
        if value is not None and value < 0:
            r.fail(f"{name} must not be negative")
    items = body.get("Items")
    if not isinstance(items, list) or not items:
        r.fail("Items must be a list of at least one item")
        items = []
    sums = dict.fromkeys(("SaleValue", "TaxCharged", "Discount", "FurtherTax", "Quantity"), Decimal(0))
    complete = True
    for i, item in enumerate(items):
        where = f"Items[{i}]."
        if not isinstance(item, dict):
            r.fail(f"Items[{i}] must be an object")
            complete = False
            continue
        r.text(item, "ItemCode", where, 50, required=True)
        r.text(item, "ItemName", where, 150, required=True)
        pct = r.text(item, "PCTCode", where, 8, required=config.check_pct)
        if config.check_pct and pct and not _PCT.fullmatch(pct):
            r.fail(f"{where}PCTCode must be 8 digits without a dot")
        kind = r.integer(item, "InvoiceType", where)
        if kind is not None and invoice_type in ITEM_TYPES and kind not in ITEM_TYPES[invoice_type]:
            r.fail(f"{where}InvoiceType {kind} does not fit an invoice of type {invoice_type}")
        values = {
            name: r.number(item, name, where, required=name not in ("Discount", "FurtherTax"))
            for name in ("Quantity", "TaxRate", "SaleValue", "TaxCharged", "TotalAmount", "Discount", "FurtherTax")
        }
        for name, value in values.items():
            if value is not None and value < 0:
                r.fail(f"{where}{name} must not be negative")
        if values["Quantity"] is not None and values["Quantity"] <= 0:
            r.fail(f"{where}Quantity must be more than 0")
        if values["TaxRate"] is not None and values["TaxRate"] > 100:
            r.fail(f"{where}TaxRate must be a percentage (18, not 0.18 or 1800)")
        got = {k: (v if v is not None else Decimal(0)) for k, v in values.items()}
        if any(values[k] is None for k in ("Quantity", "TaxRate", "SaleValue", "TaxCharged", "TotalAmount")):
            complete = False
            continue
        for name in sums:
            sums[name] += got[name]
        if config.check_totals:
            line = got["SaleValue"] + got["TaxCharged"] + got["FurtherTax"]
            if not _close(got["TotalAmount"], line, config.tolerance):
                r.fail(f"{where}TotalAmount is not SaleValue + TaxCharged + FurtherTax")
            if kind not in (11, 12) and not _close(
                got["TaxCharged"], got["SaleValue"] * got["TaxRate"] / 100, config.tolerance
            ):
                r.fail(f"{where}TaxCharged is not TaxRate% of SaleValue")
    if config.check_totals and complete and items and None not in (header["TotalSaleValue"], header["TotalTaxCharged"]):
        pairs = (
            ("TotalSaleValue", "SaleValue"),
            ("TotalTaxCharged", "TaxCharged"),
            ("Discount", "Discount"),
            ("FurtherTax", "FurtherTax"),
            ("TotalQuantity", "Quantity"),
        )
        for head, line in pairs:
            value = header[head] if header[head] is not None else Decimal(0)
            if not _close(value, sums[line], config.tolerance):
                r.fail(f"{head} is not the sum of the items' {line}")
        if header["TotalBillAmount"] is not None:
            bill = header["TotalSaleValue"] + header["TotalTaxCharged"] + (header["FurtherTax"] or Decimal(0))
            fee = Decimal(str(config.fee_in_bill))
            if not any(_close(header["TotalBillAmount"], b, config.tolerance) for b in {bill, bill + fee}):
                r.fail("TotalBillAmount is not TotalSaleValue + TotalTaxCharged + FurtherTax")
    return r.errors, pos_id, usin


def _parses(value: str, fmt: str) -> bool:
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True
