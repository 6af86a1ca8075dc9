"""Writes that shape an operator's catalogue: activities, rates and departures. Staff
actions are recorded in the audit log with who did them."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from booking.content import Texts, as_texts, operator_language
from booking.errors import BookingError
from booking.models import Activity, PassengerData, Rate, Slot
from booking.records import CatalogueAction
from tenants.actors import STAFF, SYSTEM, Actor, actor_require
from tenants.models import Role


@dataclass(frozen=True)
class RateSpec:
    code: str
    name: str | Texts
    amount: int
    min_per_booking: int = 0
    max_per_booking: int = 20


def activity_upsert(
    *,
    slug: str,
    name: str | Texts,
    summary: str | Texts,
    description: str | Texts,
    duration: timedelta,
    meeting_point: str | Texts,
    currency: str,
    rates: Iterable[RateSpec],
    actor: Actor,
    booking_cutoff: timedelta = timedelta(hours=2),
    position: int = 0,
    passenger_data: str = PassengerData.NONE,
) -> Activity:
    """Create or update an activity and its rates, in one transaction (staff from manager up,
    or the system). Texts are given per language, or as one text in the operator's language;
    either way they replace the activity's texts in every language."""
    actor_require(actor, STAFF, SYSTEM, role=Role.MANAGER)
    language = operator_language()
    with transaction.atomic():
        activity = Activity.objects.filter(slug=slug).first() or Activity(slug=slug)
        for field, texts in [
            ("name", name),
            ("summary", summary),
            ("description", description),
            ("meeting_point", meeting_point),
        ]:
            activity.set_texts(field, as_texts(texts))
        activity.duration, activity.booking_cutoff = duration, booking_cutoff
        activity.position, activity.language = position, language
        activity.passenger_data = passenger_data
        activity.save()
        for index, spec in enumerate(rates):
            rate = Rate.objects.filter(activity=activity, code=spec.code).first() or Rate(
                activity=activity, code=spec.code
            )
            rate.set_texts("name", as_texts(spec.name))
            rate.amount, rate.currency, rate.position = spec.amount, currency, index
            rate.min_per_booking, rate.max_per_booking = spec.min_per_booking, spec.max_per_booking
            rate.language = language
            rate.save()
    return activity


def slots_create_recurring(
    *,
    activity: Activity,
    first_day: date,
    last_day: date,
    weekdays: set[int],
    times: Iterable[time],
    capacity: int,
    actor: Actor,
) -> int:
    """Departures on the given weekdays (0 = Monday) at the given local times, between two days
    inclusive, in the current time zone, in one transaction (staff from manager up, or the
    system). Existing departures are left as they are. Returns how many were created."""
    actor_require(actor, STAFF, SYSTEM, role=Role.MANAGER)
    zone = timezone.get_current_timezone()
    times = list(times)
    starts = [
        datetime.combine(first_day + timedelta(days=offset), at, tzinfo=zone)
        for offset in range((last_day - first_day).days + 1)
        if (first_day + timedelta(days=offset)).weekday() in weekdays
        for at in times
    ]
    with transaction.atomic():
        before = activity.slots.count()
        Slot.objects.bulk_create(
            [Slot(activity=activity, starts_at=start, capacity=capacity) for start in starts],
            ignore_conflicts=True,
        )
        created = activity.slots.count() - before
        audit_record(
            actor=str(actor),
            action=CatalogueAction.DEPARTURES_CREATED,
            target=str(activity),
            data={
                "first_day": first_day.isoformat(),
                "last_day": last_day.isoformat(),
                "weekdays": sorted(weekdays),
                "times": [t.isoformat("minutes") for t in times],
                "capacity": capacity,
                "created": created,
            },
        )
        return created


class CapacityBelowTaken(BookingError):
    def __init__(self, taken: int):
        self.taken = taken
        super().__init__(
            _("Capacity cannot go below the %(taken)d seats already taken.") % {"taken": taken}
        )


def _departure(slot: Slot) -> dict:
    """A departure as the audit log records it: its id, and its time for the staff to read
    in the operator's time zone."""
    return {"slot": slot.pk, "starts_at": slot.starts_at.isoformat()}


def slot_set_capacity(*, slot_id: int, capacity: int, actor: Actor) -> Slot:
    """Change a departure's capacity, never below the seats taken (on every channel).

    Locks: the slot row (SELECT ... FOR NO KEY UPDATE), like every change of its seats.
    Raises CapacityBelowTaken; PermissionDenied for staff below manager.
    """
    actor_require(actor, STAFF, role=Role.MANAGER)
    with transaction.atomic():
        slot = Slot.objects.locked().get(pk=slot_id)
        if capacity < slot.taken + slot.taken_elsewhere:
            raise CapacityBelowTaken(slot.taken + slot.taken_elsewhere)
        before, slot.capacity = slot.capacity, capacity
        slot.save(update_fields=["capacity"])
        audit_record(
            actor=str(actor),
            action=CatalogueAction.CAPACITY_CHANGED,
            target=str(slot.activity),
            data={**_departure(slot), "from": before, "to": capacity},
        )
    return slot


def slot_set_open(*, slot_id: int, is_open: bool, actor: Actor) -> Slot:
    """Close a departure to new bookings (held and paid seats stay), or reopen it.

    Locks: the slot row, so no hold is half-way through when it closes.
    """
    actor_require(actor, STAFF, role=Role.MANAGER)
    with transaction.atomic():
        slot = Slot.objects.locked().get(pk=slot_id)
        slot.is_open = is_open
        slot.save(update_fields=["is_open"])
        audit_record(
            actor=str(actor),
            action=CatalogueAction.OPENED if is_open else CatalogueAction.CLOSED,
            target=str(slot.activity),
            data=_departure(slot),
        )
    return slot


def rate_set_price(
    *,
    rate_id: int,
    amount: int,
    min_per_booking: int,
    max_per_booking: int,
    actor: Actor,
) -> Rate:
    """New price and limits for a rate. Reservations keep the price they were made at."""
    actor_require(actor, STAFF, role=Role.MANAGER)
    with transaction.atomic():
        rate = Rate.objects.select_for_update(no_key=True).get(pk=rate_id)
        before = {"amount": rate.amount, "min": rate.min_per_booking, "max": rate.max_per_booking}
        rate.amount, rate.min_per_booking, rate.max_per_booking = (
            amount,
            min_per_booking,
            max_per_booking,
        )
        rate.save(update_fields=["amount", "min_per_booking", "max_per_booking"])
        audit_record(
            actor=str(actor),
            action=CatalogueAction.PRICE_CHANGED,
            target=str(rate),
            data={
                "rate": rate.pk,
                "currency": rate.currency,
                "from": before,
                "to": {"amount": amount, "min": min_per_booking, "max": max_per_booking},
            },
        )
    return rate


# Other channels' word on the catalogue (the system's sync with the operator's panel)


def slot_ensure(
    *, activity_id: int, starts_at: datetime, capacity: int, is_open: bool, actor: Actor
) -> tuple[Slot, bool]:
    """The departure of an activity at `starts_at`, created with this capacity if it does not
    exist yet (another channel sells it). Returns (slot, created). The system only; its seats
    are set afterwards under the slot's lock (booking.services.slot_apply_availability)."""
    actor_require(actor, SYSTEM)
    with transaction.atomic():
        slot, created = Slot.objects.get_or_create(
            activity_id=activity_id,
            starts_at=starts_at,
            defaults={"capacity": capacity, "is_open": is_open},
        )
        if created:
            audit_record(
                actor=str(actor),
                action=CatalogueAction.DEPARTURE_CREATED,
                target=str(slot.activity),
                data={**_departure(slot), "capacity": capacity, "is_open": is_open},
            )
    return slot, created


def rate_apply_channel_price(*, rate_id: int, amount: int, actor: Actor) -> Rate:
    """Another channel's price for a rate (the panel's, which is the master of it for a mapped
    activity): the amount only, limits kept. Reservations keep the price they were made at.
    The system only; audited when it changes.

    Locks: the rate row."""
    actor_require(actor, SYSTEM)
    with transaction.atomic():
        rate = Rate.objects.select_for_update(no_key=True).get(pk=rate_id)
        if rate.amount != amount:
            before, rate.amount = rate.amount, amount
            rate.save(update_fields=["amount"])
            audit_record(
                actor=str(actor),
                action=CatalogueAction.PRICE_CHANGED,
                target=str(rate),
                data={
                    "rate": rate.pk,
                    "currency": rate.currency,
                    "from": {"amount": before},
                    "to": {"amount": amount},
                },
            )
    return rate
