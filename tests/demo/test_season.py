"""The demo's season of bookings (demo/season.py): seats add up on every departure, every
state a booking can end in is there, and seeding again adds nothing. The only test that
reads demo data: every other test builds its own."""

from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from booking.models import Reservation, Slot
from demo.management.commands.seed_demo import demo_catalogue
from demo.season import season_seed
from payments.models import PaymentIntent

METHODS = [("stripe", "card"), ("mercadopago", "checkout")]


def test_the_season_adds_up(alpha):
    with timezone.override(alpha.zone):
        demo_catalogue("ARS")
        made = season_seed(methods=METHODS, seed="test", weeks_back=1, weeks_ahead=1)

        assert made == Reservation.objects.count() > 20
        live = Q(reservations__status__in=Reservation.SEAT_HOLDING_STATUSES)
        departures = Slot.objects.annotate(
            seats=Sum("reservations__lines__quantity", filter=live, default=0)
        )
        assert all(departure.taken == departure.seats for departure in departures)
        assert Slot.objects.filter(taken__gt=0, starts_at__lt=timezone.now()).exists()
        statuses = dict(
            Reservation.objects.values_list("status").annotate(n=Count("id")).order_by()
        )
        assert set(statuses) == {"paid", "held", "cancelled", "refunded", "expired"}
        assert statuses["paid"] > statuses["cancelled"]
        paid = PaymentIntent.objects.filter(status="succeeded")
        assert paid.count() == statuses["paid"]
        assert set(paid.values_list("provider", flat=True)) == {"stripe", "mercadopago"}
        assert PaymentIntent.objects.filter(status="refunded").count() == statuses["refunded"]
        assert Reservation.objects.filter(
            created_at__lt=timezone.now() - timedelta(days=3)
        ).exists()

        assert season_seed(methods=METHODS, seed="test", weeks_back=1, weeks_ahead=1) == 0
