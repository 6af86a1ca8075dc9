"""Booking's models, by noun: activities and their departures, reservations, and changes to a
paid reservation. Everything is imported from here (migrations name
`booking.models.new_reservation_code`)."""

from booking.models.activities import (
    ACTIVITY_TEXTS,
    Activity,
    ActivityPhoto,
    PassengerData,
    Rate,
    Slot,
)
from booking.models.changes import ReservationChange
from booking.models.lookups import LookupAttempts
from booking.models.reservations import (
    CODE_ALPHABET,
    IdempotencyKey,
    Passenger,
    Reservation,
    ReservationEvent,
    ReservationLine,
    Seat,
    new_reservation_code,
)

__all__ = [
    "ACTIVITY_TEXTS",
    "CODE_ALPHABET",
    "Activity",
    "ActivityPhoto",
    "IdempotencyKey",
    "LookupAttempts",
    "Passenger",
    "PassengerData",
    "Rate",
    "Reservation",
    "ReservationChange",
    "ReservationEvent",
    "ReservationLine",
    "Seat",
    "Slot",
    "new_reservation_code",
]
