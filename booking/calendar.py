"""The month availability calendar of an activity, built from one query."""

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from babel import Locale
from django.db.models import F
from django.utils import timezone
from django.utils.translation import get_language, to_locale

from booking.days import local_day_bounds
from booking.models import Activity, Slot

FEW_SEATS_LEFT = 5


class DayState(StrEnum):
    NONE = "none"
    AVAILABLE = "available"
    FEW_LEFT = "few"
    SOLD_OUT = "sold-out"


@dataclass(frozen=True)
class Day:
    date: date
    in_month: bool
    state: DayState
    seats_left: int

    @property
    def selectable(self) -> bool:
        return self.in_month and self.state in (DayState.AVAILABLE, DayState.FEW_LEFT)


@dataclass(frozen=True)
class MonthCalendar:
    month: date
    weeks: list[list[Day]]
    weekday_names: list[str]
    previous_month: date | None
    next_month: date
    # A month without any departure says so and points to the next month that has one.
    is_empty: bool = False
    next_month_with_departures: date | None = None


def day_state(slots: list[Slot]) -> tuple[DayState, int]:
    if not slots:
        return DayState.NONE, 0
    seats_left = sum(slot.seats_left for slot in slots)
    if seats_left == 0:
        return DayState.SOLD_OUT, 0
    if seats_left <= FEW_SEATS_LEFT:
        return DayState.FEW_LEFT, seats_left
    return DayState.AVAILABLE, seats_left


def month_calendar(activity: Activity, month: date, today: date) -> MonthCalendar:
    """Weeks of the month (from the locale's first weekday), each day marked by what is still
    bookable on it. Days before today show nothing."""
    month = month.replace(day=1)
    first_weekday = Locale.parse(to_locale(get_language() or "es")).first_week_day
    weeks_of_dates = calendar.Calendar(firstweekday=first_weekday).monthdatescalendar(
        month.year, month.month
    )
    first_day, last_day = weeks_of_dates[0][0], weeks_of_dates[-1][-1]

    slots_by_day: dict[date, list[Slot]] = defaultdict(list)
    month_slots = activity.slots.bookable().on_days(first_day, (last_day - first_day).days + 1)
    for slot in month_slots.only("activity", "starts_at", "capacity", "taken", "taken_elsewhere"):
        slots_by_day[timezone.localtime(slot.starts_at).date()].append(slot)

    weeks = []
    for week in weeks_of_dates:
        days = []
        for day in week:
            state, seats = (
                day_state(slots_by_day.get(day, [])) if day >= today else (DayState.NONE, 0)
            )
            days.append(
                Day(date=day, in_month=day.month == month.month, state=state, seats_left=seats)
            )
        weeks.append(days)

    locale = Locale.parse(to_locale(get_language() or "es"))
    names = locale.days["stand-alone"]["abbreviated"]
    weekday_names = [names[(first_weekday + i) % 7] for i in range(7)]
    previous_month = (month - timedelta(days=1)).replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    is_empty = not any(
        day.in_month and day.state != DayState.NONE for week in weeks for day in week
    )
    next_with_seats = first_month_with_seats(activity, next_month) if is_empty else None
    return MonthCalendar(
        month=month,
        weeks=weeks,
        weekday_names=weekday_names,
        previous_month=previous_month if previous_month >= today.replace(day=1) else None,
        next_month=next_month,
        is_empty=is_empty,
        next_month_with_departures=next_with_seats,
    )


def first_month_with_seats(activity: Activity, since: date) -> date | None:
    """The first month from `since` (a month's first day) with a departure that still has
    seats to book online, or None: one query, only for an empty month."""
    start, _end = local_day_bounds(since)
    starts_at = (
        activity.slots.bookable()
        .filter(starts_at__gte=start, taken__lt=F("capacity") - F("taken_elsewhere"))
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
        .first()
    )
    return None if starts_at is None else timezone.localtime(starts_at).date().replace(day=1)
