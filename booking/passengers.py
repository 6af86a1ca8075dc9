"""Who travels: the passengers of a reservation, one per seat, with what its activity asks
for (Activity.passenger_data). Entered by the traveller after the hold, in a step of its own
(the hold itself stays as short as it is), or by staff."""

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.errors import IllegalTransition, InvalidPassengers, PassengersClosed
from booking.models import Passenger, Reservation, ReservationEvent
from tenants.actors import STAFF, TRAVELLER, Actor, actor_require
from tenants.models import Role


@dataclass(frozen=True)
class PassengerDetails:
    """One seat's passenger, validated by booking.forms.PassengerForm."""

    rate_id: int
    full_name: str
    document_number: str = ""
    nationality: str = ""
    birth_date: date | None = None


def passengers_save(
    *,
    reservation_id: int,
    passengers: list[PassengerDetails],
    actor: Actor,
    now: datetime | None = None,
) -> Reservation:
    """Set the passengers of a reservation, all at once, seat by seat in the order of its
    lines. The traveller may do so while the seats are theirs and until departure (whoever
    has the reservation's code: the page the confirmation links to); staff from agent up
    while the seats are held or paid. The timeline records who did it, not the details.

    Locks: the reservation row, until commit: two saves of one reservation run one after the
    other and the last one wins. The slot is not locked: no seat changes.
    Raises PassengersClosed (traveller too late), IllegalTransition (staff, seats gone) and
    InvalidPassengers when the list does not match the seats (the booking changed meanwhile).
    """
    actor_require(actor, STAFF, TRAVELLER, role=Role.AGENT)
    now = now or timezone.now()
    with transaction.atomic():
        reservation = (
            Reservation.objects.locked()
            .select_related("slot__activity")
            .prefetch_related("lines")
            .get(pk=reservation_id)
        )
        if actor.kind == TRAVELLER and not reservation.passengers_open_to_traveller(now):
            raise PassengersClosed()
        if not reservation.holds_seats():
            raise IllegalTransition()
        seats = [seat.rate_id for seat in reservation.seat_list()]
        if seats != [passenger.rate_id for passenger in passengers]:
            raise InvalidPassengers(_("The passengers do not match the seats of this booking."))
        reservation.passengers.all().delete()
        Passenger.objects.bulk_create(
            Passenger(
                reservation=reservation,
                rate_id=details.rate_id,
                position=position,
                full_name=details.full_name,
                document_number=details.document_number,
                nationality=details.nationality,
                birth_date=details.birth_date,
            )
            for position, details in enumerate(passengers, start=1)
        )
        ReservationEvent.objects.create(
            reservation=reservation,
            at=now,
            kind=ReservationEvent.Kind.PASSENGERS_SAVED,
            actor=str(actor),
            data={"passengers": len(passengers)},
        )
    return reservation
