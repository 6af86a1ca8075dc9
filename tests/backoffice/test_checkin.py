"""Check-in at departure: the phone-sized page finds a booking by code or name and marks it
arrived or no-show (undo possible), with who and when, in the reservation's timeline."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from booking.checkin import reservation_mark_attendance
from booking.errors import IllegalTransition
from booking.models import PassengerData, Reservation
from booking.passengers import PassengerDetails, passengers_save
from tenants.models import Role
from tests.factories import ALPHA_HOST, SYSTEM, hold, staff, traveller

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def departure(make_activity, make_slot):
    """A boat with three bookings: Ana's (passengers Ana and Luis), Bruno's and Carla's."""
    slot = make_slot(make_activity("boat-doc", passenger_data=PassengerData.NAME), capacity=20)
    for name, seats in (("Ana Viajera", 2), ("Bruno Pereira", 3), ("Carla Gómez", 1)):
        reservation = hold(slot, seats, scope=name)
        Reservation.objects.filter(pk=reservation.pk).update(contact_name=name, status="paid")
    ana = Reservation.objects.get(contact_name="Ana Viajera")
    passengers_save(
        reservation_id=ana.pk,
        passengers=[
            PassengerDetails(rate_id=ana.lines.get().rate_id, full_name=name)
            for name in ("Ana Viajera", "Luis Marinero")
        ],
        actor=staff(Role.AGENT),
    )
    return slot


def url(slot) -> str:
    return f"/backoffice/departures/{slot.pk}/check-in/"


def cards(page: str) -> int:
    return page.count('data-testid="checkin-')


# The service


def test_arrived_no_show_and_undo_say_who_and_when_in_the_timeline(departure):
    ana = Reservation.objects.get(contact_name="Ana Viajera")
    reservation_mark_attendance(
        reservation_id=ana.pk, attendance="arrived", actor=staff(Role.AGENT)
    )
    ana.refresh_from_db()
    assert ana.attendance == "arrived" and ana.attendance_by == "agent@alpha.example"
    assert ana.attendance_at is not None
    reservation_mark_attendance(reservation_id=ana.pk, attendance="", actor=staff(Role.MANAGER))
    ana.refresh_from_db()
    assert (ana.attendance, ana.attendance_at, ana.attendance_by) == ("", None, "")
    reservation_mark_attendance(
        reservation_id=ana.pk, attendance="no_show", actor=staff(Role.OWNER)
    )
    events = list(ana.events.filter(kind__in=["checked_in", "check_in_undone", "no_show"]))
    assert [(e.kind, e.actor, e.data) for e in events] == [
        ("checked_in", "agent@alpha.example", {"was": ""}),
        ("check_in_undone", "manager@alpha.example", {"was": "arrived"}),
        ("no_show", "owner@alpha.example", {"was": ""}),
    ]


def test_released_seats_are_not_checked_in(departure):
    carla = Reservation.objects.get(contact_name="Carla Gómez")
    Reservation.objects.filter(pk=carla.pk).update(status="refunded")
    with pytest.raises(IllegalTransition):
        reservation_mark_attendance(
            reservation_id=carla.pk, attendance="arrived", actor=staff(Role.AGENT)
        )


@pytest.mark.parametrize("who", [SYSTEM, traveller("Ana Viajera")])
def test_only_staff_check_in(departure, who):
    ana = Reservation.objects.get(contact_name="Ana Viajera")
    with pytest.raises(PermissionDenied):
        reservation_mark_attendance(reservation_id=ana.pk, attendance="arrived", actor=who)


# The page


def test_the_page_lists_the_departures_bookings_with_their_passengers(staff, departure):
    response = staff(Role.AGENT).get(url(departure))
    page = response.content.decode()
    assert response.status_code == 200
    assert cards(page) == 3
    assert "Luis Marinero" in page
    assert "0 of 6 seats arrived" in page
    assert 'hx-trigger="every 3s"' in page  # live for several staff at once
    assert "js/checkin.js" in page and "Scan QR code" in page


@pytest.mark.parametrize(
    "query", ["{code}", " {code_lower} ", "{spaced}", "bruno", "PEREIRA", "Bruno Pereira"]
)
def test_a_booking_is_found_by_its_code_or_its_contacts_name(staff, departure, query):
    bruno = Reservation.objects.get(contact_name="Bruno Pereira")
    typed = query.format(
        code=bruno.code,
        code_lower=bruno.code.lower(),
        spaced=f"{bruno.code[:4]} {bruno.code[4:8]}-{bruno.code[8:]}",
    )
    page = staff(Role.AGENT).get(url(departure), {"q": typed}, **HTMX).content.decode()
    assert cards(page) == 1 and f'data-testid="checkin-{bruno.code}"' in page
    assert "<html" not in page  # htmx gets the list alone


def test_a_booking_is_found_by_a_passengers_name(staff, departure):
    page = staff(Role.AGENT).get(url(departure), {"q": "marinero"}).content.decode()
    ana = Reservation.objects.get(contact_name="Ana Viajera")
    assert cards(page) == 1 and f'data-testid="checkin-{ana.code}"' in page
    nothing = staff(Role.AGENT).get(url(departure), {"q": "nobody"}).content.decode()
    assert cards(nothing) == 0 and "No booking on this departure matches." in nothing


def test_another_departures_booking_is_not_found(staff, departure, make_slot):
    elsewhere = hold(
        make_slot(
            departure.activity,
            capacity=5,
            starts_at=departure.starts_at + departure.activity.duration,
        ),
        1,
        scope="other",
    )
    page = staff(Role.AGENT).get(url(departure), {"q": elsewhere.code}).content.decode()
    assert cards(page) == 0


def test_marking_with_htmx_returns_the_list_and_a_plain_form_comes_back_to_its_search(
    staff, departure
):
    bruno = Reservation.objects.get(contact_name="Bruno Pereira")
    client = staff(Role.AGENT)
    data = {"reservation": bruno.pk, "attendance": "arrived", "q": bruno.code}
    response = client.post(url(departure), data, **HTMX)
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert cards(page) == 1 and "3 of 6 seats arrived" in page
    assert "agent@alpha.example" in page and 'value="undo"' in page
    plain = client.post(url(departure), data | {"attendance": "undo"})
    assert plain.status_code == 302 and plain["Location"] == f"{url(departure)}?q={bruno.code}"
    bruno.refresh_from_db()
    assert bruno.attendance == ""


def test_the_page_speaks_the_staffs_language(staff, departure):
    client = staff(Role.AGENT)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "es"
    page = client.get(url(departure)).content.decode()
    assert "Nombre o código de reserva" in page and "0 de 6 lugares llegaron" in page


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"attendance": "arrived"},
        {"attendance": "arrived", "reservation": "abc"},
        {"attendance": "arrived", "reservation": "1\u00b2"},
        {"attendance": "maybe", "reservation": "1"},
        {"attendance": ["arrived", "no_show"], "reservation": "x" * 10_000},
    ],
)
def test_malformed_marks_are_refused_and_change_nothing(staff, departure, data):
    response = staff(Role.AGENT).post(url(departure), data, **HTMX)
    assert response.status_code == 400
    assert not Reservation.objects.exclude(attendance="").exists()


def test_a_reservation_of_another_departure_is_not_found(staff, departure, make_slot):
    other = make_slot(
        departure.activity, starts_at=departure.starts_at + departure.activity.duration
    )
    elsewhere = hold(other, 1, scope="other")
    response = staff(Role.AGENT).post(
        url(departure), {"reservation": elsewhere.pk, "attendance": "arrived"}
    )
    assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.attendance == ""


def test_released_seats_say_why_they_cannot_be_checked_in(staff, departure):
    carla = Reservation.objects.get(contact_name="Carla Gómez")
    Reservation.objects.filter(pk=carla.pk).update(status="cancelled")
    response = staff(Role.AGENT).post(
        url(departure), {"reservation": carla.pk, "attendance": "arrived"}, **HTMX
    )
    assert response.status_code == 200
    assert "This reservation cannot change that way any more." in response.content.decode()


def test_signed_out_the_page_sends_to_sign_in_and_marks_nothing(departure):
    bruno = Reservation.objects.get(contact_name="Bruno Pereira")
    client = Client(HTTP_HOST=ALPHA_HOST)
    assert client.get(url(departure)).status_code == 302
    response = client.post(url(departure), {"reservation": bruno.pk, "attendance": "arrived"})
    assert response.status_code == 302 and "/backoffice/login/" in response["Location"]
    bruno.refresh_from_db()
    assert bruno.attendance == ""
