"""One inventory across channels: the seats other channels sold (`taken_elsewhere`, set from
the operator's panel by the system's sync) count against the capacity like this site's own,
and every change of a reservation is told, in its own transaction, to the apps that follow
it (booking knows none of them)."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from booking.errors import NotEnoughSeats
from booking.events import Change, reservation_changed
from booking.models import Reservation, Slot
from booking.services import (
    reservation_cancel,
    reservation_confirm_payment,
    reservation_refund,
    reservations_expire_overdue,
    slot_apply_availability,
)
from tests.factories import SYSTEM, hold, provider, traveller


@contextmanager
def told():
    """The changes told while the block runs, each with whether it was told inside the
    change's own transaction (deeper than the test's)."""
    heard: list[tuple[str, Change, bool]] = []
    outside = len(connection.atomic_blocks)

    def listen(sender, reservation, change, **kwargs):
        heard.append((reservation.code, change, len(connection.atomic_blocks) > outside))

    reservation_changed.connect(listen, dispatch_uid="test_channels")
    try:
        yield heard
    finally:
        reservation_changed.disconnect(dispatch_uid="test_channels")


def test_seats_sold_elsewhere_count_against_the_capacity(make_slot):
    slot = make_slot(capacity=10)
    assert (
        slot_apply_availability(
            slot_id=slot.pk, capacity=10, taken_elsewhere=7, is_open=True, actor=SYSTEM
        )
        == 0
    )
    hold(slot, 3)
    with pytest.raises(NotEnoughSeats) as refused:
        hold(slot, 1, scope="client-2")
    assert refused.value.seats_left == 0
    slot.refresh_from_db()
    assert (slot.capacity, slot.taken, slot.taken_elsewhere, slot.seats_left) == (10, 3, 7, 0)


def test_the_database_refuses_more_than_the_capacity_across_channels(make_slot):
    slot = make_slot(capacity=10)
    hold(slot, 4)
    with pytest.raises(IntegrityError), transaction.atomic():
        Slot.objects.filter(pk=slot.pk).update(taken_elsewhere=7)


def test_the_other_channel_overselling_is_reported_and_never_takes_this_sites_seats(make_slot):
    slot = make_slot(capacity=10)
    hold(slot, 4)

    oversold = slot_apply_availability(
        slot_id=slot.pk, capacity=10, taken_elsewhere=8, is_open=True, actor=SYSTEM
    )

    assert oversold == 2
    slot.refresh_from_db()
    assert (slot.capacity, slot.taken, slot.taken_elsewhere) == (10, 4, 6)


def test_the_other_channel_sets_capacity_and_closes_but_never_below_this_sites_seats(make_slot):
    slot = make_slot(capacity=10)
    hold(slot, 4)

    oversold = slot_apply_availability(
        slot_id=slot.pk, capacity=3, taken_elsewhere=0, is_open=False, actor=SYSTEM
    )

    assert oversold == 1
    slot.refresh_from_db()
    assert (slot.capacity, slot.taken, slot.taken_elsewhere, slot.is_open) == (4, 4, 0, False)


def test_only_the_system_applies_another_channels_availability(make_slot):
    from django.core.exceptions import PermissionDenied

    slot = make_slot(capacity=10)
    with pytest.raises(PermissionDenied):
        slot_apply_availability(
            slot_id=slot.pk, capacity=1, taken_elsewhere=0, is_open=True, actor=traveller()
        )


def test_each_reservation_has_its_own_uuid_for_other_systems(make_slot):
    slot = make_slot(capacity=10)
    first, second = hold(slot, 1), hold(slot, 1, scope="client-2")
    assert first.uuid and second.uuid and first.uuid != second.uuid
    assert Reservation.objects.get(uuid=first.uuid) == first


def test_every_change_is_told_inside_its_transaction(make_slot):
    slot = make_slot(capacity=10)
    with told() as heard:
        paid = hold(slot, 1)
        cancelled = hold(slot, 1, scope="client-2")
        expired = hold(slot, 1, scope="client-3", now=timezone.now() - timedelta(hours=1))
        reservation_confirm_payment(reservation_id=paid.pk, actor=provider())
        reservation_cancel(reservation_id=cancelled.pk, actor=traveller("client-2"))
        reservations_expire_overdue(actor=SYSTEM)
        reservation_refund(reservation_id=paid.pk, actor=provider())

    assert [(code, change) for code, change, _ in heard] == [
        (paid.code, Change.HELD),
        (cancelled.code, Change.HELD),
        (expired.code, Change.HELD),
        (paid.code, Change.PAID),
        (cancelled.code, Change.CANCELLED),
        (expired.code, Change.EXPIRED),
        (paid.code, Change.REFUNDED),
    ]
    assert all(inside for _, _, inside in heard)


def test_a_receiver_that_fails_fails_the_change(make_slot):
    slot = make_slot(capacity=10)

    def broken(sender, reservation, change, **kwargs):
        raise RuntimeError("the follower could not write its message")

    reservation_changed.connect(broken, dispatch_uid="test_channels_broken")
    try:
        with pytest.raises(RuntimeError):
            hold(slot, 2)
    finally:
        reservation_changed.disconnect(dispatch_uid="test_channels_broken")
    slot.refresh_from_db()
    assert slot.taken == 0
    assert not Reservation.objects.exists()


def test_a_sale_guard_of_another_app_holds_a_departure_back(make_slot):
    from booking import extensions
    from booking.errors import SalesPaused

    slot = make_slot(capacity=10)
    held_back = set()
    extensions.sale_guard(lambda slot_id, now: "paused" if slot_id in held_back else None)
    guard = extensions._sale_guards[-1]
    try:
        hold(slot, 1)
        held_back.add(slot.pk)
        with pytest.raises(SalesPaused):
            hold(slot, 1, scope="client-2")
    finally:
        extensions._sale_guards.remove(guard)
    slot.refresh_from_db()
    assert slot.taken == 1 and Reservation.objects.count() == 1
