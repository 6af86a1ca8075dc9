"""Pix "copia e cola" codes (EMV BR Code with CRC16) and their QR images as PNG."""

import base64
import io
import unicodedata
import uuid
from decimal import Decimal

import segno


def _field(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def crc16(data: bytes) -> str:
    """CRC-16/CCITT-FALSE, as the BR Code specification requires."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _ascii(text: str, limit: int) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return (plain.upper() or "EMULATOR")[:limit]


def br_code(
    amount: Decimal, location: str, merchant: str = "Emulated Merchant", city: str = "SAO PAULO"
) -> str:
    """A dynamic Pix payload pointing at `location` (host/path, no scheme)."""
    account = _field("00", "br.gov.bcb.pix") + _field("25", location[:77])
    payload = (
        _field("00", "01")
        + _field("01", "12")
        + _field("26", account)
        + _field("52", "0000")
        + _field("53", "986")
        + _field("54", f"{amount:.2f}")
        + _field("58", "BR")
        + _field("59", _ascii(merchant, 25))
        + _field("60", _ascii(city, 15))
        + _field("62", _field("05", "***"))
        + "6304"
    )
    return payload + crc16(payload.encode())


def new_location(host: str) -> str:
    return f"{host}/pix/qr/v2/{uuid.uuid4()}"


def qr_png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=5, border=2)
    return buffer.getvalue()


def qr_png_base64(text: str) -> str:
    return base64.b64encode(qr_png(text)).decode()
