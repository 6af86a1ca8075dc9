"""Booking fixtures: a boat trip with one departure, and the booking form's data."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone


def local(day_offset: int, hour: int) -> datetime:
    zone = timezone.get_current_timezone()
    day = timezone.localdate() + timedelta(days=day_offset)
    return datetime.combine(day, time(hour), tzinfo=zone)


@pytest.fixture
def trip(make_activity, make_slot):
    """A boat trip with a 10:00 departure in three days (Ushuaia time)."""
    with timezone.override("America/Argentina/Ushuaia"):
        activity = make_activity()
        slot = make_slot(activity, capacity=6, starts_at=local(3, 10))
    return activity, slot


def book_data(slot, adults=2, children=1, key="key-1", **extra):
    adult, child = slot.activity.rates.all()
    return {
        f"rate_{adult.pk}": adults,
        f"rate_{child.pk}": children,
        "contact_name": "Ana Viajera",
        "contact_email": "Ana@Example.com",
        "contact_phone": "+54 9 2901 000000",
        "idempotency_key": key,
        "hold": "1",
    } | extra
