from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from backoffice.reports import pictures
from backoffice.reports.period import Period
from backoffice.reports.queries import bookings_per_day, occupancy_per_day, occupancy_per_departure
from backoffice.views.panel import sync_status
from payments.models import Anomaly, PaymentIntent
from tenants.models import Role
from tenants.permissions import staff_required

AHEAD_DAYS = 3  # today and the next two: the departures listed one by one
CHART_DAYS = 14  # the small charts: occupancy of the next two weeks, bookings of the last two


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The season at a glance: today's bookings (and revenue, for managers), the departures
    of today and the next days, what needs a human, and two small charts that lead to the
    reports."""
    today = timezone.localdate()
    stale_after = timedelta(minutes=settings.PAYMENT_RECONCILE_AFTER_MINUTES)
    pending = (
        PaymentIntent.objects.stale(older_than=stale_after)
        .select_related("reservation")
        .order_by("updated_at")
    )
    anomalies = Anomaly.objects.filter(resolved_at__isnull=True).select_related("reservation")
    sees_money = request.membership.grants(Role.MANAGER)
    booked = bookings_per_day(Period(today - timedelta(days=CHART_DAYS - 1), today))
    departures = occupancy_per_departure(Period(today, today + timedelta(days=AHEAD_DAYS - 1)))
    return render(
        request,
        "backoffice/dashboard.html",
        {
            "today": today,
            "today_bookings": booked["days"][-1]["bookings"],
            "today_revenue": booked["days"][-1]["revenue"] if sees_money else None,
            "departures": pictures.departures_by_day(departures),
            "pending": pending[:20],
            "anomalies": anomalies[:20],
            "occupancy_chart": pictures.days_occupancy_chart(
                occupancy_per_day(Period(today, today + timedelta(days=CHART_DAYS - 1)))
            ),
            "bookings_chart": pictures.bookings_chart(booked),
            "sees_reports": sees_money,
            "sync": sync_status(),
        },
    )
