"""The rules of the booking services, tested directly."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from booking.errors import (
    BookingCutoffPassed,
    DepartureClosed,
    IllegalTransition,
    InvalidPassengers,
    NotEnoughSeats,
)
from booking.models import CODE_ALPHABET, Rate, Reservation, ReservationEvent, Slot
from booking.services import (
    reservation_cancel,
    reservation_price,
    reservations_expire_overdue,
)
from tests.factories import SYSTEM, hold, traveller


def test_hold_takes_seats_and_records_a_held_reservation(make_slot):
    slot = make_slot(capacity=10)
    reservation = hold(slot, 3)

    slot.refresh_from_db()
    assert slot.taken == 3
    assert reservation.status == Reservation.Status.HELD
    assert reservation.total_amount == 3 * 10_000_00
    assert reservation.currency == "ARS"
    assert reservation.seats == 3
    assert [line.unit_amount for line in reservation.lines.all()] == [10_000_00]
    assert list(reservation.events.values_list("kind", flat=True)) == ["held"]


def test_hold_expires_after_the_operators_hold_time(alpha, make_slot):
    alpha.hold_minutes = 20
    now = timezone.now()
    reservation = hold(make_slot(), now=now)
    assert reservation.hold_expires_at == now + timedelta(minutes=20)


def test_hold_keeps_the_price_of_the_moment(make_slot):
    slot = make_slot()
    reservation = hold(slot, 2)
    Rate.objects.filter(pk=reservation.lines.get().rate_id).update(amount=1)
    reservation.refresh_from_db()
    assert reservation.total_amount == 20_000_00
    assert reservation.lines.get().unit_amount == 10_000_00


def test_hold_refuses_more_seats_than_left_and_says_how_many(make_slot):
    slot = make_slot(capacity=5)
    hold(slot, 3)
    with pytest.raises(NotEnoughSeats) as refused:
        hold(slot, 3)
    assert refused.value.seats_left == 2
    assert str(refused.value.message) == "Only 2 seats left on this departure."
    slot.refresh_from_db()
    assert slot.taken == 3


def test_sold_out_message(make_slot):
    slot = make_slot(capacity=1)
    hold(slot, 1)
    with pytest.raises(NotEnoughSeats, match="sold out"):
        hold(slot, 1)


def test_hold_refuses_a_closed_departure(make_slot):
    slot = make_slot(is_open=False)
    with pytest.raises(DepartureClosed):
        hold(slot)
    assert not Reservation.objects.exists()


def test_hold_refuses_after_the_booking_cutoff(make_slot):
    slot = make_slot(starts_at=timezone.now() + timedelta(hours=1))  # cut-off is 2 h
    with pytest.raises(BookingCutoffPassed):
        hold(slot)
    slot.refresh_from_db()
    assert slot.taken == 0


def test_price_applies_minimum_and_maximum_per_booking(make_activity):
    activity = make_activity()
    adult, child = activity.rates.all()
    adult.min_per_booking, adult.max_per_booking = 1, 4
    with pytest.raises(InvalidPassengers, match="Adult: between 1 and 4"):
        reservation_price(rates=[adult, child], quantities={child.pk: 2})
    with pytest.raises(InvalidPassengers, match="Adult: between 1 and 4"):
        reservation_price(rates=[adult, child], quantities={adult.pk: 5})
    lines = reservation_price(rates=[adult, child], quantities={adult.pk: 2, child.pk: 1})
    assert [(line.rate.code, line.quantity, line.total) for line in lines] == [
        ("adult", 2, 20_000_00),
        ("child", 1, 5_000_00),
    ]


def test_price_needs_at_least_one_passenger(make_activity):
    rates = list(make_activity().rates.all())
    with pytest.raises(InvalidPassengers, match="at least one passenger"):
        reservation_price(rates=rates, quantities={})


def test_cancel_releases_the_seats_once(make_slot):
    slot = make_slot(capacity=4)
    reservation = hold(slot, 3)
    reservation_cancel(reservation_id=reservation.pk, actor=traveller())

    slot.refresh_from_db()
    reservation.refresh_from_db()
    assert slot.taken == 0
    assert reservation.status == Reservation.Status.CANCELLED
    assert reservation.events.last().kind == ReservationEvent.Kind.CANCELLED
    with pytest.raises(IllegalTransition):
        reservation_cancel(reservation_id=reservation.pk, actor=traveller())
    slot.refresh_from_db()
    assert slot.taken == 0


def test_expiry_releases_only_overdue_holds(make_slot):
    slot = make_slot(capacity=10)
    now = timezone.now()
    old = hold(slot, 2, now=now - timedelta(minutes=16))
    fresh = hold(slot, 3, now=now)

    assert reservations_expire_overdue(actor=SYSTEM, now=now) == 1

    slot.refresh_from_db()
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert slot.taken == 3
    assert old.status == Reservation.Status.EXPIRED
    assert old.hold_expires_at is None
    assert fresh.status == Reservation.Status.HELD
    assert reservations_expire_overdue(actor=SYSTEM, now=now) == 0


def test_an_expired_hold_cannot_be_cancelled(make_slot):
    slot = make_slot()
    now = timezone.now()
    reservation = hold(slot, 1, now=now - timedelta(hours=1))
    reservations_expire_overdue(actor=SYSTEM, now=now)
    with pytest.raises(IllegalTransition):
        reservation_cancel(reservation_id=reservation.pk, actor=traveller())


def test_the_database_refuses_overselling_even_without_the_service(make_slot):
    slot = make_slot(capacity=2)
    with pytest.raises(IntegrityError, match="slot_taken_within_capacity"), transaction.atomic():
        Slot.objects.filter(pk=slot.pk).update(taken=3)
    with pytest.raises(IntegrityError, match="slot_taken_within_capacity"), transaction.atomic():
        Slot.objects.filter(pk=slot.pk).update(capacity=0, taken=1)


def test_a_departure_is_unique_per_activity_and_start(make_slot):
    slot = make_slot()
    with pytest.raises(IntegrityError, match="slot_unique_start"), transaction.atomic():
        Slot.objects.create(activity=slot.activity, starts_at=slot.starts_at, capacity=5)


def test_reservation_codes_are_unguessable(make_slot):
    slot = make_slot(capacity=50)
    codes = {hold(slot, 1).code for _ in range(20)}
    assert len(codes) == 20
    assert all(len(code) == 12 and set(code) <= set(CODE_ALPHABET) for code in codes)
