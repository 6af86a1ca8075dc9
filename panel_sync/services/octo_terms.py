"""Our reservation in OCTO's words (the unit items and contact a booking request carries),
OCTO's bookings in ours (the seats one takes), and `Refusal`, when our side cannot put a
reservation in the panel's words (a rate or a departure the panel does not have)."""

from django.utils.translation import gettext as _

from booking.models import Reservation
from panel_sync.models import ProductMapping, UnitMapping


class Refusal(Exception):
    """Our side cannot make the request (a rate or departure the panel does not have):
    recorded like the panel's own refusal."""

    def __init__(self, code: str, staff_message: str, message: str = ""):
        super().__init__(message or staff_message)
        self.code = code
        self.staff_message = staff_message
        self.message = message or staff_message


def unit_items(reservation: Reservation) -> list[str]:
    lines = list(reservation.lines.select_related("rate"))
    units = {
        unit.rate_id: unit.panel_unit_id
        for unit in UnitMapping.objects.filter(rate_id__in=[line.rate_id for line in lines])
    }
    items = []
    for line in lines:
        unit_id = units.get(line.rate_id)
        if unit_id is None:
            raise Refusal(
                "UNMAPPED_RATE",
                _("The rate %(rate)s is not mapped to a passenger type of the panel.")
                % {"rate": line.label},
            )
        items.extend([unit_id] * line.quantity)
    return items


def contact(reservation: Reservation) -> dict:
    first, _sep, last = reservation.contact_name.strip().partition(" ")
    return {
        "fullName": reservation.contact_name,
        "firstName": first,
        "lastName": last,
        "emailAddress": reservation.contact_email,
        "phoneNumber": reservation.contact_phone,
        "locales": [reservation.language],
    }


def booking_seats(answer: dict, mapping: ProductMapping) -> int:
    """The seats an OCTO booking takes: its unit items, each counting its unit's paxCount
    (as the booking shows it, else as the panel listed the unit)."""
    pax_of = {unit.panel_unit_id: unit.pax_count for unit in mapping.units.all()}
    seats = 0
    for item in answer.get("unitItems") or []:
        if not isinstance(item, dict):
            continue
        unit = item.get("unit") if isinstance(item.get("unit"), dict) else {}
        pax = (unit.get("restrictions") or {}).get("paxCount")
        seats += pax if isinstance(pax, int) and pax > 0 else pax_of.get(item.get("unitId"), 1)
    return seats
