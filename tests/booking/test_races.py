"""Races with real threads, each with its own connection: the row lock must hold."""

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone
from django_tenants.utils import tenant_context

from booking.errors import IdempotencyKeyInUse, NotEnoughSeats
from booking.models import Reservation, ReservationLine
from booking.services import IdempotencyClaim, reservations_expire_overdue
from tests.factories import SYSTEM, hold, provider, traveller

pytestmark = pytest.mark.xdist_group("races")


def live_seats(committed, slot) -> int:
    with tenant_context(committed.operator):
        return (
            ReservationLine.objects.filter(
                reservation__slot=slot, reservation__status__in=Reservation.SEAT_HOLDING_STATUSES
            ).aggregate(seats=Sum("quantity"))["seats"]
            or 0
        )


def test_fifty_one_seat_holds_on_ten_seats_give_ten_holds_and_forty_refusals(committed):
    slot = committed.slot(capacity=10)

    outcomes = committed.run_concurrently(50, lambda i: hold(slot, 1, scope=f"client-{i}"))

    held = [o for o in outcomes if isinstance(o, Reservation)]
    refused = [o for o in outcomes if isinstance(o, NotEnoughSeats)]
    assert len(held) == 10
    assert len(refused) == 40
    assert {str(r.message) for r in refused} == {"This departure is sold out."}
    assert committed.reload(slot).taken == 10
    assert live_seats(committed, slot) == 10


def test_mixed_multi_seat_holds_never_exceed_capacity(committed):
    slot = committed.slot(capacity=17)
    sizes = [1, 2, 3, 4, 5] * 6

    outcomes = committed.run_concurrently(len(sizes), lambda i: hold(slot, sizes[i]))

    unexpected = [o for o in outcomes if not isinstance(o, Reservation | NotEnoughSeats)]
    assert unexpected == []
    seats_held = sum(sizes[i] for i, o in enumerate(outcomes) if isinstance(o, Reservation))
    taken = committed.reload(slot).taken
    assert taken == seats_held == live_seats(committed, slot)
    assert taken <= 17
    # Every refusal was right when it was made: after the last hold, fewer seats were left
    # than the smallest refused request.
    refused_sizes = [sizes[i] for i, o in enumerate(outcomes) if isinstance(o, NotEnoughSeats)]
    assert all(size > 17 - taken for size in refused_sizes)


def test_expiry_racing_new_holds_keeps_the_count_exact(committed):
    slot = committed.slot(capacity=10)
    now = timezone.now()
    with tenant_context(committed.operator):
        for i in range(8):
            hold(slot, 1, scope=f"old-{i}", now=now - timedelta(minutes=30))

    def work(index: int):
        if index < 4:
            return reservations_expire_overdue(actor=SYSTEM, now=now)
        return hold(slot, 1, scope=f"new-{index}", now=now)

    outcomes = committed.run_concurrently(24, work)

    errors = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, NotEnoughSeats)]
    assert errors == []
    assert sum(o for o in outcomes[:4] if isinstance(o, int)) == 8  # each hold expired once
    new_holds = [o for o in outcomes[4:] if isinstance(o, Reservation)]
    taken = committed.reload(slot).taken
    assert taken == live_seats(committed, slot) == len(new_holds)
    assert taken <= 10
    # Seats freed by expiry were sold again whenever a new hold came after them.
    assert len(new_holds) >= 2


def test_concurrent_duplicates_of_one_idempotency_key_create_one_reservation(committed):
    slot = committed.slot(capacity=10)
    claim = IdempotencyClaim(scope="client-1", key="same-key", fingerprint="f" * 64)

    outcomes = committed.run_concurrently(
        12, lambda i: hold(slot, 2, scope="client-1", idempotency=claim)
    )

    created = [o for o in outcomes if isinstance(o, Reservation)]
    duplicates = [o for o in outcomes if isinstance(o, IdempotencyKeyInUse)]
    assert len(created) == 1
    assert len(duplicates) == 11
    assert committed.reload(slot).taken == 2


def test_holds_cancellations_and_payments_racing_on_one_departure_keep_the_count(committed):
    """Every writer of a departure at once: no deadlock, no lost update."""
    from booking.services import reservation_cancel, reservation_confirm_payment

    slot = committed.slot(capacity=30)
    with tenant_context(committed.operator):
        earlier = [hold(slot, 1, scope=f"early-{i}") for i in range(12)]

    def work(index: int):
        if index < 6:
            return reservation_cancel(
                reservation_id=earlier[index].pk, actor=traveller(f"early-{index}")
            )
        if index < 12:
            return reservation_confirm_payment(
                reservation_id=earlier[index].pk, actor=provider("race")
            )
        return hold(slot, 2, scope=f"late-{index}")

    outcomes = committed.run_concurrently(30, work)

    assert [
        o for o in outcomes if isinstance(o, Exception) and not isinstance(o, NotEnoughSeats)
    ] == []
    taken = committed.reload(slot).taken
    assert taken == live_seats(committed, slot) <= 30
    # 6 cancelled (freed), 6 paid (kept): 6 seats + 2 per late hold that got in.
    late_holds = sum(isinstance(o, Reservation) for o in outcomes[12:])
    assert taken == 6 + 2 * late_holds
    # 18 seats were free at the start, 24 once the cancellations were in.
    assert 9 <= late_holds <= 12
