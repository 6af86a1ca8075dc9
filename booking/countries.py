"""Countries by their ISO 3166-1 alpha-2 code, named in the reader's language (CLDR's names,
from Babel, which the project already uses for money)."""

import unicodedata
from functools import cache

from babel import Locale, UnknownLocaleError
from django.utils.translation import get_language, to_locale

# CLDR's two-letter territories that are not ISO 3166-1 countries: unions, outlying areas
# with codes of their own, private-use and unknown regions.
NOT_COUNTRIES = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"}
)


@cache
def _names(locale: str) -> dict[str, str]:
    try:
        territories = Locale.parse(locale).territories
    except (UnknownLocaleError, ValueError):
        territories = Locale.parse("en").territories
    return {
        code: name
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    }


def country_choices(language: str | None = None) -> list[tuple[str, str]]:
    """(code, name) pairs sorted by name in `language` (the active one by default)."""
    names = _names(to_locale(language or get_language() or "en"))
    return sorted(names.items(), key=lambda item: _sort_key(item[1]))


def _sort_key(name: str) -> str:
    """Åland among the A's, Égypte among the E's."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


def country_name(code: str, language: str | None = None) -> str:
    """The country's name in `language`, or the code itself when it is not one."""
    return _names(to_locale(language or get_language() or "en")).get(code, code)


def is_country(code: str) -> bool:
    return code in _names("en")
