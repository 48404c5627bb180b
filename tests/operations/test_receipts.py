"""Thermal receipt rendering: width limits, wrapping, local time, ASCII output, fiscal fields."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from operations.counter.receipts import WIDTHS, ReceiptData, ReceiptLine, ReceiptTender, render_thermal

# 14:30 UTC is 19:30 in Lahore (PKT, UTC+5, no DST).
ISSUED = datetime(2025, 3, 15, 14, 30, tzinfo=UTC)


def small_receipt(**changes) -> ReceiptData:
    receipt = ReceiptData(
        retailer="Gulnar Textiles",
        branch_name="Gulberg Lahore",
        branch_code="LHR-GUL",
        counter_code="C1",
        cashier="Ayesha",
        register_id=3,
        shift_id=12,
        sale_number="LHR-GUL-C1-000042",
        issued_at=ISSUED,
        timezone="Asia/Karachi",
        lines=[
            ReceiptLine("Gulnar Lawn 3-Pc Rust", "GL-3PC-RST", 2, D("4500.00"), D("500.00"), D("8500.00"), D("18")),
        ],
        subtotal=D("9000.00"),
        discount_total=D("500.00"),
        tax_total=D("1296.61"),
        tax_by_rate={D("18"): (D("7203.39"), D("1296.61"))},
        total=D("8500.00"),
        tenders=[ReceiptTender("Cash", D("10000.00"))],
        change_due=D("1500.00"),
    )
    return replace(receipt, **changes)


def realistic_receipt(**changes) -> ReceiptData:
    """Three lines, an order discount spread over them, card + cash split, change due."""
    lines = [
        ReceiptLine("Gulnar Lawn 3-Pc Rust", "GL-3PC-RST", 2, D("4500.00"), D("450.00"), D("8550.00"), D("18")),
        ReceiptLine(
            "Embroidered Chiffon Dupatta Off-White", "DUP-CHF-OW", 1, D("2990.00"), D("149.50"), D("2840.50"), D("18")
        ),
        ReceiptLine(
            "Kids Kurta Shalwar Set Navy 6-7Y", "KKS-NVY-67", 3, D("1250.00"), D("187.50"), D("3562.50"), D("0")
        ),
    ]
    receipt = small_receipt(
        customer="Fatima Malik (0300-1234567)",
        salesperson="Bilal",
        lines=lines,
        subtotal=D("15740.00"),
        discount_total=D("787.00"),
        tax_total=D("1737.51"),
        tax_by_rate={D("0"): (D("3562.50"), D("0.00")), D("18"): (D("9652.99"), D("1737.51"))},
        total=D("14953.00"),
        tenders=[ReceiptTender("Card", D("12000.00"), "4242"), ReceiptTender("Cash", D("5000.00"))],
        change_due=D("2047.00"),
    )
    return replace(receipt, **changes)


def assert_printable(text: str, width: int) -> None:
    assert text.endswith("\n")
    assert text.isascii()
    for line in text.split("\n")[:-1]:
        assert len(line) <= width, repr(line)
        assert line == line.rstrip(), repr(line)


# The whole 58 mm receipt, so a reader sees the layout the printer gets.
GOLDEN_58 = """\
        Gulnar Textiles
         Gulberg Lahore
  Branch LHR-GUL - Counter C1
          SALE RECEIPT
       LHR-GUL-C1-000042
        15-03-2025 19:30
        Cashier: Ayesha
     Register 3 - Shift 12
--------------------------------
Gulnar Lawn 3-Pc Rust
2 x 4,500.00            8,500.00
  Discount               -500.00
--------------------------------
Subtotal:               9,000.00
Discount:                -500.00
Sales tax 18% (incl.):  1,296.61
TOTAL (PKR):            8,500.00
Cash:                  10,000.00
Change:                 1,500.00
--------------------------------
 Thank you for shopping with us
"""


def test_golden_58mm():
    assert render_thermal(small_receipt(), 58) == GOLDEN_58


@pytest.mark.parametrize("width_mm", [58, 80])
def test_realistic_sale_fits_paper(width_mm):
    text = render_thermal(realistic_receipt(), width_mm)

    assert_printable(text, WIDTHS[width_mm])
    for expected in ("-787.00", "Card (4242):", "12,000.00", "Cash:", "2,047.00", "14,953.00", "Sales tax 0%"):
        assert expected in text
    assert "Customer: Fatima Malik" in text
    assert "Salesperson: Bilal" in text


def test_default_width_is_80mm():
    assert render_thermal(small_receipt()) == render_thermal(small_receipt(), 80)


@pytest.mark.parametrize("width_mm", [0, 57, 76, 112])
def test_invalid_width_raises(width_mm):
    with pytest.raises(ValueError, match="width_mm"):
        render_thermal(small_receipt(), width_mm)


@pytest.mark.parametrize("width_mm", [58, 80])
def test_long_description_wraps_at_word_boundaries(width_mm):
    description = "Gulnar Premium Embroidered Lawn Unstitched Three Piece Suit With Printed Silk Dupatta Rust Orange"
    text = render_thermal(small_receipt(lines=[replace(small_receipt().lines[0], description=description)]), width_mm)

    assert_printable(text, WIDTHS[width_mm])
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("Gulnar Premium"))
    end = next(i for i, line in enumerate(lines) if line.startswith("2 x "))
    wrapped = lines[start:end]
    assert len(wrapped) > 1
    # Every printed token is a whole word, and the words come back in order.
    assert " ".join(wrapped).split() == description.split()


def test_word_longer_than_paper_is_split():
    word = "X" * 40
    text = render_thermal(small_receipt(lines=[replace(small_receipt().lines[0], description=word)]), 58)

    assert_printable(text, 32)
    assert "X" * 32 + "\n" + "X" * 8 + "\n" in text


def test_huge_amounts_and_long_names_do_not_overflow_58mm():
    huge = D("99999999.99")
    receipt = realistic_receipt(
        retailer="Khaadi Khaas Premium Pret & Unstitched Collection Private Limited",
        branch_name="Dolmen Mall Clifton Karachi Ground Floor Unit 12",
        cashier="Muhammad Abdul Rehman Siddiqui",
        lines=[ReceiptLine("Bridal Lehenga", "BRD-1", 9999, huge, huge, huge, D("18"))],
        subtotal=huge,
        discount_total=huge,
        tax_total=huge,
        tax_by_rate={D("17.5"): (huge, huge)},
        total=huge,
        tenders=[ReceiptTender("Bank", huge, "IBFT-20250315-000000001234567890")],
        change_due=huge,
    )
    text = render_thermal(receipt, 58)

    assert_printable(text, 32)
    assert "99,999,999.99" in text
    assert "Sales tax 17.5% (incl.):" in text


def test_local_time_is_printed_in_branch_time_zone():
    assert "15-03-2025 19:30" in render_thermal(small_receipt(), 58)
    # 20:15 UTC is already the next day in Karachi.
    late = render_thermal(small_receipt(issued_at=datetime(2025, 12, 31, 20, 15, tzinfo=UTC)), 58)
    assert "01-01-2026 01:15" in late


def test_naive_timestamp_is_rejected():
    with pytest.raises(ValueError, match="aware"):
        render_thermal(small_receipt(issued_at=datetime(2025, 3, 15, 14, 30)), 58)


def test_non_ascii_is_transliterated():
    receipt = small_receipt(
        retailer="Gul Ahmed – Ideas",
        branch_name="Café Mall · Lahore",
        customer="Zoë “VIP”",
        lines=[replace(small_receipt().lines[0], description="Lawn Suit — Rust\x1b@ 3 × 2")],
        footer="Shukriya… Exchange within 7 days",
    )
    text = render_thermal(receipt, 80)

    assert_printable(text, 48)
    assert "Gul Ahmed - Ideas" in text
    assert "Cafe Mall - Lahore" in text
    assert 'Customer: Zoe "VIP"' in text
    assert "Lawn Suit - Rust @ 3 x 2" in text  # the ESC control byte is gone
    assert "\x1b" not in text
    assert "Shukriya... Exchange within 7 days" in text


def test_fiscal_fields_only_when_set():
    plain = render_thermal(small_receipt(), 58)
    assert "FBR" not in plain
    assert "[QR]" not in plain

    fiscal = render_thermal(small_receipt(fiscal_invoice_number="123456ABCD789012345", fiscal_qr="[QR]"), 58)
    assert_printable(fiscal, 32)
    assert "FBR Invoice: 123456ABCD789012345" in fiscal
    assert "QR: [QR]" in fiscal and "9966" in fiscal.split("\n")[-4]  # the QR, then how to verify it


def test_the_fiscal_block_says_pending_until_the_number_is_back():
    for width, columns in ((58, 32), (80, 48)):
        pending = render_thermal(
            small_receipt(fiscal_authority="fbr", fiscal_pos_id="100001", fiscal_fee=D("1.00")), width
        )
        assert_printable(pending, columns)
        assert "FBR fiscal number pending" in pending and "FBR POS 100001" in pending
        assert "POS service fee:" in pending and "FBR Invoice" not in pending
        pra = render_thermal(small_receipt(fiscal_authority="pra", fiscal_invoice_number="N1", fiscal_qr="u"), width)
        assert "PRA Invoice: N1" in pra and "9966" not in pra


def test_exclusive_tax_has_no_incl_note_and_title_is_printed():
    text = render_thermal(small_receipt(tax_inclusive=False, title="RETURN RECEIPT"), 58)
    assert "(incl.)" not in text
    assert "Sales tax 18%:" in text
    assert "RETURN RECEIPT" in text
