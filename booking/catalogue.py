"""Writes that shape an operator's catalogue: activities, rates and departures."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from booking.models import Activity, Rate, Slot


@dataclass(frozen=True)
class RateSpec:
    code: str
    name: str
    amount: int
    min_per_booking: int = 0
    max_per_booking: int = 20


def activity_upsert(
    *,
    slug: str,
    name: str,
    summary: str,
    description: str,
    duration: timedelta,
    meeting_point: str,
    currency: str,
    rates: Iterable[RateSpec],
    booking_cutoff: timedelta = timedelta(hours=2),
    position: int = 0,
) -> Activity:
    """Create or update an activity and its rates, in one transaction."""
    with transaction.atomic():
        activity, _ = Activity.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "summary": summary,
                "description": description,
                "duration": duration,
                "meeting_point": meeting_point,
                "booking_cutoff": booking_cutoff,
                "position": position,
            },
        )
        for index, rate in enumerate(rates):
            Rate.objects.update_or_create(
                activity=activity,
                code=rate.code,
                defaults={
                    "name": rate.name,
                    "amount": rate.amount,
                    "currency": currency,
                    "min_per_booking": rate.min_per_booking,
                    "max_per_booking": rate.max_per_booking,
                    "position": index,
                },
            )
    return activity


def slots_create_recurring(
    *,
    activity: Activity,
    first_day: date,
    last_day: date,
    weekdays: set[int],
    times: Iterable[time],
    capacity: int,
) -> int:
    """Departures on the given weekdays (0 = Monday) at the given local times, between two days
    inclusive, in the current time zone. Existing departures are left as they are. Returns
    how many were created."""
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
        return activity.slots.count() - before
