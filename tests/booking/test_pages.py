"""The traveller's pages, full and as htmx fragments."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking.models import Reservation
from tests.factories import BETA_HOST, book_data, hold, local

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_catalogue_lists_active_activities_with_price_and_next_departure(alpha_client, trip):
    activity, slot = trip
    response = alpha_client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert activity.name in body
    assert "ARS" in body and "5,000.00" in body  # from the cheapest rate, in English
    ushuaia = timezone.get_fixed_timezone(-180)
    assert f'datetime="{timezone.localtime(slot.starts_at, ushuaia).isoformat()}"' in body


def test_catalogue_hides_inactive_activities(alpha_client, make_activity):
    make_activity(slug="gone", name="Retired trip").__class__.objects.filter(slug="gone").update(
        is_active=False
    )
    assert "Retired trip" not in alpha_client.get("/").content.decode()


def test_pages_speak_the_operators_language_unless_the_traveller_asks(trip):
    from django.test import Client

    spanish = Client(HTTP_HOST="alpha.localhost").get("/")
    assert spanish["Content-Language"] == "es"
    assert "Reservar tu excursión con Alpha Expeditions" in spanish.content.decode()
    portuguese = Client(HTTP_HOST="alpha.localhost", HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9").get("/")
    assert portuguese["Content-Language"] == "pt-br"
    assert "Reserve seu passeio com Alpha Expeditions" in portuguese.content.decode()
    chosen = Client(HTTP_HOST="alpha.localhost", HTTP_ACCEPT_LANGUAGE="pt-BR")
    chosen.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert chosen.get("/")["Content-Language"] == "en"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Departures on Thursday, March 4"),
        ("es", "Salidas del jueves 4 de marzo"),
        ("pt-br", "Saídas de quinta-feira, 4 de março"),
    ],
)
def test_dates_follow_the_language(make_activity, make_slot, language, expected):
    from django.test import Client

    activity = make_activity()
    with timezone.override("America/Argentina/Ushuaia"):
        make_slot(activity, starts_at=timezone.make_aware(datetime(2027, 3, 4, 10)))
    client = Client(HTTP_HOST="alpha.localhost", HTTP_ACCEPT_LANGUAGE=language)
    body = client.get(f"/activities/{activity.slug}/?day=2027-03-04").content.decode()
    assert expected in body


def test_activity_page_marks_days_and_lists_departures_of_the_chosen_day(alpha_client, trip):
    activity, slot = trip
    day = timezone.localtime(slot.starts_at).date()
    response = alpha_client.get(f"/activities/{activity.slug}/?day={day.isoformat()}")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" in body
    assert f"day={day.isoformat()}" in body
    assert 'class="day available selected"' in body or 'class="day few selected"' not in body
    assert "10:00" in body
    assert "6 seats left" in body
    assert f"/departures/{slot.pk}/book/" in body


def test_calendar_navigation_and_day_selection_are_fragments(alpha_client, trip):
    activity, slot = trip
    day = timezone.localtime(slot.starts_at).date()
    response = alpha_client.get(f"/activities/{activity.slug}/?day={day.isoformat()}", **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="availability">')
    assert f"/departures/{slot.pk}/book/" in body

    next_month = (timezone.localdate().replace(day=1) + timedelta(days=32)).strftime("%Y-%m")
    nav = alpha_client.get(f"/activities/{activity.slug}/?month={next_month}", **HTMX)
    assert nav.content.decode().lstrip().startswith('<div id="availability">')


def test_days_are_marked_few_left_and_sold_out(alpha_client, trip, make_slot):
    activity, slot = trip
    hold(slot, 3)  # 3 of 6 left: few
    sold_out = make_slot(activity, capacity=2, starts_at=local(4, 10))
    hold(sold_out, 2)
    response = alpha_client.get(f"/activities/{activity.slug}/?month={slot.starts_at:%Y-%m}")
    body = response.content.decode()
    assert "day few" in body
    if local(4, 10).month == slot.starts_at.month:
        assert "day sold-out" in body


def test_a_sold_out_departure_shows_no_booking_link(alpha_client, trip):
    activity, slot = trip
    hold(slot, 6)
    day = timezone.localtime(slot.starts_at).date()
    body = alpha_client.get(f"/activities/{activity.slug}/?day={day}").content.decode()
    assert "Sold out" in body
    assert f"/departures/{slot.pk}/book/" not in body


def test_booking_page_shows_passenger_counts_and_a_fresh_idempotency_key(alpha_client, trip):
    _, slot = trip
    first = alpha_client.get(f"/departures/{slot.pk}/book/").content.decode()
    second = alpha_client.get(f"/departures/{slot.pk}/book/").content.decode()
    assert 'name="idempotency_key"' in first
    key = first.split('name="idempotency_key" value="')[1].split('"')[0]
    assert key and key not in second
    assert "Adult" in first and "Child" in first


def test_live_total_is_computed_on_the_server(alpha_client, trip):
    _, slot = trip
    data = book_data(slot, adults=2, children=1) | {"quote": "1"}
    del data["hold"]
    response = alpha_client.post(f"/departures/{slot.pk}/book/", data, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="total"')
    assert "ARS" in body and "25,000.00" in body
    assert not Reservation.objects.exists()


def test_a_quote_ignores_any_amount_sent_by_the_client(alpha_client, trip):
    _, slot = trip
    data = book_data(slot, adults=1, children=0, total="1", amount="1") | {"quote": "1"}
    del data["hold"]
    body = alpha_client.post(f"/departures/{slot.pk}/book/", data, **HTMX).content.decode()
    assert "10,000.00" in body


def test_hold_redirects_to_the_reservation_page(alpha_client, trip):
    _, slot = trip
    response = alpha_client.post(f"/departures/{slot.pk}/book/", book_data(slot))
    assert response.status_code == 303
    reservation = Reservation.objects.get()
    assert response["Location"] == f"/reservations/{reservation.code}/"
    assert reservation.total_amount == 2 * 10_000_00 + 5_000_00
    assert reservation.contact_email == "ana@example.com"
    assert reservation.language == "en"
    slot.refresh_from_db()
    assert slot.taken == 3

    page = alpha_client.get(response["Location"]).content.decode()
    assert reservation.code in page
    assert "Seats held" in page
    assert "25,000.00" in page
    assert 'hx-trigger="every 2s"' in page


def test_too_many_passengers_re_render_the_form_with_a_clear_message(alpha_client, trip):
    _, slot = trip
    hold(slot, 5)
    response = alpha_client.post(
        f"/departures/{slot.pk}/book/", book_data(slot, adults=2, children=0)
    )
    body = response.content.decode()
    assert response.status_code == 409
    assert "Only 1 seat left on this departure." in body
    assert 'value="Ana Viajera"' in body  # nothing the traveller typed is lost
    assert Reservation.objects.count() == 1


def test_invalid_form_re_renders_with_messages_and_holds_nothing(alpha_client, trip):
    _, slot = trip
    data = book_data(slot, adults=0, children=0, contact_email="not-an-email")
    response = alpha_client.post(f"/departures/{slot.pk}/book/", data)
    body = response.content.decode()
    assert response.status_code == 400
    assert "Enter a valid email address." in body
    assert "Choose at least one passenger." in body
    assert not Reservation.objects.exists()


def test_a_closed_departure_cannot_be_booked(alpha_client, trip):
    _, slot = trip
    slot.is_open = False
    slot.save()
    response = alpha_client.post(f"/departures/{slot.pk}/book/", book_data(slot))
    assert response.status_code == 409
    assert "closed for online booking" in response.content.decode()


def test_status_polling_stops_once_the_hold_is_over(alpha_client, trip):
    _, slot = trip
    alpha_client.post(f"/departures/{slot.pk}/book/", book_data(slot))
    reservation = Reservation.objects.get()
    url = reservation.get_absolute_url()

    polling = alpha_client.get(url, **HTMX)
    assert polling.status_code == 200
    assert polling.content.decode().lstrip().startswith('<section id="status"')

    alpha_client.post(url, {"cancel": "1"})
    stopped = alpha_client.get(url, **HTMX)
    assert stopped.status_code == 286
    assert "Cancelled" in stopped.content.decode()


def test_only_the_booking_browser_can_release_the_seats(alpha_client, trip):
    from django.test import Client

    _, slot = trip
    alpha_client.post(f"/departures/{slot.pk}/book/", book_data(slot))
    reservation = Reservation.objects.get()
    stranger = Client(HTTP_HOST="alpha.localhost")
    assert stranger.post(reservation.get_absolute_url(), {"cancel": "1"}).status_code == 404
    assert "Release my seats" not in stranger.get(reservation.get_absolute_url()).content.decode()
    reservation.refresh_from_db()
    assert reservation.status == "held"

    response = alpha_client.post(reservation.get_absolute_url(), {"cancel": "1"})
    assert response.status_code == 302
    slot.refresh_from_db()
    assert slot.taken == 0


def test_a_query_string_cannot_mark_a_reservation_paid(alpha_client, trip):
    _, slot = trip
    alpha_client.post(f"/departures/{slot.pk}/book/", book_data(slot))
    reservation = Reservation.objects.get()
    alpha_client.get(reservation.get_absolute_url() + "?status=paid&redirect_status=succeeded")
    alpha_client.post(reservation.get_absolute_url(), {"status": "paid"})
    reservation.refresh_from_db()
    assert reservation.status == "held"


def test_another_operators_activities_and_reservations_are_unreachable(
    alpha_client, trip, beta_operator
):
    from django.test import Client

    activity, slot = trip
    alpha_client.post(f"/departures/{slot.pk}/book/", book_data(slot))
    reservation = Reservation.objects.get()
    second_booking = book_data(slot, key="k2")
    beta = Client(HTTP_HOST=BETA_HOST)
    assert beta.get(f"/activities/{activity.slug}/").status_code == 404
    assert beta.get(f"/departures/{slot.pk}/book/").status_code == 404
    assert beta.post(f"/departures/{slot.pk}/book/", second_booking).status_code == 404
    assert beta.get(reservation.get_absolute_url()).status_code == 404
    assert activity.name not in beta.get("/").content.decode()


@pytest.mark.parametrize("rows", [2, 8])
def test_catalogue_query_count_does_not_grow_with_rows(
    alpha_client, make_activity, make_slot, rows
):
    for index in range(rows):
        activity = make_activity(slug=f"trip-{index}")
        make_slot(activity, starts_at=local(3, 9 + index))
    alpha_client.get("/")  # session and caches warm
    with CaptureQueriesContext(connection) as queries:
        alpha_client.get("/")
    assert len(queries) == CATALOGUE_QUERIES, [q["sql"] for q in queries]


@pytest.mark.parametrize("rows", [3, 30])
def test_activity_page_query_count_does_not_grow_with_departures(
    alpha_client, make_activity, make_slot, rows
):
    activity = make_activity()
    for index in range(rows):
        make_slot(activity, starts_at=local(3, 0) + timedelta(minutes=20 * index))
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    with CaptureQueriesContext(connection) as queries:
        alpha_client.get(f"/activities/{activity.slug}/?day={day}")
    assert len(queries) == ACTIVITY_QUERIES, [q["sql"] for q in queries]


# django-tenants sets the search path twice (public for the domain, then the operator's).
# Catalogue: domain, activities, their covers. Activity page: domain, activity, rates, photos,
# the month's slots, the day's departures.
CATALOGUE_QUERIES = 2 + 3
ACTIVITY_QUERIES = 2 + 6


def test_a_sold_out_departure_offers_no_booking_form(alpha_client, trip):
    _, slot = trip
    hold(slot, 6)
    body = alpha_client.get(f"/departures/{slot.pk}/book/").content.decode()
    assert "This departure is sold out." in body
    assert 'name="hold"' not in body


def test_a_departure_past_its_cutoff_offers_no_booking_form(alpha_client, make_slot):
    slot = make_slot(starts_at=timezone.now() + timedelta(minutes=30))
    body = alpha_client.get(f"/departures/{slot.pk}/book/").content.decode()
    assert "Online booking for this departure has closed." in body
    assert 'name="hold"' not in body
