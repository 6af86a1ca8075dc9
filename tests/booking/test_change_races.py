"""Booking changes racing holds, each other and the end of their time, with real threads,
each on its own connection: the departures' row locks, taken in id order, must hold."""

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone
from django_tenants.utils import tenant_context

from booking.changes import (
    ChangeLanding,
    change_quote,
    reservation_change,
    reservation_change_settle,
    reservation_changes_expire_overdue,
)
from booking.errors import NotEnoughSeats
from booking.models import Reservation, ReservationChange
from booking.services import reservation_confirm_payment
from tenants.models import Role
from tests.booking.test_races import live_seats
from tests.factories import SYSTEM, hold, provider, staff

pytestmark = pytest.mark.xdist_group("races")


def paid(committed, slot, seats: int, scope: str = "client-1") -> Reservation:
    with tenant_context(committed.operator):
        reservation = hold(slot, seats, scope=scope)
        reservation_confirm_payment(reservation_id=reservation.pk, actor=provider())
        return Reservation.objects.get(pk=reservation.pk)


def move(committed, reservation_id: int, to_slot, adults: int):
    """As staff would, from a fresh read of the booking (in the calling thread's schema)."""
    reservation = Reservation.objects.get(pk=reservation_id)
    adult = to_slot.activity.rates.get(code="adult")
    quote = change_quote(reservation=reservation, to_slot=to_slot, quantities={adult.pk: adults})
    return reservation_change(quote=quote, actor=staff(Role.OWNER, "owner@alpha"))


def held_for_changes(committed, slot) -> int:
    with tenant_context(committed.operator):
        pending = ReservationChange.objects.pending().filter(to_slot=slot)
        return pending.aggregate(seats=Sum("seats_held"))["seats"] or 0


@pytest.mark.parametrize("adults", [4, 5], ids=["same price, applied", "dearer, pending"])
def test_a_move_racing_holds_on_its_target_never_oversells_it(committed, adults):
    source = committed.slot(capacity=10)
    target = committed.slot(capacity=10, starts_at=timezone.now() + timedelta(days=8))
    booking = paid(committed, source, 4)

    def work(index: int):
        if index == 0:
            return move(committed, booking.pk, target, adults)
        return hold(target, 1, scope=f"racer-{index}")

    outcomes = committed.run_concurrently(12, work)

    moved = outcomes[0]
    holds = [o for o in outcomes[1:] if isinstance(o, Reservation)]
    refused = [o for o in outcomes[1:] if isinstance(o, NotEnoughSeats)]
    assert len(holds) + len(refused) == 11
    if isinstance(moved, ReservationChange):
        assert len(holds) == 10 - adults
    else:
        assert isinstance(moved, NotEnoughSeats) and len(holds) == 10
    taken = committed.reload(target).taken
    assert taken == 10
    assert taken == live_seats(committed, target) + held_for_changes(committed, target)
    source_taken = committed.reload(source).taken
    assert source_taken == live_seats(committed, source)


def test_moves_crossing_between_two_departures_do_not_deadlock(committed):
    first = committed.slot(capacity=20)
    second = committed.slot(capacity=20, starts_at=timezone.now() + timedelta(days=8))
    there = [paid(committed, first, 2, scope=f"a-{i}") for i in range(5)]
    back = [paid(committed, second, 2, scope=f"b-{i}") for i in range(5)]

    def work(index: int):
        if index % 2 == 0:
            return move(committed, there[index // 2].pk, second, 2)
        return move(committed, back[index // 2].pk, first, 2)

    outcomes = committed.run_concurrently(10, work)

    assert [type(o) for o in outcomes] == [ReservationChange] * 10
    assert all(o.status == "applied" for o in outcomes)
    assert committed.reload(first).taken == live_seats(committed, first) == 10
    assert committed.reload(second).taken == live_seats(committed, second) == 10
    with tenant_context(committed.operator):
        assert set(
            Reservation.objects.filter(pk__in=[r.pk for r in there]).values_list(
                "slot_id", flat=True
            )
        ) == {second.pk}


def test_a_payment_racing_the_end_of_its_change_applies_it_or_leaves_the_booking_as_it_was(
    committed,
):
    source = committed.slot(capacity=10)
    target = committed.slot(capacity=3, starts_at=timezone.now() + timedelta(days=8))
    booking = paid(committed, source, 2)
    with tenant_context(committed.operator):
        pending = move(committed, booking.pk, target, 3)
        ReservationChange.objects.filter(pk=pending.pk).update(
            expires_at=timezone.now() + timedelta(milliseconds=300)
        )
        lines_before = list(booking.lines.values_list("rate_id", "quantity", "unit_amount"))
    at_the_end = timezone.now() + timedelta(seconds=1)

    def work(index: int):
        if index == 0:
            return reservation_change_settle(change_id=pending.pk, actor=provider())
        return reservation_changes_expire_overdue(actor=SYSTEM, now=at_the_end)

    outcomes = committed.run_concurrently(4, work)

    with tenant_context(committed.operator):
        change = ReservationChange.objects.get(pk=pending.pk)
        reservation = Reservation.objects.get(pk=booking.pk)
        lines = list(reservation.lines.values_list("rate_id", "quantity", "unit_amount"))
    if outcomes[0] == ChangeLanding.APPLIED:
        assert change.status == "applied" and sum(outcomes[1:]) == 0
        assert (reservation.slot_id, reservation.total_amount) == (target.pk, 30_000_00)
        assert (committed.reload(source).taken, committed.reload(target).taken) == (0, 3)
    else:
        assert outcomes[0] == ChangeLanding.NOT_APPLIED and change.status == "released"
        assert sum(outcomes[1:]) <= 1
        assert (reservation.slot_id, reservation.total_amount) == (source.pk, 20_000_00)
        assert lines == lines_before
        assert (committed.reload(source).taken, committed.reload(target).taken) == (2, 0)
