"""The receipt's QR for clients and printers: the content the counter stored, drawn by fbr/qr.py."""

from fbr.qr import qr_png, qr_svg


def fiscal_qr_svg(content: str) -> str:
    return qr_svg(content)


def fiscal_qr_png(content: str) -> bytes:
    return qr_png(content)
