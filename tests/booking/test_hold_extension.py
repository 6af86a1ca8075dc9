"""A hold is extended while its traveller pays (booking.services.reservation_extend_hold):
bounded by the operator's `payment_minutes`, never shortened, never revived."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from booking.errors import IllegalTransition
from booking.models import Reservation, ReservationEvent
from booking.services import reservation_cancel, reservation_extend_hold
from tests.factories import SYSTEM, hold, provider, traveller


def extend(reservation: Reservation, at) -> Reservation:
    return reservation_extend_hold(reservation_id=reservation.pk, actor=traveller(), now=at)


def test_starting_to_pay_extends_the_hold_to_the_operators_minutes_to_pay(alpha, make_slot):
    alpha.hold_minutes, alpha.payment_minutes = 15, 30
    reservation = hold(make_slot(), 2)
    at = reservation.created_at + timedelta(minutes=5)

    extended = extend(reservation, at)

    assert extended.hold_expires_at == at + timedelta(minutes=30)
    reservation.refresh_from_db()
    assert reservation.hold_expires_at == at + timedelta(minutes=30)
    event = reservation.events.get(kind=ReservationEvent.Kind.HOLD_EXTENDED)
    assert event.actor == "traveller"
    assert event.data == {"hold_expires_at": (at + timedelta(minutes=30)).isoformat()}


def test_a_hold_is_never_shortened(alpha, make_slot):
    alpha.hold_minutes, alpha.payment_minutes = 45, 10
    reservation = hold(make_slot())
    ends = reservation.hold_expires_at

    assert extend(reservation, reservation.created_at).hold_expires_at == ends
    reservation.refresh_from_db()
    assert reservation.hold_expires_at == ends
    assert not reservation.events.filter(kind=ReservationEvent.Kind.HOLD_EXTENDED).exists()


def test_starting_again_and_again_cannot_keep_the_seats_for_ever(alpha, make_slot):
    alpha.hold_minutes, alpha.payment_minutes = 15, 30
    reservation = hold(make_slot())
    longest = reservation.created_at + timedelta(minutes=15 + 30)

    extend(reservation, reservation.created_at + timedelta(minutes=10))
    extend(reservation, reservation.created_at + timedelta(minutes=39))

    reservation.refresh_from_db()
    assert reservation.hold_expires_at == longest
    assert reservation.events.filter(kind=ReservationEvent.Kind.HOLD_EXTENDED).count() == 2


def test_a_lapsed_hold_is_not_brought_back(alpha, make_slot):
    reservation = hold(make_slot())
    with pytest.raises(IllegalTransition):
        extend(reservation, reservation.hold_expires_at)
    reservation.refresh_from_db()
    assert reservation.status == Reservation.Status.HELD
    assert not reservation.events.filter(kind=ReservationEvent.Kind.HOLD_EXTENDED).exists()


def test_a_reservation_no_longer_held_is_not_extended(alpha, make_slot):
    reservation = hold(make_slot())
    reservation_cancel(reservation_id=reservation.pk, actor=traveller())
    with pytest.raises(IllegalTransition):
        extend(reservation, reservation.created_at)


def test_the_traveller_or_the_system_extends_a_hold_and_nobody_else(alpha, make_slot):
    reservation = hold(make_slot())
    assert reservation_extend_hold(reservation_id=reservation.pk, actor=SYSTEM)
    with pytest.raises(PermissionDenied):
        reservation_extend_hold(reservation_id=reservation.pk, actor=provider())


@pytest.mark.parametrize("minutes", [4, 61])
def test_minutes_to_pay_are_bounded(alpha, minutes):
    alpha.payment_minutes = minutes
    with pytest.raises(ValidationError) as refused:
        alpha.full_clean()
    assert "payment_minutes" in refused.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        type(alpha).objects.filter(pk=alpha.pk).update(payment_minutes=minutes)


def test_minutes_to_pay_default_to_thirty(alpha):
    assert type(alpha)._meta.get_field("payment_minutes").default == 30
