"""The receipt's QR code: what it holds and its SVG/PNG renderings (segno).

FBR: the POS makes the QR from the FBR invoice number (POS rules as quoted in the reference; the ERPNext
integration encodes just the number), so the content is the number itself. PRA: the QR holds PRA's
verification URL for the number. Size on paper (at least 7×7 mm per SRO 1006(I)/2021) is the printer's
business; ``scale`` here is pixels per module.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import segno

from fbr.invoice import Authority

if TYPE_CHECKING:
    from fbr.client import FiscalAnswer

PRA_VERIFY_URL = "https://e.pra.punjab.gov.pk/IMSFiscalReport/SearchPOSInvoice_Report.aspx?PRAInvNo={number}"
ERROR_LEVEL = "m"  # segno raises it further when the symbol has room to spare (boost_error)


def qr_content(
    answer: FiscalAnswer | str, *, authority: Authority = Authority.FBR, pra_url: str = PRA_VERIFY_URL
) -> str:
    """What the QR encodes for a fiscal number (or the answer that carried it)."""
    number = answer if isinstance(answer, str) else answer.invoice_number
    number = number.strip()
    if not number:
        raise ValueError("a QR code needs a fiscal invoice number")
    if authority == Authority.PRA:
        return pra_url.format(number=number)
    return number


def _code(content: str) -> segno.QRCode:
    if not content:
        raise ValueError("nothing to encode")
    return segno.make_qr(content, error=ERROR_LEVEL)


def qr_svg(content: str, *, scale: int = 4, border: int = 4) -> str:
    """A standalone SVG document (no XML declaration), black on white."""
    out = io.BytesIO()
    _code(content).save(out, kind="svg", scale=scale, border=border, xmldecl=False, svgns=True, nl=False)
    return out.getvalue().decode("utf-8")


def qr_png(content: str, scale: int = 4, *, border: int = 4) -> bytes:
    out = io.BytesIO()
    _code(content).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def qr_text(content: str, *, border: int = 2) -> list[str]:
    """The symbol as rows of '█'/' ' (two characters per module), for text previews and tests."""
    return ["".join("██" if dark else "  " for dark in row) for row in _code(content).matrix_iter(border=border)]
