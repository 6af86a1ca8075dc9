"""Amounts are integers in minor units plus an ISO 4217 code; the exponent is the currency's."""

from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision
from django.utils.translation import get_language, to_locale

# The largest amount an amount column (PositiveIntegerField, a PostgreSQL integer) holds, in
# minor units: 21,474,836.47 ARS, 2,147,483,647 CLP.
MAX_AMOUNT = 2**31 - 1


def exponent(currency: str) -> int:
    return get_currency_precision(currency)


def to_major(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-exponent(currency))


def to_minor(amount: Decimal | str | float, currency: str) -> int:
    """A provider's decimal amount in major units (`212.5` BRL) as minor units (21250)."""
    return int(Decimal(str(amount)).scaleb(exponent(currency)).to_integral_value())


def format_money(amount: int, currency: str, language: str | None = None) -> str:
    """`format_money(1234500, "ARS")` -> "12.345,00 ARS" in Spanish, "ARS12,345.00" in English
    (Babel's CLDR patterns for the language)."""
    locale = to_locale(language or get_language() or "es")
    return format_currency(
        to_major(amount, currency), currency, locale=locale, currency_digits=True
    )
