"""The invoice model, its PostData JSON and the pure checks (no HTTP, no database)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fbr.invoice import (
    POS_SERVICE_FEE,
    Authority,
    Buyer,
    FiscalInvoice,
    FiscalItem,
    InvoiceType,
    ItemInvoiceType,
    PaymentMode,
    PostDataOptions,
    Rules,
    normalise_cnic,
    normalise_ntn,
    normalise_pct,
    normalise_phone,
    payment_mode,
    pos_id_problem,
    problems,
    to_post_data,
)
from fbr.simulator import SimConfig
from fbr.simulator.validate import check

from .conftest import POS_ID


def test_post_data_has_the_documented_fields_types_and_the_reference_example_values(make_invoice):
    body = to_post_data(make_invoice())
    assert list(body) == [
        "InvoiceNumber", "POSID", "USIN", "RefUSIN", "DateTime", "BuyerName", "BuyerNTN", "BuyerCNIC",
        "BuyerPhoneNumber", "TotalSaleValue", "TotalTaxCharged", "TotalQuantity", "Discount", "FurtherTax",
        "TotalBillAmount", "PaymentMode", "InvoiceType", "Items",
    ]  # fmt: skip
    assert body["InvoiceNumber"] == "" and body["RefUSIN"] is None
    assert body["POSID"] == POS_ID and isinstance(body["POSID"], int)
    assert body["DateTime"] == "2025-06-01 14:30:00"
    assert (body["TotalSaleValue"], body["TotalTaxCharged"], body["TotalBillAmount"]) == (1500.0, 270.0, 1770.0)
    assert (body["Discount"], body["FurtherTax"], body["TotalQuantity"]) == (100.0, 0.0, 2)
    assert (body["PaymentMode"], body["InvoiceType"]) == (1, 1)
    first, second = body["Items"]
    assert first == {
        "ItemCode": "SKU-001", "ItemName": "Cotton T-shirt", "PCTCode": "61091000", "Quantity": 1, "TaxRate": 18,
        "SaleValue": 1000.0, "Discount": 0.0, "FurtherTax": 0.0, "TaxCharged": 180.0, "TotalAmount": 1180.0,
        "InvoiceType": 1, "RefUSIN": None,
    }  # fmt: skip
    assert second["PCTCode"] == "61091000"  # "6109.1000" sent without the dot
    assert (second["SaleValue"], second["Discount"], second["TaxCharged"], second["TotalAmount"]) == (
        500.0,
        100.0,
        90.0,
        590.0,
    )


def test_an_aware_time_is_sent_as_pakistan_local_time(make_invoice):
    invoice = dataclasses.replace(make_invoice(), issued_at=datetime(2025, 12, 31, 22, 15, 5, tzinfo=UTC))
    assert to_post_data(invoice)["DateTime"] == "2026-01-01 03:15:05"


def test_fractional_quantities_and_rates_stay_numbers(make_invoice):
    item = FiscalItem.priced(
        item_code="RICE", item_name="Rice (kg)", pct_code="10063010", quantity=Decimal("2.5"),
        tax_rate=Decimal("17.5"), sale_value=Decimal("400.00"),
    )  # fmt: skip
    body = to_post_data(make_invoice(items=[item]))
    assert body["Items"][0]["Quantity"] == 2.5 and body["Items"][0]["TaxRate"] == 17.5
    assert body["Items"][0]["TaxCharged"] == 70.0 and body["TotalQuantity"] == 2.5


def test_a_credit_note_names_the_original_on_the_header_and_every_item(make_invoice):
    credit = make_invoice("R-000045", invoice_type=InvoiceType.CREDIT, ref_usin="S-000123")
    body = to_post_data(credit)
    assert body["InvoiceType"] == 3 and body["RefUSIN"] == "S-000123"
    assert {(i["InvoiceType"], i["RefUSIN"]) for i in body["Items"]} == {(3, "S-000123")}
    assert body["TotalBillAmount"] == 1770.0  # positive, as the public samples send them
    assert problems(credit) == []
    negative = to_post_data(credit, PostDataOptions(negative_credit_amounts=True))
    assert negative["TotalBillAmount"] == -1770.0 and negative["Items"][0]["Quantity"] == -1


def test_third_schedule_lines_use_their_item_types(make_invoice):
    item = FiscalItem.priced(
        item_code="SHAMPOO", item_name="Shampoo 200ml", pct_code="33051000", quantity=2, tax_rate=18,
        sale_value=Decimal("847.46"), tax_charged=Decimal("152.54"),
        invoice_type=ItemInvoiceType.THIRD_SCHEDULE_NEW,
    )  # fmt: skip
    sale = make_invoice(items=[item])
    assert problems(sale) == []  # tax on the retail price: not checked against SaleValue × rate
    returned = dataclasses.replace(item, invoice_type=ItemInvoiceType.THIRD_SCHEDULE_CREDIT, ref_usin="S-1")
    credit = make_invoice("R-1", invoice_type=InvoiceType.CREDIT, ref_usin="S-1", items=[returned])
    assert problems(credit) == [] and to_post_data(credit)["Items"][0]["InvoiceType"] == 12


def test_the_pos_fee_is_re_1_on_a_sale_kept_out_of_the_json_unless_chosen(make_invoice):
    sale = make_invoice()
    assert sale.service_fee == POS_SERVICE_FEE == Decimal("1.00")
    assert sale.payable == Decimal("1771.00")
    assert to_post_data(sale)["TotalBillAmount"] == 1770.0
    assert to_post_data(sale, PostDataOptions(fee_in_bill_amount=True))["TotalBillAmount"] == 1771.0
    credit = make_invoice("R-1", invoice_type=InvoiceType.CREDIT, ref_usin="S-000123")
    assert credit.service_fee == 0


def test_pra_sends_the_punjab_ntn_field_and_a_default_pct_code(make_invoice):
    item = FiscalItem.priced(
        item_code="MEAL", item_name="Karahi", pct_code="", quantity=1, tax_rate=16, sale_value=Decimal("2000.00")
    )
    invoice = dataclasses.replace(
        make_invoice(authority=Authority.PRA, items=[item], payment_mode=PaymentMode.CARD),
        buyer=Buyer(name="Ayesha Khan", ntn="12345678"),
    )
    body = to_post_data(invoice)
    assert "BuyerNTN" not in body and body["BuyerPNTN"] == "1234567-8"
    assert body["Items"][0]["PCTCode"] == "00000000"
    assert problems(invoice) == []
    fbr = dataclasses.replace(invoice, authority=Authority.FBR)
    assert problems(fbr) == ["Items[0].PCTCode is missing (the product has no PCT code)"]


def test_buyer_details_are_sent_normalised(make_invoice):
    buyer = Buyer(name=" Bilal Ahmed ", ntn="1234567-8", cnic="35202-1234567-1", phone="+92 300 1234567")
    body = to_post_data(dataclasses.replace(make_invoice(), buyer=buyer))
    assert (body["BuyerName"], body["BuyerNTN"], body["BuyerCNIC"], body["BuyerPhoneNumber"]) == (
        "Bilal Ahmed",
        "1234567-8",
        "3520212345671",
        "923001234567",
    )


def test_payment_mode_from_tenders():
    assert payment_mode(["cash"]) == PaymentMode.CASH
    assert payment_mode(["card", "card"]) == PaymentMode.CARD
    assert payment_mode(["bank"]) == PaymentMode.CARD  # no code for transfers and wallets
    assert payment_mode(["cash", "card"]) == PaymentMode.MIXED
    assert payment_mode(["Cheque"]) == PaymentMode.CHEQUE and payment_mode([]) == PaymentMode.CASH


def test_normalisers():
    assert normalise_pct("9815.1000") == "98151000" and normalise_pct(None) == ""
    assert normalise_cnic("35202-1234567-1") == "3520212345671"
    assert normalise_ntn("12345678") == "1234567-8" and normalise_ntn("1234567") == "1234567"
    assert normalise_phone("+92-300-1234567") == "923001234567"


def test_a_valid_invoice_has_no_problems(make_invoice):
    assert problems(make_invoice()) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (123456, None),
        ("123456", None),
        (12345, "POSID must have 6 digits (got 5)"),
        (1234567, "POSID must have 6 digits (got 7)"),
        ("012345", "POSID must be a positive whole number without leading zeros"),
        ("12a456", "POSID must be a positive whole number without leading zeros"),
        (-123456, "POSID must be a positive whole number without leading zeros"),
        (True, "POSID must be a number"),
        (None, "POSID must be a positive whole number without leading zeros"),
    ],
)
def test_posid_format(value, expected):
    assert pos_id_problem(value) == expected


def test_posid_length_is_a_rule(make_invoice):
    invoice = make_invoice(pos_id=1234567)
    assert problems(invoice) == ["POSID must have 6 digits (got 7)"]
    assert problems(invoice, Rules(pos_id_digits=(6, 8))) == []


def test_totals_that_do_not_add_up_are_named(make_invoice):
    invoice = make_invoice()
    wrong = dataclasses.replace(invoice, total_sale_value=Decimal("1400.00"), total_quantity=Decimal(3))
    assert problems(wrong) == [
        "TotalSaleValue 1400.00 is not the sum of the items (1500.00)",
        "TotalBillAmount 1770.00 is not TotalSaleValue + TotalTaxCharged + FurtherTax (1670.00)",
        "TotalQuantity 3 is not the sum of the items (2)",
    ]
    item = dataclasses.replace(invoice.items[0], total_amount=Decimal("1190.00"))
    assert problems(dataclasses.replace(invoice, items=(item, invoice.items[1]))) == [
        "Items[0].TotalAmount 1190.00 is not SaleValue + TaxCharged + FurtherTax (1180.00)"
    ]


def test_line_tax_may_be_a_paisa_off_not_more(make_invoice):
    invoice = make_invoice()
    line = invoice.items[0]
    off_by_a_paisa = dataclasses.replace(line, tax_charged=Decimal("180.01"), total_amount=Decimal("1180.01"))
    inv = make_invoice(items=[off_by_a_paisa])
    assert problems(inv) == []
    off_by_more = dataclasses.replace(line, tax_charged=Decimal("180.50"), total_amount=Decimal("1180.50"))
    assert problems(make_invoice(items=[off_by_more])) == ["Items[0].TaxCharged 180.50 is not 18% of SaleValue 1000.00"]


def test_pct_codes_are_eight_digits(make_invoice):
    invoice = make_invoice()
    bad = dataclasses.replace(invoice.items[0], pct_code="6109")
    assert problems(make_invoice(items=[bad])) == ["Items[0].PCTCode must be 8 digits without a dot (got '6109')"]


def test_credit_and_debit_notes_need_the_original_and_matching_item_types(make_invoice):
    assert problems(make_invoice("R-1", invoice_type=InvoiceType.CREDIT, ref_usin=None)) == [
        "RefUSIN (the original invoice's USIN) is required on a credit or debit note"
    ]
    sale_lines = make_invoice().items
    credit = make_invoice("R-1", invoice_type=InvoiceType.CREDIT, ref_usin="S-1", items=list(sale_lines))
    assert problems(credit) == [
        "Items[0].InvoiceType 1 does not fit a header of type 3 (allowed: 3, 12)",
        "Items[1].InvoiceType 1 does not fit a header of type 3 (allowed: 3, 12)",
    ]
    assert problems(make_invoice(ref_usin="S-0")) == ["RefUSIN is only for credit and debit notes"]
    own = make_invoice("R-1", invoice_type=InvoiceType.CREDIT, ref_usin="R-1")
    assert "RefUSIN must name another invoice, not this one" in problems(own)


def test_amounts_must_be_paisa_and_not_negative(make_invoice):
    line = make_invoice().items[0]
    negative = dataclasses.replace(line, discount=Decimal("-1.00"))
    fractional = dataclasses.replace(line, sale_value=Decimal("1000.001"))
    assert "Items[0].Discount must be 0 or more, in paisa" in problems(make_invoice(items=[negative]))
    assert "Items[0].SaleValue must be 0 or more, in paisa" in problems(make_invoice(items=[fractional]))
    zero_quantity = dataclasses.replace(line, quantity=Decimal(0))
    assert "Items[0].Quantity must be more than 0" in problems(make_invoice(items=[zero_quantity]))
    assert problems(make_invoice(items=[])) == ["an invoice needs at least one item"]


def test_buyer_over_the_threshold_needs_a_name(make_invoice):
    big = FiscalItem.priced(
        item_code="TV", item_name="Television", pct_code="85287200", quantity=1, tax_rate=18,
        sale_value=Decimal("100000.00"),
    )  # fmt: skip
    invoice = make_invoice(items=[big])
    assert problems(invoice) == ["an invoice over Rs 100,000 needs the buyer's name (SRO 1006(I)/2021)"]
    named = dataclasses.replace(invoice, buyer=Buyer(name="Sana Malik"))
    assert problems(named) == []
    strict = Rules(buyer_tax_id_above_threshold=True)
    assert problems(named, strict) == ["an invoice over Rs 100,000 needs the buyer's NTN or CNIC"]
    assert problems(dataclasses.replace(invoice, buyer=Buyer(name="Sana", cnic="3520212345671")), strict) == []
    assert problems(invoice, Rules(buyer_threshold=None)) == []


def test_buyer_identifiers_must_have_their_formats(make_invoice):
    buyer = Buyer(name="X", ntn="12-34", cnic="352021234567", phone="+92 300 1234567 8888 9999 0")
    assert problems(dataclasses.replace(make_invoice(), buyer=buyer)) == [
        "BuyerNTN must be 7 digits and a check digit, e.g. 1234567-8",
        "BuyerCNIC must be 13 digits",
        "BuyerPhoneNumber must be 1 to 20 digits",
    ]


amounts = st.integers(min_value=0, max_value=50_000_000).map(lambda paisa: Decimal(paisa) / 100)
rates = st.sampled_from([Decimal(0), Decimal(5), Decimal(16), Decimal("17.5"), Decimal(18), Decimal(25)])
quantities = st.one_of(
    st.integers(min_value=1, max_value=500).map(Decimal),
    st.integers(min_value=1, max_value=99_999).map(lambda g: Decimal(g) / 1000),
)
lines = st.lists(st.tuples(amounts, amounts, rates, quantities, amounts), min_size=1, max_size=8)


@settings(max_examples=150, deadline=None)
@given(lines=lines, credit=st.booleans())
def test_every_summed_invoice_passes_our_checks_and_the_simulators(lines, credit):
    """Two independent readings of the rules (fbr/invoice.py on the model, the simulator on the JSON) agree
    on every invoice built the ordinary way."""
    kind = ItemInvoiceType.CREDIT if credit else ItemInvoiceType.NEW
    ref = "S-1" if credit else None
    items = [
        FiscalItem.priced(
            item_code=f"SKU-{i}", item_name="Item", pct_code="61091000", quantity=q, tax_rate=rate,
            sale_value=sale, discount=discount, further_tax=further, invoice_type=kind, ref_usin=ref,
        )
        for i, (sale, discount, rate, q, further) in enumerate(lines)
    ]  # fmt: skip
    invoice = FiscalInvoice.summed(
        usin="S-2" if credit else "S-1",
        pos_id=POS_ID,
        issued_at=datetime(2026, 1, 1, 9, 0),
        items=items,
        payment_mode=PaymentMode.MIXED,
        invoice_type=InvoiceType.CREDIT if credit else InvoiceType.NEW,
        ref_usin=ref,
        buyer=Buyer(name="Sana Malik", cnic="3520212345671"),
    )
    assert problems(invoice) == []
    assert check(to_post_data(invoice), SimConfig())[0] == []
