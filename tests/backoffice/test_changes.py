"""The backoffice's "Change booking" page: who may, the departure picker, the preview of the
difference, the change itself, and bad input answered with 4xx."""

from datetime import timedelta

import pytest
from django.utils import timezone

from booking.models import Reservation, ReservationChange
from payments.models import Refund
from tenants.models import Role
from tests.factories import change_data, hold, paid_by_card

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def booking(make_slot):
    """A paid booking of 3 adults, paid by card at Stripe."""
    return paid_by_card(hold(make_slot(capacity=6), 3))


def url(reservation) -> str:
    return f"/backoffice/reservations/{reservation.code}/change/"


@pytest.mark.parametrize("role", [Role.MANAGER, Role.AGENT])
def test_only_owners_may_change_a_booking(staff, booking, role):
    client = staff(role)
    assert client.get(url(booking)).status_code == 403
    response = client.post(url(booking), change_data(booking.slot, 1, confirm="1"))
    assert response.status_code == 403
    assert not ReservationChange.objects.exists()
    page = client.get(f"/backoffice/reservations/{booking.code}/").content.decode()
    assert "Change booking" not in page


def test_the_owner_sees_the_link_the_picker_and_a_preview_of_the_refund(staff, booking, make_slot):
    client = staff(Role.OWNER)
    page = client.get(f"/backoffice/reservations/{booking.code}/").content.decode()
    assert url(booking) in page
    other = make_slot(capacity=2, starts_at=timezone.now() + timedelta(days=6))

    shown = client.get(url(booking)).content.decode()
    assert f'value="{other.pk}"' in shown and "2 seats left" in shown
    preview = client.post(url(booking), change_data(booking.slot, 2, preview="1")).content.decode()
    assert "Refund to the traveller" in preview and "10,000.00" in preview
    assert "Confirm the change" in preview
    assert not ReservationChange.objects.exists()


def test_a_cheaper_change_is_made_and_its_refund_asked_for(staff, booking):
    response = staff(Role.OWNER).post(url(booking), change_data(booking.slot, 2, confirm="1"))

    assert response.status_code == 302
    assert response["Location"] == f"/backoffice/reservations/{booking.code}/"
    booking.refresh_from_db()
    assert booking.total_amount == 20_000_00 and booking.slot.taken == 2
    refund = Refund.objects.get()
    assert (refund.amount, refund.status, refund.requested_by) == (
        10_000_00,
        "requested",
        "owner@alpha.example",
    )


def test_a_dearer_move_waits_for_payment_and_can_be_dropped(staff, booking, make_slot):
    other = make_slot(capacity=4, starts_at=timezone.now() + timedelta(days=6))
    client = staff(Role.OWNER)

    client.post(url(booking), change_data(other, 4, confirm="1"))

    change = ReservationChange.objects.get()
    assert (change.status, change.seats_held, change.difference) == ("pending", 4, 10_000_00)
    page = client.get(f"/backoffice/reservations/{booking.code}/").content.decode()
    assert "Change waiting for payment" in page and "4 seats held until" in page
    client.post(f"/backoffice/reservations/{booking.code}/", {"drop_change": change.pk})
    change.refresh_from_db()
    other.refresh_from_db()
    assert (change.status, other.taken) == ("released", 0)
    assert Reservation.objects.get(pk=booking.pk).slot_id == booking.slot_id


def test_the_picker_changing_under_htmx_shows_the_other_activitys_rates(
    staff, booking, make_activity, make_slot
):
    kayak = make_activity("kayak")
    departure = make_slot(kayak, starts_at=timezone.now() + timedelta(days=6))
    response = staff(Role.OWNER).post(url(booking), {"slot": departure.pk}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert f"Passengers on {kayak.name}" in body
    assert f'name="rate_{kayak.rates.first().pk}"' in body


@pytest.mark.parametrize(
    "data",
    [
        {"slot": "x", "confirm": "1"},
        {"slot": "999999", "confirm": "1"},
        {"slot": "", "preview": "1"},
    ],
)
def test_bad_input_is_a_clear_4xx_and_changes_nothing(staff, booking, data):
    response = staff(Role.OWNER).post(url(booking), data)
    assert response.status_code == 400
    assert not ReservationChange.objects.exists()


def test_too_many_passengers_or_none_are_refused_with_a_message(staff, booking):
    client = staff(Role.OWNER)
    response = client.post(url(booking), change_data(booking.slot, 0, 0, confirm="1"))
    assert response.status_code == 409
    assert "Choose at least one passenger." in response.content.decode()
    response = client.post(url(booking), change_data(booking.slot, 7, confirm="1"))
    assert response.status_code == 409
    assert "Only 3 seats left on this departure." in response.content.decode()
    assert not ReservationChange.objects.exists()
