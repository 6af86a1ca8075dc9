"""A season of bookings for the demo operators, so that the dashboard and the reports are not
empty on first sight: bookings made over the past weeks for departures of the past and the
coming weeks, paid by card, Mercado Pago or Pix, some refunded, cancelled, expired or still
held.

Every booking goes through the product's services, as a traveller, a provider and the system
would make it: seats are taken under the departure's lock and released the same way, so they
add up. Two things are not what production would do, because this history never happened:
- the rows' `created_at` (written by the database when a row is made) is set back to the
  moment the booking was made;
- the outbox messages the history wrote (confirmation e-mails, panel pushes) are marked
  delivered: invented travellers are not e-mailed, and the panel is not told of the past.

Deterministic: a seeded random generator, and days counted from today."""

import random
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from booking.catalogue import slots_create_recurring
from booking.errors import BookingError
from booking.models import Activity, Reservation, Slot
from booking.services import (
    Contact,
    PricedLine,
    reservation_cancel,
    reservation_hold,
    reservations_expire_overdue,
)
from outbox.models import OutboxMessage
from payments.models import PaymentIntent, Refund
from payments.providers.base import PaymentState
from payments.services.transitions import intent_apply_state
from tenants.actors import Actor

SCOPE = "demo-season"
NAMES = [
    "Lucía Fernández", "Martín Gómez", "Sofía Pereyra", "Joaquín Díaz", "Valentina Ruiz",
    "Tomás Acosta", "Camila Sosa", "Mateo Romero", "Ana Souza", "Pedro Oliveira",
    "Emma Schmidt", "Liam Walsh", "Chiara Rossi", "Hiroshi Tanaka", "Julia Costa",
]  # fmt: skip
# What became of a booking, with its weight: departures already gone have no live holds.
FATES_PAST = [("paid", 80), ("cancelled", 8), ("refunded", 6), ("expired", 6)]
FATES_AHEAD = [("paid", 74), ("held", 6), ("cancelled", 8), ("refunded", 5), ("expired", 7)]
PROVIDER = Actor.provider("demo seed")
SYSTEM = Actor.system("demo seed")


def season_seed(
    *, methods: list[tuple[str, str]], seed: str, weeks_back: int, weeks_ahead: int
) -> int:
    """Book the operator in use (time zone active) through a season of `weeks_back` and
    `weeks_ahead`, unless it was done before; `methods` are the (provider, method) pairs its
    travellers pay with. Returns how many bookings were made."""
    if Reservation.objects.filter(client_scope__startswith=SCOPE).exists():
        return 0
    rng = random.Random(seed)
    now = timezone.now()
    today = timezone.localdate()
    _past_departures(today - timedelta(weeks=weeks_back), today)
    first_outbox = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first()
    made = 0
    with transaction.atomic():
        departures = (
            Slot.objects.on_days(
                today - timedelta(weeks=weeks_back), 7 * (weeks_back + weeks_ahead)
            )
            .select_related("activity")
            .prefetch_related("activity__rates")
        )
        for departure in departures:
            made += _fill(departure, rng=rng, now=now, methods=methods, serial=made)
        reservations_expire_overdue(actor=SYSTEM, now=now)
        OutboxMessage.objects.filter(pk__gt=first_outbox or 0, delivered_at__isnull=True).update(
            delivered_at=now
        )
    return made


def _past_departures(first_day, today) -> None:
    """The past weeks' departures, at the hours of the coming ones (seed_demo makes those)."""
    for activity in Activity.objects.all():
        coming = list(activity.slots.filter(starts_at__gte=timezone.now())[:14])
        if not coming:
            continue
        slots_create_recurring(
            actor=SYSTEM,
            activity=activity,
            first_day=first_day,
            last_day=today - timedelta(days=1),
            weekdays={timezone.localtime(slot.starts_at).weekday() for slot in coming},
            times={timezone.localtime(slot.starts_at).time() for slot in coming},
            capacity=coming[0].capacity,
        )


def _fill(departure: Slot, *, rng: random.Random, now: datetime, methods, serial: int) -> int:
    """Bookings for one departure, up to an occupancy that is higher for the past and the
    next days than for departures weeks away."""
    days_away = (departure.starts_at - now).days
    target = departure.capacity * rng.uniform(0.15, 0.6) * (1 if days_away < 7 else 0.5)
    group = max(1, departure.capacity // 10)  # a catamaran's groups are larger than a trek's
    rates = list(departure.activity.rates.all())
    made = 0
    while departure.taken + departure.taken_elsewhere < target:
        seats = min(group * rng.choice([1, 2, 2, 3, 4]), departure.seats_left)
        lines = _lines(rates, seats, rng)
        booked_at = _booked_at(departure, now, rng)
        fate = _choice(FATES_PAST if departure.starts_at < now else FATES_AHEAD, rng)
        if fate == "held":
            booked_at = now - timedelta(minutes=rng.randint(1, 9))
        scope = f"{SCOPE}-{serial + made}"
        try:
            reservation = reservation_hold(
                slot_id=departure.pk,
                lines=lines,
                contact=_contact(rng),
                actor=Actor.traveller(scope),
                language="es",
                now=booked_at,
            )
        except BookingError:
            break
        departure.taken += seats
        Reservation.objects.filter(pk=reservation.pk).update(created_at=booked_at)
        if fate in ("paid", "refunded"):
            provider, method = rng.choice(methods)
            intent = _pay(reservation, provider, method, at=booked_at + timedelta(minutes=3))
            if fate == "refunded":
                _refund(intent, at=booked_at + timedelta(days=rng.randint(0, 3), hours=2))
                departure.taken -= seats
        elif fate == "cancelled":
            reservation_cancel(
                reservation_id=reservation.pk, actor=Actor.traveller(scope), now=booked_at
            )
            departure.taken -= seats
        elif fate == "expired":
            departure.taken -= seats  # released by the sweep at the end
        made += 1
    return made


def _pay(reservation: Reservation, provider: str, method: str, *, at: datetime) -> PaymentIntent:
    intent = PaymentIntent.objects.create(
        reservation=reservation,
        provider=provider,
        method=method,
        status=PaymentIntent.Status.PENDING,
        amount=reservation.total_amount,
        currency=reservation.currency,
    )
    PaymentIntent.objects.filter(pk=intent.pk).update(created_at=at)
    intent = PaymentIntent.objects.locked().get(pk=intent.pk)
    state = PaymentState(status=PaymentIntent.Status.SUCCEEDED, payment_id=f"demo-{intent.pk}")
    intent_apply_state(intent, state, actor=PROVIDER, now=at)
    return intent


def _refund(intent: PaymentIntent, *, at: datetime) -> None:
    """In full: asked for by the owner, then confirmed by the provider."""
    refund = Refund.objects.create(
        intent=intent, amount=intent.amount, requested_by="demo-owner@example.com"
    )
    Refund.objects.filter(pk=refund.pk).update(created_at=at)
    intent = PaymentIntent.objects.locked().get(pk=intent.pk)
    state = PaymentState(status=PaymentIntent.Status.REFUNDED, amount_refunded=intent.amount)
    intent_apply_state(intent, state, actor=PROVIDER, now=at)


def _lines(rates, seats: int, rng: random.Random) -> list[PricedLine]:
    adults = max(1, seats - rng.choice([0, 0, 1, 2])) if len(rates) > 1 else seats
    lines = [PricedLine(rate=rates[0], quantity=adults)]
    if seats > adults:
        lines.append(PricedLine(rate=rates[1], quantity=seats - adults))
    return lines


def _booked_at(departure: Slot, now: datetime, rng: random.Random) -> datetime:
    """Some days before the departure (before its booking closes), never in the future."""
    closes = departure.starts_at - departure.activity.booking_cutoff
    at = closes - timedelta(hours=rng.uniform(1, 24 * 20))
    return min(at, now - timedelta(minutes=rng.randint(10, 60 * 24 * 3)))


def _contact(rng: random.Random) -> Contact:
    name = rng.choice(NAMES)
    email = name.split()[0].lower().translate(str.maketrans("áéíóú", "aeiou"))
    return Contact(name=name, email=f"{email}.{rng.randint(10, 99)}@example.com")


def _choice(weighted: list[tuple[str, int]], rng: random.Random) -> str:
    return rng.choices([name for name, _ in weighted], [w for _, w in weighted])[0]
