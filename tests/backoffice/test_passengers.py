"""Staff enter and correct the passengers on the backoffice's reservation page."""

import pytest

from booking.models import Passenger, PassengerData, Reservation
from tenants.models import Role
from tests.factories import hold


@pytest.fixture
def reservation(make_activity, make_slot):
    activity = make_activity("boat-doc", passenger_data=PassengerData.DOCUMENT_BIRTH)
    return hold(make_slot(activity), 2)


def filled(**overrides) -> dict:
    data = {"passengers": "1"}
    for n in (1, 2):
        data |= {
            f"passenger-{n}-full_name": f"Viajero {n}",
            f"passenger-{n}-document_number": f"P{n}234567",
            f"passenger-{n}-nationality": "BR",
            f"passenger-{n}-birth_date": f"1980-01-1{n}",
        }
    return data | overrides


def test_an_agent_fills_in_the_passengers_and_the_timeline_says_who(staff, reservation):
    url = f"/backoffice/reservations/{reservation.code}/"
    page = staff(Role.AGENT).get(url).content.decode()
    assert "Name, document, nationality and date of birth" in page
    assert page.count('data-testid="passenger"') == 2
    response = staff(Role.AGENT).post(url, filled())
    assert response.status_code == 302
    assert list(Passenger.objects.values_list("full_name", "nationality")) == [
        ("Viajero 1", "BR"),
        ("Viajero 2", "BR"),
    ]
    event = reservation.events.get(kind="passengers_saved")
    assert event.actor == "agent@alpha.example"
    assert 'value="P1234567"' in staff(Role.AGENT).get(url).content.decode()


def test_wrong_passengers_re_render_in_the_staffs_language_and_save_nothing(staff, reservation):
    client = staff(Role.AGENT)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "es"
    response = client.post(
        f"/backoffice/reservations/{reservation.code}/",
        filled(**{"passenger-2-birth_date": "2999-12-31", "passenger-1-full_name": ""}),
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "La fecha de nacimiento tiene que ser anterior a hoy." in page
    assert "Este campo es obligatorio." in page
    assert not Passenger.objects.exists()


def test_released_seats_show_their_passengers_read_only(staff, reservation):
    url = f"/backoffice/reservations/{reservation.code}/"
    staff(Role.AGENT).post(url, filled())
    Reservation.objects.filter(pk=reservation.pk).update(status="cancelled")
    page = staff(Role.AGENT).get(url).content.decode()
    assert "Viajero 1 · P1234567 · BR · 1980-01-11" in page
    assert 'name="passengers"' not in page
    response = staff(Role.AGENT).post(url, filled(), follow=True)
    assert "This reservation cannot change that way any more." in response.content.decode()
