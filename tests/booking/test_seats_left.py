"""More passengers than seats left: the live total says so before the traveller submits, and
the hold refuses it on submit in the same words (issue 11, point 5)."""

import pytest

from booking.models import Reservation
from tests.factories import book_data, hold

HTMX = {"HTTP_HX_REQUEST": "true"}


def quote(client, slot, adults: int, children: int = 0, language: str = "en"):
    data = book_data(slot, adults=adults, children=children) | {"quote": "1"}
    data.pop("hold")
    return client.post(f"/departures/{slot.pk}/book/", data, HTTP_ACCEPT_LANGUAGE=language, **HTMX)


def test_the_live_total_says_how_many_seats_are_left(alpha_client, trip):
    _activity, slot = trip  # six seats
    hold(slot, 2, scope="someone-else")
    response = quote(alpha_client, slot, adults=4, children=1)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="total"')  # the fragment only
    assert 'data-testid="seats-limit">Only 4 seats left on this departure.</p>' in body
    assert 'data-testid="total"' not in body  # no total for a booking that cannot be made


def test_the_live_total_prices_what_fits(alpha_client, trip):
    _activity, slot = trip
    body = quote(alpha_client, slot, adults=4, children=2).content.decode()
    assert "seats left on this departure" not in body
    assert 'data-testid="total"' in body


def test_one_seat_left_and_none_left(alpha_client, trip):
    _activity, slot = trip
    hold(slot, 5, scope="someone-else")
    assert "Only 1 seat left on this departure." in quote(alpha_client, slot, 2).content.decode()
    hold(slot, 1, scope="another-one")
    assert "This departure is sold out." in quote(alpha_client, slot, 1).content.decode()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("es", "Solo quedan 4 lugares en esta salida."),
        ("pt-br", "Restam apenas 4 vagas nesta saída."),
    ],
)
def test_the_limit_in_the_travellers_language(alpha_client, trip, language, words):
    _activity, slot = trip
    hold(slot, 2, scope="someone-else")
    assert words in quote(alpha_client, slot, 5, language=language).content.decode()


def test_submit_is_refused_in_the_same_words(alpha_client, trip):
    _activity, slot = trip
    hold(slot, 2, scope="someone-else")
    live = quote(alpha_client, slot, adults=4, children=1).content.decode()
    response = alpha_client.post(
        f"/departures/{slot.pk}/book/", book_data(slot, adults=4, children=1)
    )
    body = response.content.decode()
    assert response.status_code == 409
    words = "Only 4 seats left on this departure."
    assert words in live and words in body
    assert Reservation.objects.filter(slot=slot).count() == 1  # only the other traveller's


def test_without_javascript_the_update_button_says_it_too(alpha_client, trip):
    _activity, slot = trip
    data = book_data(slot, adults=7, children=0) | {"quote": "1"}
    data.pop("hold")
    body = alpha_client.post(f"/departures/{slot.pk}/book/", data).content.decode()
    assert "<html" in body
    assert body.count("Only 6 seats left on this departure.") == 1
