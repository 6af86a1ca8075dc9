"""Check-in at departure: staff mark each reservation arrived or no-show, and may undo it."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from booking.errors import IllegalTransition
from booking.models import Reservation, ReservationEvent
from tenants.actors import STAFF, Actor, actor_require
from tenants.models import Role

TIMELINE_KIND = {
    Reservation.Attendance.ARRIVED: ReservationEvent.Kind.ARRIVED,
    Reservation.Attendance.NO_SHOW: ReservationEvent.Kind.NO_SHOW,
    "": ReservationEvent.Kind.ATTENDANCE_UNDONE,
}


def reservation_mark_attendance(
    *, reservation_id: int, attendance: str, actor: Actor, now: datetime | None = None
) -> Reservation:
    """Mark a reservation whose seats are taken as arrived or no-show (an Attendance), or
    undo the mark (""), recording who and when on it and in its timeline. Staff from agent up.
    Several staff may check in one departure at once: the last mark wins, and none fails.

    Locks: the reservation row, until commit (two marks of one reservation run one after the
    other, each recorded). The slot is not locked: no seat changes.
    Raises IllegalTransition when the reservation's seats were released.
    """
    actor_require(actor, STAFF, role=Role.AGENT)
    now = now or timezone.now()
    with transaction.atomic():
        reservation = Reservation.objects.locked().get(pk=reservation_id)
        if not reservation.holds_seats():
            raise IllegalTransition()
        was = reservation.attendance
        reservation.attendance = attendance
        reservation.attendance_at = now if attendance else None
        reservation.attendance_by = str(actor) if attendance else ""
        reservation.save(update_fields=["attendance", "attendance_at", "attendance_by"])
        ReservationEvent.objects.create(
            reservation=reservation,
            at=now,
            kind=TIMELINE_KIND[attendance],
            actor=str(actor),
            data={"was": was},
        )
    return reservation
