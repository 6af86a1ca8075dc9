"""Small helpers shared by both emulators: ids, clocks, money, HTML layout, idempotency."""

import html
import secrets
import string
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

_ALPHABET = string.ascii_letters + string.digits

# Stripe's zero-decimal currencies (amounts are already in major units).
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga"}
    | {"pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)


def random_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


class Counter:
    """Thread-safe increasing integers, for Mercado Pago's numeric ids."""

    def __init__(self, start: int) -> None:
        self._next = start
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            self._next += secrets.randbelow(97) + 1
            return self._next


def now() -> int:
    return int(time.time())


MP_TZ = timezone(timedelta(hours=-4))


def mp_datetime(moment: float | None = None) -> str:
    """Mercado Pago's timestamp format: `2025-01-31T10:20:30.123-04:00`."""
    value = datetime.fromtimestamp(time.time() if moment is None else moment, MP_TZ)
    return value.isoformat(timespec="milliseconds")


def utc_iso(moment: float | None = None) -> str:
    value = datetime.fromtimestamp(time.time() if moment is None else moment, UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(text: str) -> float:
    """An ISO 8601 timestamp (offset or `Z`; naive means UTC) as a unix time."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def format_minor(amount: int, currency: str) -> str:
    """`12000, "usd"` -> `USD 120.00`; zero-decimal currencies have no fraction."""
    code = currency.upper()
    if currency.lower() in ZERO_DECIMAL:
        return f"{code} {amount:,}"
    return f"{code} {amount / 100:,.2f}"


def format_major(amount: Decimal, currency: str) -> str:
    decimals = 0 if currency.lower() in ZERO_DECIMAL else 2
    return f"{currency.upper()} {amount:,.{decimals}f}"


def json_number(value: Decimal) -> int | float:
    """A decimal amount as Mercado Pago writes it in JSON (100, 58.8)."""
    return int(value) if value == value.to_integral_value() else float(value)


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


PAGE_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#f6f8fa;color:#1a1f36}
main{max-width:28rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px;
box-shadow:0 2px 8px rgba(0,0,0,.08)}
h1{font-size:1.25rem;margin-top:0}.amount{font-size:2rem;font-weight:600;margin:.5rem 0 1rem}
ul{padding-left:1.2rem}form{display:inline-block;margin:.5rem .5rem 0 0}
button{font-size:1rem;padding:.6rem 1.4rem;border-radius:6px;border:1px solid #888;cursor:pointer}
button.primary{background:#635bff;color:#fff;border-color:#635bff}
[role=alert]{background:#fdecea;color:#8a1c12;padding:.75rem;border-radius:6px}
[role=status]{background:#e8f5e9;color:#1b5e20;padding:.75rem;border-radius:6px}
textarea{width:100%;font-family:monospace;font-size:.8rem}img.qr{width:220px;height:220px}
"""


def page(title: str, body: str, lang: str = "en") -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{PAGE_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def button_form(action: str, label: str, primary: bool = False) -> str:
    css = ' class="primary"' if primary else ""
    return (
        f'<form method="post" action="{esc(action)}">'
        f'<button type="submit"{css}>{esc(label)}</button></form>'
    )


@dataclass
class StoredResponse:
    fingerprint: object
    method: str
    path: str
    status: int
    body: bytes
    request_id: str


class IdempotencyStore:
    """First responses by (credential, key): providers replay them for a retried request."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], StoredResponse] = {}

    def get(self, credential: str, key: str) -> StoredResponse | None:
        return self._entries.get((credential, key))

    def put(self, credential: str, key: str, entry: StoredResponse) -> None:
        self._entries[(credential, key)] = entry

    def clear(self) -> None:
        self._entries.clear()
