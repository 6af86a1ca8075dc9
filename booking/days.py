"""Days as an operator sees them: calendar days in the current (operator's) time zone, which
the middleware activates for each request, and days read from query strings."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def local_day_bounds(first: date, days: int = 1) -> tuple[datetime, datetime]:
    """The UTC instants where `days` local days from `first` start and end (end excluded)."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    return start, datetime.combine(first + timedelta(days=days), time.min, tzinfo=zone)


def parse_day(value: str | None, default: date | None = None) -> date | None:
    """A day written as YYYY-MM-DD, or `default` when there is none or it is not a day."""
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default
