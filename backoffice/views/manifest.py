"""A departure's manifest: every passenger of every booking on it, from every channel, as a
page that prints on A4 and as JSON (never CSV: spreadsheet formula injection)."""

from dataclasses import dataclass

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from backoffice.views.departures import panel_side
from booking.models import Passenger, Reservation, ReservationLine, Seat, Slot
from tenants.permissions import staff_required


@dataclass(frozen=True)
class ManifestSeat:
    """A seat of a booking and who sits there, None until the passenger's details are in."""

    seat: Seat
    passenger: Passenger | None


def manifest_reservations(slot: Slot) -> list[Reservation]:
    """The reservations whose seats are taken on `slot`, paid before held, by name, each with
    its `manifest_seats`. A fixed number of queries, whatever the number of bookings."""
    reservations = list(
        Reservation.objects.live()
        .filter(slot=slot)
        .prefetch_related(
            Prefetch("lines", queryset=ReservationLine.objects.order_by("id")),
            Prefetch("passengers", queryset=Passenger.objects.order_by("position")),
        )
        .order_by("-status", "contact_name", "id")
    )
    for reservation in reservations:
        entered = {passenger.position: passenger for passenger in reservation.passengers.all()}
        reservation.manifest_seats = [
            ManifestSeat(seat=seat, passenger=entered.get(position))
            for position, seat in enumerate(reservation.seat_list(), start=1)
        ]
    return reservations


@staff_required
def manifest(request: HttpRequest, slot_id: int, as_json: bool = False) -> HttpResponse:
    """The printable passenger list of a departure: paid reservations, then held ones, a row
    per seat (empty until its passenger is entered), then the bookings made on the panel
    (its desk, agencies, hotels). JSON with `?format=json` or at `manifest.json`."""
    slot = get_object_or_404(Slot.objects.select_related("activity"), pk=slot_id)
    reservations = manifest_reservations(slot)
    panel = panel_side(slot)
    if as_json or request.GET.get("format") == "json":
        return _as_json(request, slot, reservations, panel["desk_bookings"])
    return render(
        request,
        "backoffice/manifest.html",
        {
            "slot": slot,
            "reservations": reservations,
            "printed_at": timezone.now(),
            "time_zone": timezone.get_current_timezone_name(),
            **panel,
        },
    )


def _as_json(request: HttpRequest, slot: Slot, reservations, desk_bookings) -> JsonResponse:
    activity = slot.activity

    def passenger(place: ManifestSeat) -> dict:
        found = place.passenger
        return {
            "seat": place.seat.number,
            "rate": place.seat.label,
            "full_name": found.full_name if found else None,
            "document_number": (found.document_number or None) if found else None,
            "nationality": (found.nationality or None) if found else None,
            "birth_date": found.birth_date.isoformat() if found and found.birth_date else None,
        }

    data = {
        "operator": request.tenant.schema_name,
        "activity": {"slug": activity.slug, "name": activity.name_i18n},
        "passenger_data": activity.passenger_data,
        "departure": {
            "id": slot.pk,
            "starts_at": timezone.localtime(slot.starts_at).isoformat(),
            "time_zone": timezone.get_current_timezone_name(),
            "meeting_point": activity.meeting_point_i18n,
            "capacity": slot.capacity,
            "seats_taken": slot.taken + slot.taken_elsewhere,
        },
        "bookings": [
            {
                "channel": "site",
                "code": reservation.code,
                "status": reservation.status,
                "contact": {
                    "name": reservation.contact_name,
                    "email": reservation.contact_email,
                    "phone": reservation.contact_phone,
                },
                "seats": len(reservation.manifest_seats),
                "passengers": [passenger(place) for place in reservation.manifest_seats],
            }
            for reservation in reservations
        ]
        + [
            {
                "channel": "panel",
                "code": booking.supplier_reference,
                "reseller_reference": booking.reseller_reference,
                "status": booking.status,
                "contact": {"name": booking.contact_name},
                "seats": booking.seats,
                "units": booking.units_summary(),
                "passengers": [],
            }
            for booking in desk_bookings
        ],
        "generated_at": timezone.now().isoformat(),
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 1})
    local = timezone.localtime(slot.starts_at)
    response["Content-Disposition"] = (
        f'inline; filename="manifest-{activity.slug}-{local:%Y-%m-%d-%H%M}.json"'
    )
    return response
