"""Days and months read from query strings: malformed or out of the sane range of years is
the same as absent."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from booking.days import parse_day, parse_month, validate_day

DEFAULT = date(2030, 5, 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2030-06-15", date(2030, 6, 15)),
        ("1900-01-01", date(1900, 1, 1)),
        ("2999-12-31", date(2999, 12, 31)),
        (None, DEFAULT),
        ("", DEFAULT),
        ("2030-02-30", DEFAULT),
        ("9999-12-31", DEFAULT),
        ("0001-01-01", DEFAULT),
        ("1899-12-31", DEFAULT),
        ("3000-01-01", DEFAULT),
        ("\x00", DEFAULT),
        ("²", DEFAULT),
    ],
)
def test_parse_day(value, expected):
    assert parse_day(value, DEFAULT) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2030-06", date(2030, 6, 1)),
        ("2030-6", date(2030, 6, 1)),
        ("2999-12", date(2999, 12, 1)),
        (None, DEFAULT),
        ("", DEFAULT),
        ("2030-13", DEFAULT),
        ("2030-00", DEFAULT),
        ("9999-12", DEFAULT),
        ("0001-01", DEFAULT),
        ("9" * 36 + "-1", DEFAULT),
        ("2030-06-01", DEFAULT),
        ("-2030-06", DEFAULT),
        ("²⁰³⁰-06", DEFAULT),
        ("٢٠٣٠-06", DEFAULT),
        ("2030-\x006", DEFAULT),
    ],
)
def test_parse_month(value, expected):
    assert parse_month(value, DEFAULT) == expected


def test_form_days_outside_the_sane_years_are_refused():
    validate_day(date(2030, 1, 1))
    for day in (date(1, 1, 1), date(9999, 12, 31)):
        with pytest.raises(ValidationError):
            validate_day(day)
