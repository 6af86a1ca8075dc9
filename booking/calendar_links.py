"""What a traveller takes away from a paid booking, on the confirmation page and in the
e-mails: the departure as a calendar event (an RFC 5545 .ics file, and a Google Calendar
link), the meeting point on a map, the operator's contact and its shop.

Links are absolute on the operator's site as travellers reach it (`Operator.site_url`), as
an e-mail or a calendar file must have them; the texts are in the traveller's language.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlencode, urlsplit

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from booking.models import Reservation
from tenants.models import Operator

GOOGLE_CALENDAR = "https://calendar.google.com/calendar/render"
GOOGLE_MAPS_SEARCH = "https://www.google.com/maps/search/"
ICS_CONTENT_TYPE = "text/calendar; charset=utf-8"
# RFC 5545 3.1: content lines are folded at 75 octets, continued after CRLF and one space.
ICS_LINE_OCTETS = 75


@dataclass(frozen=True)
class Event:
    """The departure as one calendar event, in the traveller's language."""

    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str
    description: str
    url: str


@dataclass(frozen=True)
class AfterBooking:
    """The links and contact the confirmation page and e-mails show."""

    booking_url: str
    calendar_file_url: str
    google_calendar_url: str
    map_url: str  # "" without a meeting point
    shop_url: str
    contact_email: str
    contact_phone: str

    @property
    def contact_phone_uri(self) -> str:
        """The phone as a tel: link (RFC 3966: the digits, and a leading + if written)."""
        digits = "".join(char for char in self.contact_phone if char.isascii() and char.isdigit())
        plus = "+" if self.contact_phone.strip().startswith("+") else ""
        return f"tel:{plus}{digits}" if digits else ""


def calendar_file_path(code: str) -> str:
    return reverse("booking:reservation-calendar", args=[code])


def reservation_event(reservation: Reservation, *, operator: Operator, site: str) -> Event:
    """The booked departure as an event: from departure to its activity's end, at the meeting
    point, with the booking code and the booking's page in its description."""
    slot = reservation.slot
    activity = slot.activity
    booking_url = f"{site}{reservation.get_absolute_url()}"
    with translation.override(reservation.language):
        summary = f"{activity.name_i18n} · {operator.display_name}"
        description = "\n".join(
            [
                _("Booking code: %(code)s") % {"code": reservation.code},
                _("Your booking: %(url)s") % {"url": booking_url},
            ]
        )
        location = activity.meeting_point_i18n
    return Event(
        uid=f"{reservation.uuid}@{urlsplit(site).hostname or 'booking'}",
        starts_at=slot.starts_at,
        ends_at=slot.starts_at + activity.duration,
        summary=summary,
        location=location,
        description=description,
        url=booking_url,
    )


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    """A TEXT value escaped as RFC 5545 3.3.11 says."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """A content line folded every 75 octets at most, never inside a UTF-8 character."""
    parts, current, size, limit = [], "", 0, ICS_LINE_OCTETS
    for char in line:
        octets = len(char.encode())
        if size + octets > limit:
            parts.append(current)
            current, size, limit = "", 0, ICS_LINE_OCTETS - 1  # the leading space counts
        current += char
        size += octets
    parts.append(current)
    return "\r\n ".join(parts)


def ics_text(event: Event, *, stamp: datetime | None = None) -> str:
    """The event as an iCalendar object (RFC 5545): times in UTC, CRLF line ends, folded."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Andes Booking//Booking confirmation//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{_utc(stamp or timezone.now())}",
        f"DTSTART:{_utc(event.starts_at)}",
        f"DTEND:{_utc(event.ends_at)}",
        f"SUMMARY:{_text(event.summary)}",
        *([f"LOCATION:{_text(event.location)}"] if event.location else []),
        f"DESCRIPTION:{_text(event.description)}",
        f"URL:{event.url}",
        "STATUS:CONFIRMED",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(f"{_fold(line)}\r\n" for line in lines)


def google_calendar_url(event: Event, *, time_zone: str) -> str:
    """Google Calendar's "add event" link, times in UTC (`ctz` shows them in the zone)."""
    query = {
        "action": "TEMPLATE",
        "text": event.summary,
        "dates": f"{_utc(event.starts_at)}/{_utc(event.ends_at)}",
        "details": event.description,
        "location": event.location,
        "ctz": time_zone,
    }
    return f"{GOOGLE_CALENDAR}?{urlencode(query, quote_via=quote)}"


def map_url(meeting_point: str) -> str:
    """Google Maps searching the meeting point as written ("" without one)."""
    if not meeting_point.strip():
        return ""
    return f"{GOOGLE_MAPS_SEARCH}?{urlencode({'api': 1, 'query': meeting_point}, quote_via=quote)}"


def after_booking(reservation: Reservation, *, operator: Operator, site: str) -> AfterBooking:
    """Everything the confirmation shows beside the booking itself, links absolute on `site`
    (the operator's, from Operator.site_url)."""
    event = reservation_event(reservation, operator=operator, site=site)
    return AfterBooking(
        booking_url=event.url,
        calendar_file_url=f"{site}{calendar_file_path(reservation.code)}",
        google_calendar_url=google_calendar_url(event, time_zone=operator.time_zone),
        map_url=map_url(event.location),
        shop_url=f"{site}/",
        contact_email=operator.contact_email,
        contact_phone=operator.contact_phone,
    )
