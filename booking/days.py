"""Days as an operator sees them: calendar days in the current (operator's) time zone, which
the middleware activates for each request, and days and months read from query strings and
forms.

A day from outside is kept only within FIRST_YEAR..LAST_YEAR: wide enough for any history or
plan, narrow enough that a calendar's surrounding weeks, a month either side and the UTC
instants of its bounds all stay inside what `date` and PostgreSQL hold. Query strings that
name anything else (malformed, year 9999 or 1) are ignored like an unknown filter; a form
field says why it refuses one (`validate_day`)."""

import re
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

FIRST_YEAR, LAST_YEAR = 1900, 2999

_MONTH = re.compile(r"(\d{4})-(\d{1,2})", re.ASCII)


def local_day_bounds(first: date, days: int = 1) -> tuple[datetime, datetime]:
    """The UTC instants where `days` local days from `first` start and end (end excluded)."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    return start, datetime.combine(first + timedelta(days=days), time.min, tzinfo=zone)


def is_sane_day(day: date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


def parse_day(value: str | None, default: date | None = None) -> date | None:
    """A day written as YYYY-MM-DD within the sane years, else `default`."""
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        day = None
    return day if day is not None and is_sane_day(day) else default


def parse_month(value: str | None, default: date) -> date:
    """The first day of a month written as YYYY-MM within the sane years, else `default`."""
    match = _MONTH.fullmatch(value or "")
    if match is None:
        return default
    year, month = int(match[1]), int(match[2])
    if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
        return default
    return date(year, month, 1)


def validate_day(day: date) -> None:
    """A form's date field: refuse a day outside the sane years, saying which are allowed."""
    if not is_sane_day(day):
        raise ValidationError(
            _("Choose a day between the years %(first)d and %(last)d."),
            code="day_out_of_range",
            params={"first": FIRST_YEAR, "last": LAST_YEAR},
        )
