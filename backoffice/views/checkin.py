"""Check-in at the pier: a phone-sized page per departure where staff find a booking by name
or code (typed, or read from the QR code of its confirmation) and mark it arrived or no-show.
The list is polled, so several staff checking in one departure see each other's marks."""

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from backoffice.common import actor, posted_id
from backoffice.views.departures import panel_side
from booking.checkin import reservation_mark_attendance
from booking.errors import BookingError
from booking.models import Passenger, Reservation, ReservationLine, Slot
from panel_sync.models import ExternalBooking
from tenants.permissions import staff_required

SEARCH_MAX_LENGTH = 120
MARKS = {
    "arrived": Reservation.Attendance.ARRIVED,
    "no_show": Reservation.Attendance.NO_SHOW,
    "undo": "",
}


def _search(source) -> str:
    """What staff typed or scanned, at most a name's length."""
    return source.get("q", "")[:SEARCH_MAX_LENGTH].strip()


def _bookings(slot: Slot, query: str) -> dict:
    """The departure's bookings matching `query`: a reservation's code (as printed or read
    from its QR code), or part of the contact's or a passenger's name; the panel's bookings
    by their reference or name. Counts are of the whole departure."""
    reservations = (
        Reservation.objects.live()
        .filter(slot=slot)
        .prefetch_related(
            Prefetch("lines", queryset=ReservationLine.objects.order_by("id")),
            Prefetch("passengers", queryset=Passenger.objects.order_by("position")),
        )
        .order_by("contact_name", "id")
    )
    desk = ExternalBooking.objects.filter(slot=slot).holding().order_by("contact_name", "id")
    everyone = list(reservations)
    found, found_desk = everyone, list(desk)
    if query:
        code = query.replace(" ", "").replace("-", "").upper()
        matching = (
            Q(code=code)
            | Q(contact_name__icontains=query)
            | Q(passengers__full_name__icontains=query)
        )
        ids = set(reservations.filter(matching).values_list("id", flat=True))
        found = [reservation for reservation in everyone if reservation.pk in ids]
        found_desk = list(
            desk.filter(Q(supplier_reference__iexact=query) | Q(contact_name__icontains=query))
        )
    arrived = sum(r.seats for r in everyone if r.attendance == Reservation.Attendance.ARRIVED)
    return {
        "bookings": found,
        "desk_bookings": found_desk,
        "query": query,
        "seats_arrived": arrived,
        "seats_booked": sum(r.seats for r in everyone) + sum(b.seats for b in desk),
    }


@staff_required
def checkin(request: HttpRequest, slot_id: int) -> HttpResponse:
    """The departure's bookings, searched; a POST marks one (`attendance`: arrived, no_show
    or undo). htmx gets the list back, a plain form a redirect to the same search."""
    slot = get_object_or_404(Slot.objects.select_related("activity"), pk=slot_id)
    if request.method == "POST":
        mark = request.POST.get("attendance")
        if mark not in MARKS:
            raise BadRequest("attendance must be arrived, no_show or undo")
        reservation = get_object_or_404(
            Reservation.objects.filter(slot=slot), pk=posted_id(request, "reservation")
        )
        try:
            reservation_mark_attendance(
                reservation_id=reservation.pk, attendance=MARKS[mark], actor=actor(request)
            )
        except BookingError as exc:
            messages.error(request, exc.message)
        query = _search(request.POST)
        if not request.htmx:
            url = reverse("backoffice:checkin", args=[slot.pk])
            return redirect(f"{url}?{urlencode({'q': query})}" if query else url)
    else:
        query = _search(request.GET)
    context = {"slot": slot, **_bookings(slot, query), "on_panel": panel_side(slot)["on_panel"]}
    template = "backoffice/checkin.html" + ("#bookings" if request.htmx else "")
    return render(request, template, context)
