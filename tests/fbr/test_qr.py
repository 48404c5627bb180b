"""The receipt QR: its content per authority and the SVG/PNG renderings."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import pytest
import segno

from fbr.client import FiscalAnswer
from fbr.invoice import Authority
from fbr.qr import qr_content, qr_png, qr_svg, qr_text

NUMBER = "12345620250601000001"


def test_fbr_qr_holds_the_fiscal_number():
    answer = FiscalAnswer(invoice_number=NUMBER, code="100", response="", raw="")
    assert qr_content(answer) == NUMBER == qr_content(f" {NUMBER} ")


def test_pra_qr_holds_the_verification_url():
    assert qr_content(NUMBER, authority=Authority.PRA) == (
        f"https://e.pra.punjab.gov.pk/IMSFiscalReport/SearchPOSInvoice_Report.aspx?PRAInvNo={NUMBER}"
    )


def test_no_number_no_qr():
    with pytest.raises(ValueError):
        qr_content("  ")
    with pytest.raises(ValueError):
        qr_svg("")


def test_svg_is_a_parseable_svg_document_sized_by_scale():
    svg = qr_svg(NUMBER, scale=3, border=4)
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    modules = segno.make_qr(NUMBER, error="m").symbol_size(border=4)[0]
    assert int(root.get("width")) == int(root.get("height")) == modules * 3
    assert root.find("{http://www.w3.org/2000/svg}path") is not None


def test_png_has_the_png_signature_and_the_expected_size():
    png = qr_png(NUMBER, 5)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    modules = segno.make_qr(NUMBER, error="m").symbol_size(border=4)[0]
    assert width == height == modules * 5


def test_text_rendering_is_square_and_a_sandbox_number_fits_a_small_symbol():
    rows = qr_text("966130BAYS37107326*test*", border=0)
    assert len(rows) <= 25 and all(len(r) == 2 * len(rows) for r in rows)  # version 2 or less
    assert rows[0].startswith("██████████████")  # the finder pattern's top edge
