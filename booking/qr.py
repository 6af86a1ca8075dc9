"""A reservation's code as a QR code, for check-in: inline SVG on the pages, a PNG in the
confirmation e-mail (attached inline and referenced by its Content-ID: mail clients block
images written as data URIs). The code alone is encoded: staff's check-in page searches it."""

import io

import segno


def _qr(code: str) -> segno.QRCode:
    return segno.make(code, error="m")


def code_qr_svg(code: str) -> str:
    """The SVG element (a viewBox, no size: CSS sizes it), to place inside a labelled element."""
    return _qr(code).svg_inline(scale=6, border=2, svgclass="qr-code", omitsize=True)


def code_qr_png(code: str) -> bytes:
    buffer = io.BytesIO()
    _qr(code).save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()
