"""The traveller changes their own paid booking, within policy: until its departure's booking
cut-off, to departures open for online booking; a dearer change is paid from the booking's
page, a cheaper one refunded."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from booking.models import Reservation, ReservationChange
from booking.services import reservation_confirm_payment
from payments.models import Refund
from tests.factories import ALPHA_HOST, change_data, hold, paid_by_card, provider

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def browser() -> Client:
    """A traveller's browser that did not make the booking (the e-mail's link, another
    device): the booking's code is what lets them in."""
    return Client(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def booking(make_slot):
    """A paid booking of 2 adults in three days, paid by card at Stripe."""
    return paid_by_card(hold(make_slot(capacity=6), 2))


def url(reservation) -> str:
    return f"/reservations/{reservation.code}/change/"


def test_the_booking_page_offers_the_change_until_the_cutoff(browser, booking, make_slot):
    page = browser.get(f"/reservations/{booking.code}/").content.decode()
    assert "Change your booking" in page and url(booking) in page

    soon = hold(make_slot(capacity=6, starts_at=timezone.now() + timedelta(hours=3)), 1)
    reservation_confirm_payment(reservation_id=soon.pk, actor=provider())
    later = timezone.now() + timedelta(hours=1, minutes=30)  # the 2-hour cut-off has passed
    assert not Reservation.objects.get(pk=soon.pk).can_be_changed_by_traveller(later)
    assert Reservation.objects.get(pk=soon.pk).can_be_changed_by_traveller()
    held = hold(make_slot(capacity=6, starts_at=timezone.now() + timedelta(days=4)), 1)
    assert "Change your booking" not in browser.get(f"/reservations/{held.code}/").content.decode()


def test_past_the_cutoff_the_change_page_sends_the_traveller_back(browser, make_slot):
    reservation = hold(make_slot(capacity=6, starts_at=timezone.now() + timedelta(hours=3)), 1)
    reservation_confirm_payment(reservation_id=reservation.pk, actor=provider())
    reservation.slot.activity.booking_cutoff = timedelta(hours=4)
    reservation.slot.activity.save()

    response = browser.post(
        url(reservation), change_data(reservation.slot, 2, confirm="1"), follow=True
    )

    assert "This booking can no longer be changed online." in response.content.decode()
    assert not ReservationChange.objects.exists()


def test_only_departures_open_for_booking_are_offered(browser, booking, make_slot):
    bookable = make_slot(capacity=6, starts_at=timezone.now() + timedelta(days=5))
    too_late = make_slot(capacity=6, starts_at=timezone.now() + timedelta(hours=1))

    page = browser.get(url(booking)).content.decode()
    assert f'value="{bookable.pk}"' in page and f'value="{too_late.pk}"' not in page
    response = browser.post(url(booking), change_data(too_late, 2, confirm="1"))
    assert response.status_code == 400
    assert not ReservationChange.objects.exists()


def test_a_cheaper_change_is_made_and_refunded(browser, booking):
    preview = browser.post(url(booking), change_data(booking.slot, 1, preview="1")).content.decode()
    assert "We give you back" in preview and "10,000.00" in preview

    response = browser.post(url(booking), change_data(booking.slot, 1, confirm="1"))

    assert response.status_code == 302 and response["Location"] == f"/reservations/{booking.code}/"
    booking.refresh_from_db()
    assert (booking.total_amount, booking.slot.taken) == (10_000_00, 1)
    refund = Refund.objects.get()
    assert (refund.amount, refund.requested_by) == (10_000_00, "traveller")


def test_a_dearer_change_is_paid_from_the_booking_page(
    browser, booking, make_slot, operator_secrets
):
    target = make_slot(capacity=6, starts_at=timezone.now() + timedelta(days=5))

    response = browser.post(url(booking), change_data(target, 2, 1, confirm="1"), **HTMX)

    assert response["HX-Redirect"] == f"/reservations/{booking.code}/"
    change = ReservationChange.objects.get()
    assert (change.status, change.difference, change.seats_held) == ("pending", 5_000_00, 3)
    page = browser.get(f"/reservations/{booking.code}/").content.decode()
    assert "A change to your booking is waiting for payment" in page
    assert f'action="/reservations/{booking.code}/changes/{change.pk}/pay/"' in page
    assert "Change your booking" not in page  # one change at a time
    status = browser.get(f"/reservations/{booking.code}/changes/{change.pk}/", **HTMX)
    assert status.status_code == 200 and "waiting for payment" in status.content.decode()


@pytest.mark.parametrize(
    "data", [{"slot": "x", "confirm": "1"}, {"slot": "", "preview": "1"}, {"preview": "1"}]
)
def test_bad_input_is_a_clear_400(browser, booking, data):
    assert browser.post(url(booking), data).status_code == 400
    assert not ReservationChange.objects.exists()
