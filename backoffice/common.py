"""Small things every backoffice page uses."""

from datetime import date, datetime, time, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django_htmx.http import HttpResponseClientRefresh

PAGE_SIZE = 25


def actor(request: HttpRequest) -> str:
    """Who did it, as the timeline and the audit log record it."""
    return request.user.email


def local_day_range(first: date, days: int) -> tuple[datetime, datetime]:
    """UTC bounds of `days` local days from `first`, in the operator's time zone."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    return start, datetime.combine(first + timedelta(days=days), time.min, tzinfo=zone)


def parse_day(value: str | None, default: date | None = None) -> date | None:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def after_action(request: HttpRequest, url: str) -> HttpResponse:
    """After a POST: htmx reloads the page in place, a plain form gets a redirect."""
    return HttpResponseClientRefresh() if request.htmx else redirect(url)
