"""The providers' checkouts name the activity in the traveller's language (the language the
booking was made in), whatever language the request that starts the payment speaks: the
emulators' hosted pages show what the SDKs sent (issue 11, point 3)."""

import uuid
from html import unescape
from urllib.request import urlopen

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from booking.content import as_texts
from booking.models import Reservation
from tests.factories import book_data

pytestmark = pytest.mark.xdist_group("races")
NAMES = {"es": "Navegación al faro", "en": "Lighthouse cruise", "pt-br": "Passeio ao farol"}


def reservation_in(paying, language: str) -> Reservation:
    """A held booking made by a traveller reading the site in `language`."""
    slot = paying.committed.slot(capacity=6)
    with tenant_context(paying.committed.operator):
        activity = slot.activity
        activity.set_texts("name", as_texts(NAMES))
        activity.save()
        data = book_data(slot, adults=1, children=0, key=uuid.uuid4().hex)
    host = paying.client.defaults["HTTP_HOST"]
    response = Client(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE=language).post(
        f"/departures/{slot.pk}/book/", data
    )
    assert response.status_code == 303, response.content.decode()[:2000]
    with tenant_context(paying.committed.operator):
        return Reservation.objects.get(code=response["Location"].split("/")[-2])


def hosted_page(url: str) -> str:
    with urlopen(url, timeout=10) as response:  # the emulator's page, on 127.0.0.1
        return unescape(response.read().decode())


@pytest.mark.parametrize("choice", ["stripe:card", "mercadopago:checkout"])
@pytest.mark.parametrize("language", ["pt-br", "es"])
def test_the_checkout_names_the_activity_in_the_travellers_language(paying, choice, language):
    reservation = reservation_in(paying, language)
    assert reservation.language == language
    # The payment is started from a browser reading English (paying.client).
    page = hosted_page(paying.pay(reservation, choice))
    assert NAMES[language] in page
    assert NAMES["en"] not in page
