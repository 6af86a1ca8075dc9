"""Passengers: what each activity collects, the forms that check it, the service that saves
it, and the traveller's step between the hold and the ways to pay."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from booking.countries import country_choices, country_name, is_country
from booking.errors import InvalidPassengers, PassengersClosed
from booking.forms import PassengerForm, PassengersForm
from booking.models import Passenger, PassengerData, Reservation
from booking.passengers import PassengerDetails, passengers_save
from tests.factories import ALPHA_HOST, SYSTEM, book_data, hold, provider, staff, traveller

HELD = "client-1"


@pytest.fixture
def boat(make_activity, make_slot):
    """A boat trip that sails with the coast guard's list, and a departure in three days."""
    activity = make_activity("boat-doc", passenger_data=PassengerData.DOCUMENT)
    return make_slot(activity, capacity=10)


def loaded(reservation: Reservation) -> Reservation:
    return (
        Reservation.objects.select_related("slot__activity")
        .prefetch_related("lines", "passengers")
        .get(pk=reservation.pk)
    )


def form_data(reservation: Reservation, **overrides) -> dict:
    """The passengers step filled in for every seat (Argentine adults)."""
    data = {"passengers": "1"}
    for position in range(1, loaded(reservation).seats + 1):
        data |= {
            f"passenger-{position}-full_name": f"Pasajero {position}",
            f"passenger-{position}-document_number": f"30.123.45{position}",
            f"passenger-{position}-nationality": "AR",
            f"passenger-{position}-birth_date": "1990-05-17",
        }
    return data | overrides


def details(reservation: Reservation, count: int | None = None) -> list[PassengerDetails]:
    seats = loaded(reservation).seat_list()
    return [
        PassengerDetails(
            rate_id=seat.rate_id,
            full_name=f"Pasajero {n}",
            document_number=f"AB{n}",
            nationality="CL",
        )
        for n, seat in enumerate(seats[:count] if count is not None else seats, start=1)
    ]


# Countries


def test_nationalities_are_iso_countries_named_in_the_readers_language():
    codes = [code for code, _name in country_choices("en")]
    assert len(codes) == len(set(codes)) > 240
    assert {"AR", "BR", "CL", "DE", "UY"} <= set(codes)
    assert not {"EU", "UN", "ZZ", "XK", "001"} & set(codes)
    assert country_name("DE", "es") == "Alemania"
    assert country_name("DE", "pt-br") == "Alemanha"
    assert country_name("DE", "en") == "Germany"
    assert is_country("AR") and not is_country("EU") and not is_country("ar")
    spanish = [name for _code, name in country_choices("es")]
    assert spanish.index("Egipto") < spanish.index("El Salvador") < spanish.index("Islandia")
    portuguese = [name for _code, name in country_choices("pt-br")]
    where = portuguese.index
    assert where("Argentina") < where("Áustria") < where("Azerbaijão")  # accents sort with letters


# The form per seat


def test_each_level_of_passenger_data_asks_for_its_fields(make_activity, make_slot):
    expected = {
        PassengerData.NAME: ["full_name"],
        PassengerData.DOCUMENT: ["full_name", "document_number", "nationality"],
        PassengerData.DOCUMENT_BIRTH: [
            "full_name",
            "document_number",
            "nationality",
            "birth_date",
        ],
    }
    for level, fields in expected.items():
        slot = make_slot(make_activity(f"trip-{level}", passenger_data=level))
        reservation = loaded(hold(slot, 2))
        forms = list(PassengersForm(reservation))
        assert [form.seat.number for form in forms] == [1, 2]
        assert [list(form.fields) for form in forms] == [fields, fields]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "   ", "This field is required."),
        ("full_name", "x" * 121, "at most 120 characters"),
        ("document_number", "", "This field is required."),
        ("document_number", "1" * 21, "at most 20 characters"),
        ("document_number", "30<script>", "Use the letters and digits of the document"),
        ("document_number", "-123", "Use the letters and digits of the document"),
        ("nationality", "", "This field is required."),
        ("nationality", "XX", "Select a valid choice."),
        ("nationality", "ar", "Select a valid choice."),
        ("birth_date", "2999-01-01", "The date of birth must be in the past."),
        ("birth_date", "9999-12-31", "Choose a day between the years 1900 and 2999."),
        ("birth_date", "17/05", "Enter a valid date."),
    ],
)
def test_a_passenger_form_refuses_what_is_not_a_document(
    make_activity, make_slot, field, value, message
):
    slot = make_slot(make_activity("deep", passenger_data=PassengerData.DOCUMENT_BIRTH))
    reservation = loaded(hold(slot, 1))
    form = next(iter(PassengersForm(reservation, form_data(reservation))))
    assert form.is_valid()
    data = form_data(reservation, **{f"passenger-1-{field}": value})
    form = next(iter(PassengersForm(reservation, data)))
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_a_birthday_today_is_not_in_the_past(make_activity, make_slot):
    slot = make_slot(make_activity("deep", passenger_data=PassengerData.DOCUMENT_BIRTH))
    reservation = loaded(hold(slot, 1))
    seat = reservation.seat_list()[0]
    today = timezone.localdate().isoformat()
    data = form_data(reservation, **{"passenger-1-birth_date": today})
    assert not PassengerForm(
        data, prefix="passenger-1", seat=seat, reservation=reservation
    ).is_valid()


def test_documents_are_kept_as_typed_but_tidy(boat):
    reservation = loaded(hold(boat, 1))
    data = form_data(
        reservation,
        **{
            "passenger-1-full_name": "  María   José  Pérez ",
            "passenger-1-document_number": " ab 123.456 ",
        },
    )
    form = PassengersForm(reservation, data)
    assert form.is_valid()
    (passenger,) = form.details()
    assert passenger.full_name == "María José Pérez"
    assert passenger.document_number == "AB 123.456"
    assert passenger.nationality == "AR" and passenger.birth_date is None


def test_the_form_speaks_the_travellers_language(boat):
    reservation = loaded(hold(boat, 1))
    with translation.override("es"):
        form = PassengerForm(
            {"passenger-1-nationality": "DE"},
            prefix="passenger-1",
            seat=reservation.seat_list()[0],
            reservation=reservation,
        )
        assert not form.is_valid()
        assert form.errors["full_name"] == ["Este campo es obligatorio."]
        assert ("DE", "Alemania") in form.fields["nationality"].choices
        assert form.fields["document_number"].label == "Número de documento"


# The service


def test_the_traveller_saves_one_passenger_per_seat_in_the_order_of_the_lines(boat):
    reservation = hold(boat, 3)
    passengers_save(
        reservation_id=reservation.pk, passengers=details(reservation), actor=traveller(HELD)
    )
    saved = list(reservation.passengers.all())
    assert [(p.position, p.full_name, p.nationality) for p in saved] == [
        (1, "Pasajero 1", "CL"),
        (2, "Pasajero 2", "CL"),
        (3, "Pasajero 3", "CL"),
    ]
    assert {p.rate.code for p in saved} == {"adult"}
    assert loaded(reservation).passengers_missing() == 0
    event = reservation.events.get(kind="passengers_saved")
    assert event.actor == "traveller" and event.data == {"passengers": 3}
    assert "Pasajero" not in str(event.data)  # the timeline keeps no personal data


def test_saving_again_replaces_the_passengers(boat):
    reservation = hold(boat, 2)
    passengers_save(
        reservation_id=reservation.pk, passengers=details(reservation), actor=traveller(HELD)
    )
    again = [
        PassengerDetails(rate_id=p.rate_id, full_name=p.full_name.upper())
        for p in details(reservation)
    ]
    passengers_save(reservation_id=reservation.pk, passengers=again, actor=staff("agent"))
    assert list(reservation.passengers.values_list("full_name", flat=True)) == [
        "PASAJERO 1",
        "PASAJERO 2",
    ]
    assert reservation.events.filter(kind="passengers_saved").count() == 2


def test_a_list_that_does_not_match_the_seats_is_refused(boat):
    reservation = hold(boat, 2)
    with pytest.raises(InvalidPassengers):
        passengers_save(
            reservation_id=reservation.pk,
            passengers=details(reservation, count=1),
            actor=traveller(HELD),
        )
    child = boat.activity.rates.get(code="child")
    wrong_rate = [PassengerDetails(rate_id=child.pk, full_name="X")] * 2
    with pytest.raises(InvalidPassengers):
        passengers_save(reservation_id=reservation.pk, passengers=wrong_rate, actor=staff("agent"))
    assert not Passenger.objects.exists()


def test_the_traveller_may_change_them_until_departure_and_staff_after(boat):
    reservation = hold(boat, 1)
    after_departure = boat.starts_at + timedelta(minutes=1)
    Reservation.objects.filter(pk=reservation.pk).update(status="paid", hold_expires_at=None)
    with pytest.raises(PassengersClosed):
        passengers_save(
            reservation_id=reservation.pk,
            passengers=details(reservation),
            actor=traveller(HELD),
            now=after_departure,
        )
    passengers_save(
        reservation_id=reservation.pk,
        passengers=details(reservation),
        actor=staff("agent"),
        now=after_departure,
    )
    assert reservation.passengers.count() == 1


def test_released_seats_take_no_passengers(boat):
    reservation = hold(boat, 1)
    Reservation.objects.filter(pk=reservation.pk).update(status="cancelled")
    with pytest.raises(PassengersClosed):
        passengers_save(
            reservation_id=reservation.pk, passengers=details(reservation), actor=traveller(HELD)
        )


@pytest.mark.parametrize("who", [SYSTEM, provider()])
def test_only_travellers_and_staff_enter_passengers(boat, who):
    reservation = hold(boat, 1)
    with pytest.raises(PermissionDenied):
        passengers_save(reservation_id=reservation.pk, passengers=details(reservation), actor=who)


def test_the_hold_costs_the_same_whatever_the_activity_collects(make_activity, make_slot):
    """Passengers are a step of their own: the hot path writes nothing more for them."""
    plain = make_slot(make_activity("plain"))
    deep = make_slot(make_activity("deep", passenger_data=PassengerData.DOCUMENT_BIRTH))
    counts = []
    for slot in (plain, deep):
        with CaptureQueriesContext(connection) as queries:
            hold(slot, 2)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert not Passenger.objects.exists()


# The traveller's reservation page


@pytest.fixture
def holder(boat) -> Client:
    """The browser of a traveller who holds two adult seats on the boat."""
    client = Client(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(f"/departures/{boat.pk}/book/", book_data(boat, adults=2, children=0))
    assert response.status_code == 303
    client.reservation = Reservation.objects.get()
    return client


def test_the_passengers_come_before_the_ways_to_pay(holder):
    reservation = holder.reservation
    page = holder.get(reservation.get_absolute_url()).content.decode()
    assert "Who is travelling" in page
    assert page.count('data-testid="passenger"') == 2
    assert "Pay to confirm your booking" not in page

    response = holder.post(reservation.get_absolute_url(), form_data(reservation))
    assert response.status_code == 302
    page = holder.get(reservation.get_absolute_url()).content.decode()
    assert "Passenger details saved." in page
    assert "Pay to confirm your booking" in page
    assert "Pasajero 1" in page and "30.123.451" not in page  # names only, once entered
    assert "Change passenger details" in page
    edit = holder.get(reservation.get_absolute_url() + "?passengers=edit").content.decode()
    assert 'value="30.123.451"' in edit and "Pay to confirm your booking" not in edit


def test_paying_before_the_passengers_are_entered_is_refused(holder):
    reservation = holder.reservation
    response = holder.post(f"/reservations/{reservation.code}/pay/", {"pay": "stripe:card"})
    assert response.status_code == 302
    assert response["Location"] == reservation.get_absolute_url()
    assert not reservation.payment_intents.exists()
    assert (
        "Please tell us who is travelling first."
        in holder.get(response["Location"]).content.decode()
    )


def test_a_wrong_passenger_re_renders_the_step_with_messages_in_the_travellers_language(holder):
    reservation = holder.reservation
    holder.defaults["HTTP_ACCEPT_LANGUAGE"] = "es"
    data = form_data(reservation, **{"passenger-2-nationality": "Narnia"})
    response = holder.post(reservation.get_absolute_url(), data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Escoja una opción válida." in page
    assert 'value="Pasajero 2"' in page  # what was typed stays
    assert not Passenger.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"passengers": "1"},
        {"passengers": "1", "passenger-1-full_name": ["a", "b"], "passenger-9-full_name": "x"},
        {"passengers": "1", "passenger-1-birth_date": "0000-00-00", "passenger-1-nationality": "€"},
        {"passengers": "1", "passenger-1-full_name": "x" * 100_000},
    ],
)
def test_malformed_passenger_posts_are_refused_without_an_error(holder, data):
    response = holder.post(holder.reservation.get_absolute_url(), data)
    assert response.status_code == 400
    assert not Passenger.objects.exists()


def test_after_departure_the_traveller_sees_the_passengers_but_cannot_change_them(holder, boat):
    reservation = holder.reservation
    passengers_save(
        reservation_id=reservation.pk, passengers=details(reservation), actor=staff("agent")
    )
    Reservation.objects.filter(pk=reservation.pk).update(status="paid", hold_expires_at=None)
    boat.__class__.objects.filter(pk=boat.pk).update(starts_at=timezone.now() - timedelta(hours=1))
    page = holder.get(reservation.get_absolute_url() + "?passengers=edit").content.decode()
    assert "Pasajero 1" in page and "Change passenger details" not in page
    assert 'name="passengers"' not in page
    response = holder.post(reservation.get_absolute_url(), form_data(reservation), follow=True)
    assert "can no longer be changed online" in response.content.decode()
    assert list(reservation.passengers.values_list("full_name", flat=True)) == [
        "Pasajero 1",
        "Pasajero 2",
    ]


def test_activities_that_collect_nothing_go_straight_to_payment(alpha_client, make_slot):
    reservation = hold(make_slot(), 1)
    page = alpha_client.get(reservation.get_absolute_url()).content.decode()
    assert "Who is travelling" not in page
    assert "Pay to confirm your booking" in page


def test_birth_dates_are_in_the_operators_past(make_activity, make_slot):
    slot = make_slot(make_activity("deep", passenger_data=PassengerData.DOCUMENT_BIRTH))
    reservation = loaded(hold(slot, 1))
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    data = form_data(reservation, **{"passenger-1-birth_date": yesterday})
    form = PassengersForm(reservation, data)
    assert form.is_valid()
    assert form.details()[0].birth_date == date.fromisoformat(yesterday)
