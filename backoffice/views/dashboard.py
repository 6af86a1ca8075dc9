from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from backoffice.common import local_day_range
from booking.models import Reservation, Slot
from payments.models import Anomaly, PaymentIntent
from tenants.permissions import staff_required

CHART_DAYS = 14


def with_seat_counts(slots):
    """Held and paid seats of each departure, summed in the same query."""
    return slots.annotate(
        held_seats=Sum(
            "reservations__lines__quantity", filter=Q(reservations__status=Reservation.Status.HELD)
        ),
        paid_seats=Sum(
            "reservations__lines__quantity", filter=Q(reservations__status=Reservation.Status.PAID)
        ),
    )


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Today and tomorrow at a glance, what needs a human, and the next two weeks."""
    today = timezone.localdate()
    start, end = local_day_range(today, 2)
    departures = with_seat_counts(
        Slot.objects.between(start, end).select_related("activity").order_by("starts_at")
    )
    stale_after = timedelta(minutes=settings.PAYMENT_RECONCILE_AFTER_MINUTES)
    pending = (
        PaymentIntent.objects.filter(
            status__in=PaymentIntent.OPEN, updated_at__lte=timezone.now() - stale_after
        )
        .select_related("reservation")
        .order_by("updated_at")
    )
    anomalies = Anomaly.objects.filter(resolved_at__isnull=True).select_related("reservation")

    chart_start, chart_end = local_day_range(today, CHART_DAYS)
    per_day = {
        row["day"]: row
        for row in Slot.objects.between(chart_start, chart_end)
        .annotate(day=TruncDate("starts_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(capacity=Sum("capacity"), taken=Sum("taken"), departures=Count("id"))
    }
    chart = []
    for offset in range(CHART_DAYS):
        day = today + timedelta(days=offset)
        row = per_day.get(day, {"capacity": 0, "taken": 0, "departures": 0})
        percent = round(100 * row["taken"] / row["capacity"]) if row["capacity"] else 0
        chart.append({"day": day, "percent": percent, **row})

    return render(
        request,
        "backoffice/dashboard.html",
        {
            "today": today,
            "departures": departures,
            "pending": pending[:20],
            "anomalies": anomalies[:20],
            "chart": chart,
        },
    )
