"""The season in numbers: one aggregate query (or two) per report, whatever the number of
bookings, departures or payments, grouped in PostgreSQL by the operator's local day or week.

The reports read every app (booking, payments, panel_sync), which is why they live here, in
the backoffice, the one app allowed to import them all. Money is never added across
currencies: every sum is per ISO 4217 code, in minor units.

What the numbers mean:
- bookings and revenue are counted on the day a booking was made; revenue is the total of the
  bookings that are paid now (a refunded booking left the revenue and shows among refunds);
- occupancy is counted on the day of the departure, every channel's seats together;
- payment methods are the paid attempts started in the period (a refund does not remove one);
- refunds are counted on the day they were asked for, with their state.
"""

from collections import defaultdict

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from backoffice.reports.period import Period
from booking.models import Reservation, Slot
from panel_sync.models import PanelConnection
from payments.models import PaymentIntent, Refund

Status = Reservation.Status
STATUSES = [status.value for status in Status]
SOLD = Q(status__in=Reservation.SEAT_HOLDING_STATUSES)


def _local_day(field: str) -> TruncDate:
    return TruncDate(field, tzinfo=timezone.get_current_timezone())


def _within(queryset, field: str, period: Period):
    """Rows whose `field` (an instant) falls on one of the period's local days."""
    start, end = period.bounds()
    return queryset.filter(**{f"{field}__gte": start, f"{field}__lt": end})


def _money(rows, key: str = "amount") -> dict[str, int]:
    """{currency: amount} of grouped rows, leaving out currencies with nothing."""
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row["currency"]] += row[key] or 0
    return {currency: amount for currency, amount in sorted(totals.items()) if amount}


def bookings_per_day(period: Period) -> dict:
    """Each day of the period: bookings made, by their status now, and the revenue of those
    that are paid, per currency. One query."""
    rows = (
        _within(Reservation.objects, "created_at", period)
        .annotate(day=_local_day("created_at"))
        .values("day", "status", "currency")
        .annotate(count=Count("id"), amount=Sum("total_amount"))
        .order_by()
    )
    days = {day: {"bookings": dict.fromkeys(STATUSES, 0), "rows": []} for day in period.each_day()}
    for row in rows:
        entry = days[row["day"]]
        entry["bookings"][row["status"]] += row["count"]
        if row["status"] == Status.PAID:
            entry["rows"].append(row)
    per_day = [
        {"day": day, "bookings": entry["bookings"], "revenue": _money(entry["rows"])}
        for day, entry in days.items()
    ]
    return {
        "days": per_day,
        "totals": {
            "bookings": {s: sum(d["bookings"][s] for d in per_day) for s in STATUSES},
            "revenue": _money(
                {"currency": currency, "amount": amount}
                for d in per_day
                for currency, amount in d["revenue"].items()
            ),
        },
    }


def per_activity(period: Period) -> list[dict]:
    """Each activity booked in the period: bookings that hold seats (paid or held), their
    seats, and the revenue of the paid ones per currency. Two queries: seats come from the
    booking lines, which would multiply the amounts if joined in the same one."""
    made = _within(Reservation.objects, "created_at", period)
    counts = (
        made.filter(SOLD)
        .values(activity_id=F("slot__activity_id"), name=F("slot__activity__name"))
        .annotate(bookings=Count("id"))
        .order_by()
    )
    revenue = (
        made.filter(status=Status.PAID)
        .values("slot__activity_id", "currency")
        .annotate(amount=Sum("total_amount"))
        .order_by()
    )
    seats = dict(
        made.filter(SOLD)
        .values_list("slot__activity_id")
        .annotate(seats=Sum("lines__quantity"))
        .order_by()
    )
    money: dict[int, list[dict]] = defaultdict(list)
    for row in revenue:
        money[row["slot__activity_id"]].append(row)
    return sorted(
        (
            {
                "activity_id": row["activity_id"],
                "activity": row["name"],
                "bookings": row["bookings"],
                "seats": seats.get(row["activity_id"], 0),
                "revenue": _money(money[row["activity_id"]]),
            }
            for row in counts
        ),
        key=lambda row: (-row["seats"], row["activity"]),
    )


def occupancy_per_departure(period: Period) -> list[dict]:
    """Each departure of the period, its capacity and the seats taken on every channel (paid
    and held here, sold elsewhere). One query."""
    rows = (
        Slot.objects.between(*period.bounds())
        .with_seat_counts()
        .values(
            "id",
            "starts_at",
            "capacity",
            "taken",
            "taken_elsewhere",
            "is_open",
            "paid_seats",
            "held_seats",
            activity_name=F("activity__name"),
        )
        .order_by("starts_at", "id")
    )
    return [
        {
            "departure_id": row["id"],
            "starts_at": row["starts_at"],
            "activity": row["activity_name"],
            "capacity": row["capacity"],
            "paid": row["paid_seats"] or 0,
            "held": row["held_seats"] or 0,
            "elsewhere": row["taken_elsewhere"],
            "taken": row["taken"] + row["taken_elsewhere"],
            "is_open": row["is_open"],
            "percent": _percent(row["taken"] + row["taken_elsewhere"], row["capacity"]),
        }
        for row in rows
    ]


def occupancy_per_day(period: Period) -> list[dict]:
    """Each day of the period: departures, seats offered and taken on every channel. One
    query."""
    rows = (
        Slot.objects.between(*period.bounds())
        .annotate(day=_local_day("starts_at"))
        .values("day")
        .annotate(
            departures=Count("id"),
            capacity=Sum("capacity"),
            taken=Sum(F("taken") + F("taken_elsewhere")),
        )
        .order_by()
    )
    found = {row["day"]: row for row in rows}
    days = []
    for day in period.each_day():
        row = found.get(day, {})
        capacity, taken = row.get("capacity") or 0, row.get("taken") or 0
        days.append(
            {
                "day": day,
                "departures": row.get("departures", 0),
                "capacity": capacity,
                "taken": taken,
                "percent": _percent(taken, capacity),
            }
        )
    return days


def occupancy_per_week(period: Period) -> list[dict]:
    """Each week (from Monday) the period touches: departures, seats offered and taken on
    every channel. Only the period's own days are counted. One query."""
    rows = (
        Slot.objects.between(*period.bounds())
        .annotate(week=TruncWeek("starts_at", tzinfo=timezone.get_current_timezone()))
        .values("week")
        .annotate(
            departures=Count("id"),
            capacity=Sum("capacity"),
            here=Sum("taken"),
            elsewhere=Sum("taken_elsewhere"),
        )
        .order_by()
    )
    found = {timezone.localtime(row["week"]).date(): row for row in rows}
    weeks = []
    for monday in period.each_week():
        row = found.get(monday, {})
        capacity, here, elsewhere = (row.get(k) or 0 for k in ("capacity", "here", "elsewhere"))
        weeks.append(
            {
                "week": monday,
                "departures": row.get("departures", 0),
                "capacity": capacity,
                "taken": here + elsewhere,
                "percent": _percent(here + elsewhere, capacity),
            }
        )
    return weeks


def payment_methods(period: Period) -> list[dict]:
    """The paid attempts started in the period, by provider and method, per currency: how
    many, how much was paid and how much of it was refunded since. One query."""
    rows = (
        _within(PaymentIntent.objects, "created_at", period)
        .filter(status__in=PaymentIntent.PAID)
        .values("provider", "method", "currency")
        .annotate(count=Count("id"), amount=Sum("amount"), refunded=Sum("amount_refunded"))
        .order_by("provider", "method", "currency")
    )
    return [dict(row) for row in rows]


def refunds(period: Period) -> dict:
    """The refunds asked for in the period, by day and by state, per currency. One query."""
    rows = list(
        _within(Refund.objects, "created_at", period)
        .annotate(day=_local_day("created_at"), currency=F("intent__currency"))
        .values("day", "status", "currency")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by()
    )
    given_back = [row for row in rows if row["status"] != Refund.Status.FAILED]
    return {
        "days": [
            {
                "day": day,
                "count": sum(row["count"] for row in given_back if row["day"] == day),
                "amount": _money(row for row in given_back if row["day"] == day),
            }
            for day in period.each_day()
        ],
        "by_status": [
            {
                "status": status.value,
                "count": sum(row["count"] for row in rows if row["status"] == status),
                "amount": _money(row for row in rows if row["status"] == status),
            }
            for status in Refund.Status
        ],
    }


def sales_by_channel(period: Period) -> list[dict] | None:
    """Seats of the period's departures sold here and on the operator's activity panel, by
    activity; None while no panel is connected. Two queries."""
    if PanelConnection.current() is None:
        return None
    rows = (
        Slot.objects.between(*period.bounds())
        .values("activity_id", activity_name=F("activity__name"))
        .annotate(here=Sum("taken"), panel=Sum("taken_elsewhere"))
        .order_by("activity_name")
    )
    return [
        {"activity_id": row["activity_id"], "activity": row["activity_name"]}
        | {"here": row["here"], "panel": row["panel"]}
        for row in rows
    ]


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


REPORTS = {
    "bookings": bookings_per_day,
    "activities": per_activity,
    "departures": occupancy_per_departure,
    "weeks": occupancy_per_week,
    "payment_methods": payment_methods,
    "refunds": refunds,
    "channels": sales_by_channel,
}


def report(name: str, period: Period) -> dict | list | None:
    return REPORTS[name](period)
