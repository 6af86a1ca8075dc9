from datetime import timedelta

from django.conf import settings
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from backoffice.views.panel import sync_status
from booking.models import Slot
from payments.models import Anomaly, PaymentIntent
from tenants.permissions import staff_required

CHART_DAYS = 14


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Today and tomorrow at a glance, what needs a human, and the next two weeks."""
    today = timezone.localdate()
    departures = (
        Slot.objects.on_days(today, 2)
        .with_seat_counts()
        .select_related("activity")
        .order_by("starts_at")
    )
    stale_after = timedelta(minutes=settings.PAYMENT_RECONCILE_AFTER_MINUTES)
    pending = (
        PaymentIntent.objects.stale(older_than=stale_after)
        .select_related("reservation")
        .order_by("updated_at")
    )
    anomalies = Anomaly.objects.filter(resolved_at__isnull=True).select_related("reservation")

    per_day = {
        row["day"]: row
        for row in Slot.objects.on_days(today, CHART_DAYS)
        .annotate(day=TruncDate("starts_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(
            capacity=Sum("capacity"),
            taken=Sum(F("taken") + F("taken_elsewhere")),  # every channel's seats
            departures=Count("id"),
        )
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
            "sync": sync_status(),
        },
    )
