"""Domain errors: a rule forbade the change. Pages turn them into clear messages."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class BookingError(Exception):
    """Base of the errors a traveller or staff member can be shown as they are."""

    message = _("This booking cannot be made.")

    def __init__(self, message: str | None = None):
        self.message = message or self.message
        super().__init__(str(self.message))


class DepartureClosed(BookingError):
    message = _("This departure is closed for online booking.")


class SalesPaused(BookingError):
    """Another app's sale guard holds the departure back for now (booking.extensions)."""

    message = _("This departure cannot be booked online right now. Please try again later.")


class BookingCutoffPassed(BookingError):
    message = _("Online booking for this departure has closed.")


class NotEnoughSeats(BookingError):
    def __init__(self, seats_left: int):
        self.seats_left = seats_left
        if seats_left == 0:
            message = _("This departure is sold out.")
        else:
            message = ngettext(
                "Only %(count)d seat left on this departure.",
                "Only %(count)d seats left on this departure.",
                seats_left,
            ) % {"count": seats_left}
        super().__init__(message)


class InvalidPassengers(BookingError):
    message = _("Choose at least one passenger.")


class IllegalTransition(BookingError):
    message = _("This reservation cannot change that way any more.")


class IdempotencyKeyInUse(Exception):
    """Another request with the same idempotency key committed first (a concurrent duplicate)."""


class PassengersClosed(BookingError):
    message = _(
        "The passengers of this booking can no longer be changed online. Please contact us."
    )
