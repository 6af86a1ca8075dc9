"""Prices as staff type them: in the currency's major units, written the way the staff
member's language writes numbers ("170.000,50" in Spanish, "170,000.50" in English), parsed
with Babel into minor units."""

import re
from decimal import Decimal

from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from django import forms
from django.conf import settings
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext_lazy as _

from booking.money import MAX_AMOUNT, exponent, to_major, to_minor

# Digits, and the separators some language writes between them: nothing else is a price
# (no sign, exponent, NaN or other scripts' digits, which Babel would take).
PRICE_CHARACTERS = re.compile(r"^[0-9.,'\s\u00a0\u202f]+$")


def _locale() -> str:
    return to_locale(get_language() or settings.LANGUAGE_CODE)


class PriceField(forms.CharField):
    """A price in the major units of `currency`, written as the active language writes
    numbers; cleaned to minor units (an int), within what an amount column holds."""

    def __init__(self, *, currency: str, **kwargs):
        self.currency = currency
        kwargs.setdefault("label", _("Price (%(currency)s)") % {"currency": currency})
        super().__init__(max_length=32, **kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def example(self) -> str:
        return format_decimal(Decimal("170000.50"), format="#,##0.00", locale=_locale())

    def prepare_value(self, value):
        if isinstance(value, int):  # minor units, as the form's initial data has them
            places = exponent(self.currency)
            return format_decimal(
                to_major(value, self.currency),
                format="#,##0" + ("." + "0" * places if places else ""),
                locale=_locale(),
            )
        return value

    def clean(self, value) -> int | None:
        value = super().clean(value)
        if value in self.empty_values:
            return None
        invalid = forms.ValidationError(
            _("Type the price as a number, like %(example)s."),
            code="invalid",
            params={"example": self.example()},
        )
        if not PRICE_CHARACTERS.match(value):
            raise invalid
        try:
            major = parse_decimal(value.strip(), locale=_locale(), strict=True)
        except NumberFormatError as exc:
            raise invalid from exc
        if not major.is_finite():
            raise invalid
        places = exponent(self.currency)
        if -major.as_tuple().exponent > places:
            raise forms.ValidationError(
                _("%(currency)s prices have at most %(places)d decimals.")
                if places
                else _("%(currency)s prices have no decimals."),
                code="decimals",
                params={"currency": self.currency, "places": places},
            )
        if major > to_major(MAX_AMOUNT, self.currency):
            raise forms.ValidationError(
                _("At most %(most)s."),
                code="max_value",
                params={
                    "most": format_decimal(to_major(MAX_AMOUNT, self.currency), locale=_locale())
                },
            )
        return to_minor(major, self.currency)
