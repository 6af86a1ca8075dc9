"""Changing a paid booking (booking.changes): counts, another departure, the seats of both
under lock, pending changes that hold seats until their difference is paid."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from booking.changes import (
    ChangeLanding,
    ChangePending,
    NothingToChange,
    change_quote,
    reservation_change,
    reservation_change_release,
    reservation_change_settle,
    reservation_changes_expire_overdue,
)
from booking.emails import CHANGE_PAYMENT, CHANGED
from booking.errors import BookingCutoffPassed, DepartureClosed, NotEnoughSeats
from booking.models import Passenger, Reservation, ReservationChange, Slot
from booking.services import reservation_confirm_payment
from outbox.models import OutboxMessage
from tenants.models import Role
from tests.factories import SYSTEM, hold, provider, staff, traveller


def paid(slot: Slot, seats: int) -> Reservation:
    reservation = hold(slot, seats)
    reservation_confirm_payment(reservation_id=reservation.pk, actor=provider())
    return Reservation.objects.get(pk=reservation.pk)


def counts(slot: Slot, adults: int = 0, children: int = 0) -> dict[int, int]:
    adult, child = slot.activity.rates.all()
    return {adult.pk: adults, child.pk: children}


def change(reservation, to_slot, adults=0, children=0, *, actor=None, now=None):
    quote = change_quote(
        reservation=reservation, to_slot=to_slot, quantities=counts(to_slot, adults, children)
    )
    return reservation_change(quote=quote, actor=actor or staff(Role.OWNER), now=now)


def as_it_is(reservation: Reservation) -> tuple:
    reservation = Reservation.objects.get(pk=reservation.pk)
    lines = [(line.rate_id, line.quantity, line.unit_amount) for line in reservation.lines.all()]
    return reservation.slot_id, reservation.status, reservation.total_amount, lines


def taken(slot: Slot) -> int:
    return Slot.objects.get(pk=slot.pk).taken


def test_fewer_passengers_on_the_same_departure_apply_at_once_and_release_seats(make_slot):
    slot = make_slot(capacity=6)
    reservation = paid(slot, 3)

    done = change(reservation, slot, adults=2)

    assert done.status == ReservationChange.Status.APPLIED and done.difference == -10_000_00
    assert taken(slot) == 2
    assert as_it_is(reservation)[2] == 20_000_00
    assert [line.quantity for line in Reservation.objects.get(pk=reservation.pk).lines.all()] == [2]
    kinds = list(reservation.events.values_list("kind", flat=True))
    assert kinds[-1] == "changed"
    assert OutboxMessage.objects.filter(topic=CHANGED, payload__change_id=done.pk).exists()


def test_a_move_at_the_same_price_moves_the_seats_at_once(make_slot):
    source, target = (
        make_slot(capacity=6),
        make_slot(capacity=4, starts_at=timezone.now() + timedelta(days=4)),
    )
    reservation = paid(source, 2)

    done = change(reservation, target, adults=2)

    assert done.status == ReservationChange.Status.APPLIED and done.difference == 0
    assert (taken(source), taken(target)) == (0, 2)
    assert as_it_is(reservation)[0] == target.pk


def test_a_dearer_change_holds_its_seats_and_leaves_the_booking_as_it_was(make_slot):
    source = make_slot(capacity=6)
    target = make_slot(capacity=4, starts_at=timezone.now() + timedelta(days=4))
    reservation = paid(source, 2)
    before = as_it_is(reservation)

    pending = change(reservation, target, adults=3)

    assert pending.status == ReservationChange.Status.PENDING
    assert (pending.difference, pending.seats_held) == (10_000_00, 3)
    assert (taken(source), taken(target)) == (2, 3)
    assert as_it_is(reservation) == before
    assert OutboxMessage.objects.filter(
        topic=CHANGE_PAYMENT, payload__change_id=pending.pk
    ).exists()
    with pytest.raises(ChangePending):
        change(reservation, target, adults=1)

    assert (
        reservation_change_settle(change_id=pending.pk, actor=provider()) == ChangeLanding.APPLIED
    )

    assert (taken(source), taken(target)) == (0, 3)
    slot_id, status, total, lines = as_it_is(reservation)
    assert (slot_id, status, total) == (target.pk, "paid", 30_000_00)
    assert [quantity for _, quantity, _ in lines] == [3]


def test_more_passengers_on_the_same_departure_hold_only_the_extra_seats(make_slot):
    slot = make_slot(capacity=4)
    reservation = paid(slot, 2)

    pending = change(reservation, slot, adults=3, children=1)

    assert pending.seats_held == 2 and taken(slot) == 4
    reservation_change_settle(change_id=pending.pk, actor=provider())
    assert taken(slot) == 4
    assert as_it_is(reservation)[2] == 35_000_00


def test_a_released_change_gives_its_seats_back_and_the_booking_is_exactly_as_it_was(make_slot):
    source = make_slot(capacity=6)
    target = make_slot(capacity=4, starts_at=timezone.now() + timedelta(days=4))
    reservation = paid(source, 2)
    before = as_it_is(reservation)
    pending = change(reservation, target, adults=2, children=1)

    assert reservation_change_release(
        change_id=pending.pk, actor=provider(), reason="payment_failed"
    )

    assert (taken(source), taken(target)) == (2, 0)
    assert as_it_is(reservation) == before
    assert ReservationChange.objects.get(pk=pending.pk).status == "released"
    assert reservation.events.filter(kind="change_released").count() == 1
    assert not reservation_change_release(change_id=pending.pk, actor=provider(), reason="again")
    assert reservation_change_settle(change_id=pending.pk, actor=provider()) == "not_applied"
    assert as_it_is(reservation) == before


def test_overdue_changes_are_released_and_a_late_payment_is_not_applied(make_slot):
    source = make_slot(capacity=6)
    target = make_slot(capacity=4, starts_at=timezone.now() + timedelta(days=4))
    reservation = paid(source, 1)
    before = as_it_is(reservation)
    pending = change(reservation, target, adults=2, now=timezone.now() - timedelta(days=2))
    late = change_quote(reservation=reservation, to_slot=source, quantities=counts(source, 2))
    assert late  # a fresh quote is possible; the pending change still blocks a new one

    assert reservation_changes_expire_overdue(actor=SYSTEM) == 1
    assert reservation_changes_expire_overdue(actor=SYSTEM) == 0
    assert taken(target) == 0
    assert reservation_change_settle(change_id=pending.pk, actor=provider()) == "not_applied"
    assert as_it_is(reservation) == before
    assert reservation.events.filter(kind="change_not_applied").count() == 1


def test_a_payment_past_the_changes_time_is_not_applied_even_before_the_sweep(make_slot):
    slot = make_slot(capacity=6)
    reservation = paid(slot, 1)
    pending = change(reservation, slot, adults=2, now=timezone.now() - timedelta(days=2))

    assert reservation_change_settle(change_id=pending.pk, actor=provider()) == "not_applied"
    assert taken(slot) == 1 and as_it_is(reservation)[2] == 10_000_00


def test_a_change_needing_more_seats_than_left_is_refused_and_changes_nothing(make_slot):
    source = make_slot(capacity=6)
    target = make_slot(capacity=2, starts_at=timezone.now() + timedelta(days=4))
    reservation = paid(source, 3)
    before = as_it_is(reservation)

    with pytest.raises(NotEnoughSeats):
        change(reservation, target, adults=3)

    assert (taken(source), taken(target)) == (3, 0)
    assert as_it_is(reservation) == before
    assert not ReservationChange.objects.exists()


def test_nothing_to_change_and_closed_or_departed_targets(make_slot):
    slot = make_slot(capacity=6)
    reservation = paid(slot, 2)
    with pytest.raises(NothingToChange):
        change(reservation, slot, adults=2)
    closed = make_slot(capacity=6, is_open=False, starts_at=timezone.now() + timedelta(days=5))
    with pytest.raises(DepartureClosed):
        change(reservation, closed, adults=2)
    gone = make_slot(capacity=6, starts_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(DepartureClosed):
        change(reservation, gone, adults=2)


def test_only_owners_and_the_traveller_within_the_cutoff_may_change(make_slot):
    slot = make_slot(capacity=6)
    reservation = paid(slot, 2)
    for role in (Role.MANAGER, Role.AGENT):
        with pytest.raises(PermissionDenied):
            change(reservation, slot, adults=1, actor=staff(role))
    soon = make_slot(capacity=6, starts_at=timezone.now() + timedelta(hours=1))
    with pytest.raises(BookingCutoffPassed):
        change(reservation, soon, adults=2, actor=traveller("someone-else"))
    done = change(reservation, slot, adults=1, actor=traveller("someone-else"))
    assert done.status == "applied" and done.requested_by == "traveller"
    with pytest.raises(PermissionDenied):
        reservation_change_release(change_id=done.pk, actor=staff(Role.MANAGER), reason="x")


def test_the_passengers_details_follow_the_change_rate_by_rate(make_slot):
    slot = make_slot(capacity=6)
    reservation = paid(slot, 3)
    adult, child = slot.activity.rates.all()
    for position, name in enumerate(["Ana", "Bruno", "Carla"], start=1):
        Passenger.objects.create(
            reservation=reservation, rate=adult, position=position, full_name=name
        )

    assert change(reservation, slot, adults=2, children=1).status == "applied"

    names = list(
        Reservation.objects.get(pk=reservation.pk)
        .passengers.order_by("position")
        .values_list("position", "rate_id", "full_name")
    )
    assert names == [(1, adult.pk, "Ana"), (2, adult.pk, "Bruno")]
    assert reservation.events.get(kind="changed").data["passengers_dropped"] == 1
