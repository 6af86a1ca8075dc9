"""Random sequences of holds, expiries and cancellations keep `taken` equal to the seats of
the live reservations, and within capacity."""

from datetime import timedelta

from django.db.models import Sum
from django.utils import timezone
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from booking.errors import IllegalTransition, NotEnoughSeats
from booking.models import Reservation, ReservationLine, Slot
from booking.services import reservation_cancel, reservations_expire_overdue
from tests.factories import SYSTEM, hold, traveller


def test_random_hold_expire_cancel_sequences_keep_seats_exact(make_slot):
    class Seats(RuleBasedStateMachine):
        @initialize(capacity=st.integers(min_value=0, max_value=12))
        def departure(self, capacity):
            self.now = timezone.now()
            # A new departure for each example, a second apart (unique per activity).
            starts_at = self.now + timedelta(days=30, seconds=Slot.objects.count())
            self.slot = make_slot(capacity=capacity, starts_at=starts_at)
            self.codes: list[int] = []

        @rule(seats=st.integers(min_value=1, max_value=5))
        def hold_seats(self, seats):
            before = Slot.objects.get(pk=self.slot.pk).seats_left
            try:
                self.codes.append(hold(self.slot, seats, now=self.now).pk)
            except NotEnoughSeats as refused:
                assert seats > before
                assert refused.seats_left == before
            else:
                assert seats <= before

        @rule(minutes=st.integers(min_value=1, max_value=20))
        def time_passes_and_holds_expire(self, minutes):
            self.now += timedelta(minutes=minutes)
            reservations_expire_overdue(actor=SYSTEM, now=self.now)

        @rule(data=st.data())
        def cancel_one(self, data):
            if not self.codes:
                return
            reservation_id = data.draw(st.sampled_from(self.codes))
            was_held = Reservation.objects.get(pk=reservation_id).status == "held"
            try:
                reservation_cancel(reservation_id=reservation_id, actor=traveller(), now=self.now)
            except IllegalTransition:
                assert not was_held
            else:
                assert was_held

        @invariant()
        def taken_equals_live_seats_within_capacity(self):
            if not hasattr(self, "slot"):
                return
            slot = Slot.objects.get(pk=self.slot.pk)
            live = (
                ReservationLine.objects.filter(
                    reservation__slot=slot,
                    reservation__status__in=Reservation.SEAT_HOLDING_STATUSES,
                ).aggregate(seats=Sum("quantity"))["seats"]
                or 0
            )
            assert slot.taken == live
            assert 0 <= slot.taken <= slot.capacity

    Seats.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
    Seats.TestCase().runTest()
