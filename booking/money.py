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


# "ARS 170.000,00": the ISO code before the amount, so a traveller from abroad never mistakes
# pesos for dollars (the symbol "$" is both); Brazilians read their own "R$ 850,00". A
# non-breaking space keeps the code and the amount on one line.
CODE_PATTERN = "\u00a4\u00a4\u00a0#,##0.00"
SYMBOL_PATTERN = "\u00a4\u00a0#,##0.00"
SYMBOL_AT_HOME = {"BRL": "pt_BR"}


def format_money(amount: int, currency: str, language: str | None = None) -> str:
    """`format_money(17000000, "ARS")` -> "ARS 170.000,00" in Spanish, "ARS 170,000.00" in
    English; `format_money(85000, "BRL", "pt-br")` -> "R$ 850,00"; CLP without decimals. The
    separators are the language's (Babel's CLDR data), the digits the currency's."""
    locale = to_locale(language or get_language() or "es")
    pattern = SYMBOL_PATTERN if SYMBOL_AT_HOME.get(currency) == locale else CODE_PATTERN
    return format_currency(
        to_major(amount, currency), currency, pattern, locale=locale, currency_digits=True
    )
