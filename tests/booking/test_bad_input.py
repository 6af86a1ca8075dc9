"""Input from outside that the traveller's pages must refuse or ignore, never answer 500
(issue 8): over-long idempotency keys and e-mails, days and months beyond the calendar."""

from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from booking.models import IdempotencyKey, Reservation
from tests.factories import ALPHA_HOST, book_data

USHUAIA = "America/Argentina/Ushuaia"  # Alpha's time zone


def _nothing_held(slot):
    slot.refresh_from_db()
    assert slot.taken == 0
    assert not Reservation.objects.exists()
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("key", ["k" * 256, "k" * 5000, "bad\x01key"])
def test_an_unusable_idempotency_key_header_is_refused_with_400(alpha_client, trip, key):
    _, slot = trip
    response = alpha_client.post(
        f"/departures/{slot.pk}/book/", book_data(slot, key=""), HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 400
    assert "The request&#x27;s Idempotency-Key header is not usable" in response.content.decode()
    _nothing_held(slot)


def test_an_idempotency_key_header_of_255_characters_is_honoured(alpha_client, trip):
    _, slot = trip
    key = "k" * 255
    response = alpha_client.post(
        f"/departures/{slot.pk}/book/", book_data(slot, key=""), HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 303
    assert IdempotencyKey.objects.get().key == key


def test_a_form_key_longer_than_its_column_is_refused(alpha_client, trip):
    _, slot = trip
    response = alpha_client.post(f"/departures/{slot.pk}/book/", book_data(slot, key="k" * 256))
    assert response.status_code == 400
    _nothing_held(slot)


def test_an_email_longer_than_its_column_is_refused_in_the_travellers_language(trip):
    _, slot = trip
    email = "a" * 64 + "@" + "b" * 60 + "." + "c" * 60 + "." + "d" * 60 + "." + "e" * 60 + ".com"
    assert 254 < len(email) <= 320  # an address the e-mail validator alone accepts
    spanish = Client(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE="es")
    response = spanish.post(
        f"/departures/{slot.pk}/book/", book_data(slot, contact_email=email, key="k")
    )
    assert response.status_code == 400
    assert "tenga menos de 254 caracteres (tiene 312)" in response.content.decode()
    _nothing_held(slot)


@pytest.mark.parametrize(
    "query",
    [
        "month=9999-12",
        "day=9999-12-31",
        "month=" + "9" * 36 + "-1",
        "day=0001-01-01",
        "month=0001-01",
        "from=0001-01-01",
        "activity=%C2%B2",
        "month=%C2%B2%C2%B2%C2%B2%C2%B2-01",
        "day=9999-12-31&month=2030-01",
    ],
)
def test_days_and_months_beyond_the_calendar_show_the_default_month(alpha_client, trip, query):
    activity, _ = trip
    response = alpha_client.get(f"/activities/{activity.slug}/?{query}")
    assert response.status_code == 200
    this_month = timezone.localdate(timezone=ZoneInfo(USHUAIA)).replace(day=1)
    calendar = response.context["calendar"]
    assert calendar.month == this_month or query.endswith("month=2030-01")
    assert response.context["departures"] == []
