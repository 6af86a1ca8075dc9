"""Booking fixtures: a boat trip with one departure."""

import pytest
from django.utils import timezone

from tests.factories import local


@pytest.fixture
def trip(make_activity, make_slot):
    """A boat trip with a 10:00 departure in three days (Ushuaia time)."""
    with timezone.override("America/Argentina/Ushuaia"):
        activity = make_activity()
        slot = make_slot(activity, capacity=6, starts_at=local(3, 10))
    return activity, slot
