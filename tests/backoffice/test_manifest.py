"""The manifest: a row per seat with its passenger (or a row to fill in), printable, and the
same list as JSON for whoever may see the manifest."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from booking.models import PassengerData, Reservation
from booking.passengers import PassengerDetails, passengers_save
from tenants.models import Role
from tests.factories import ALPHA_HOST, hold, staff


@pytest.fixture
def departure(make_activity, make_slot):
    """A boat with the coast guard's list: Ana's two seats entered, Bruno's three not yet."""
    activity = make_activity("boat-doc", passenger_data=PassengerData.DOCUMENT_BIRTH)
    slot = make_slot(activity, capacity=10)
    ana = hold(slot, 2)
    passengers_save(
        reservation_id=ana.pk,
        passengers=[
            PassengerDetails(
                rate_id=ana.lines.get().rate_id,
                full_name=name,
                document_number=document,
                nationality="AR",
                birth_date=None,
            )
            for name, document in (("Ana Viajera", "30111222"), ("Luis Viajero", "28999000"))
        ],
        actor=staff(Role.AGENT),
    )
    bruno = hold(slot, 3, scope="client-2")
    Reservation.objects.filter(pk=bruno.pk).update(contact_name="Bruno", status="paid")
    gone = hold(slot, 1, scope="client-3")
    Reservation.objects.filter(pk=gone.pk).update(status="expired")  # its seats were released
    return slot


def test_every_seat_is_a_row_with_its_passenger_or_room_for_one(staff, departure):
    response = staff(Role.AGENT).get(f"/backoffice/departures/{departure.pk}/manifest/")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('data-testid="booking"') == 2
    assert page.count('data-testid="seat"') == 5
    assert page.count("details not entered yet") == 3
    assert "Ana Viajera" in page and "30111222" in page and "Argentina" in page
    assert "Date of birth" in page and "Document number" in page
    assert page.index("Bruno") < page.index("Luis Viajero")  # paid before held
    assert "Ushuaia, UTC\u22123" in page  # the header says the time zone
    assert "manifest.css" in page and "data-print" in page


def test_the_manifest_is_in_the_staffs_language(staff, departure):
    client = staff(Role.AGENT)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "es"
    page = client.get(f"/backoffice/departures/{departure.pk}/manifest/").content.decode()
    assert "Número de documento" in page and "Fecha de nacimiento" in page
    assert "datos aún no cargados" in page


def test_the_manifest_as_json(staff, departure):
    client = staff(Role.AGENT)
    by_query = client.get(f"/backoffice/departures/{departure.pk}/manifest/?format=json")
    by_link = client.get(f"/backoffice/departures/{departure.pk}/manifest.json")
    assert by_query["Content-Type"] == by_link["Content-Type"] == "application/json"
    data = json.loads(by_link.content)
    assert json.loads(by_query.content) | {"generated_at": None} == data | {"generated_at": None}
    assert data["activity"]["slug"] == "boat-doc"
    assert data["passenger_data"] == "document_birth"
    assert data["departure"]["time_zone"] == "America/Argentina/Ushuaia"
    assert data["departure"]["starts_at"].endswith("-03:00")
    assert [(b["contact"]["name"], b["status"], b["seats"]) for b in data["bookings"]] == [
        ("Bruno", "paid", 3),
        ("Ana Viajera", "held", 2),
    ]
    ana = data["bookings"][1]
    assert ana["channel"] == "site"
    assert ana["passengers"][0] == {
        "seat": 1,
        "rate": "Adult",
        "full_name": "Ana Viajera",
        "document_number": "30111222",
        "nationality": "AR",
        "birth_date": None,
    }
    assert [p["full_name"] for p in data["bookings"][0]["passengers"]] == [None, None, None]
    assert "no-store" in by_link["Cache-Control"]


def test_signed_out_the_json_is_not_given(departure):
    """Roles and other operators: tests/backoffice/test_access.py, as for every page."""
    url = f"/backoffice/departures/{departure.pk}/manifest"
    for path in (url + ".json", url + "/?format=json"):
        response = Client(HTTP_HOST=ALPHA_HOST).get(path)
        assert response.status_code == 302 and "/backoffice/login/" in response["Location"]


def test_the_manifest_costs_the_same_queries_for_any_number_of_bookings(staff, departure):
    client = staff(Role.AGENT)
    url = f"/backoffice/departures/{departure.pk}/manifest/"
    for path in (url, url + "?format=json"):
        with CaptureQueriesContext(connection) as few:
            client.get(path)
        for n in range(2):
            hold(departure, 1, scope=f"more-{path}-{n}")
        with CaptureQueriesContext(connection) as many:
            client.get(path)
        assert len(many) == len(few), path
