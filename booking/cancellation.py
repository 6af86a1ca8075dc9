"""The traveller cancels their paid booking: what the activity's cancellation policy gives
back at a given moment (`cancellation_terms`, pure), and the cancellation itself, which
releases the seats at once (`reservation_cancel_paid`). The money is the payments app's: it
locks the booking's payments, calls the service with what they still hold, and refunds what
the service says the policy gives back."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.changes import ChangePending
from booking.errors import BookingError
from booking.events import Change, tell_reservation_changed
from booking.models import Activity, Reservation, ReservationEvent, Slot
from booking.services import _release
from tenants.actors import TRAVELLER, Actor, actor_require


class DepartureStarted(BookingError):
    message = _("This departure has already started: the booking can no longer be cancelled.")


class NotCancellable(BookingError):
    message = _("Only a paid booking can be cancelled here.")


class Refundable(StrEnum):
    FREE = "free"  # within the free period: everything back
    LATE = "late"  # after it: the policy's share back
    NONE = "none"  # nothing back


def share(amount: int, percent: int) -> int:
    """`percent` % of an amount in minor units, to the nearest minor unit (halves up)."""
    return (amount * percent + 50) // 100


@dataclass(frozen=True)
class CancellationTerms:
    """What the policy gives back when cancelling at one moment: `percent` of the price,
    and until when cancelling is free (None when it never is)."""

    refundable: Refundable
    percent: int
    free_until: datetime | None
    price: int
    currency: str

    @property
    def retained(self) -> int:
        """What the operator may keep of the price."""
        return self.price - share(self.price, self.percent)

    def refund_of(self, kept: int) -> int:
        """What goes back of `kept` (what the booking's payments still hold): all of it but
        what the operator may keep, so a refund already given counts toward the policy."""
        return max(kept - self.retained, 0)


def cancellation_terms(
    *, activity: Activity, starts_at: datetime, price: int, currency: str, now: datetime
) -> CancellationTerms:
    """The policy at `now`: free until exactly `free_cancellation_hours` before the departure
    (elapsed hours, whatever the clocks do), then `late_refund_percent`."""
    free_until = None
    if activity.free_cancellation_hours is not None:
        free_until = starts_at - timedelta(hours=activity.free_cancellation_hours)
    if free_until is not None and now <= free_until:
        refundable, percent = Refundable.FREE, 100
    elif activity.late_refund_percent:
        refundable, percent = Refundable.LATE, activity.late_refund_percent
    else:
        refundable, percent = Refundable.NONE, 0
    return CancellationTerms(
        refundable=refundable,
        percent=percent,
        free_until=free_until,
        price=price,
        currency=currency,
    )


def reservation_terms(reservation: Reservation, now: datetime | None = None) -> CancellationTerms:
    """The terms of a reservation (slot and activity selected) at `now`."""
    return cancellation_terms(
        activity=reservation.slot.activity,
        starts_at=reservation.slot.starts_at,
        price=reservation.total_amount,
        currency=reservation.currency,
        now=now or timezone.now(),
    )


def cancel_refusal(reservation: Reservation, now: datetime | None = None) -> BookingError | None:
    """Why the traveller may not cancel this booking now (slot selected), or None."""
    if reservation.status != Reservation.Status.PAID:
        return NotCancellable()
    if (now or timezone.now()) >= reservation.slot.starts_at:
        return DepartureStarted()
    if reservation.changes.pending().exists():
        return ChangePending()
    return None


def email_matches(reservation: Reservation, email: str) -> bool:
    return bool(email) and email.strip().casefold() == reservation.contact_email.casefold()


@dataclass(frozen=True)
class Cancelled:
    reservation: Reservation
    terms: CancellationTerms
    refund: int


def reservation_cancel_paid(
    *, reservation_id: int, actor: Actor, email: str, kept: int, now: datetime | None = None
) -> Cancelled:
    """The traveller cancels their paid booking before its departure: the seats are released
    at once and the booking is `cancelled` (it stays so once its refund is confirmed: the
    refund's webhook finds it no longer paid and leaves it). Who may: the browser that made
    it, or a traveller who gave the booking's e-mail (`email`, checked here) with its code.
    `kept` is what the booking's payments still hold (the caller has them locked); the
    returned refund is what the policy gives back of it, recorded in the timeline.

    Locks: the reservation row, then its slot row, until commit. Runs in the caller's
    transaction (payments locks the payment intents first).
    Raises NotCancellable (not paid), DepartureStarted, ChangePending; PermissionDenied.
    """
    actor_require(actor, TRAVELLER)
    now = now or timezone.now()
    with transaction.atomic():
        reservation = (
            Reservation.objects.locked()
            .select_related("slot__activity")
            .prefetch_related("lines")
            .get(pk=reservation_id)
        )
        if reservation.client_scope != actor.client_scope and not email_matches(reservation, email):
            raise PermissionDenied("neither the booking's browser nor its e-mail")
        if refusal := cancel_refusal(reservation, now):
            raise refusal
        terms = reservation_terms(reservation, now)
        refund = terms.refund_of(kept)
        slot = Slot.objects.locked().get(pk=reservation.slot_id)
        _release(
            reservation,
            slot,
            status=Reservation.Status.CANCELLED,
            kind=ReservationEvent.Kind.CANCELLED,
            actor=str(actor),
            now=now,
            data={
                "refund": refund,
                "refundable": terms.refundable.value,
                "percent": terms.percent,
            },
        )
        slot.save(update_fields=["taken"])
        reservation.save(update_fields=["status", "hold_expires_at"])
        tell_reservation_changed(reservation, Change.CANCELLED)
    return Cancelled(reservation=reservation, terms=terms, refund=refund)


def traveller_cancellation(reservation: Reservation) -> ReservationEvent | None:
    """The timeline's record of a paid booking cancelled by its traveller, if it was."""
    if reservation.status != Reservation.Status.CANCELLED:
        return None
    return (
        reservation.events.filter(kind=ReservationEvent.Kind.CANCELLED, data__has_key="refund")
        .order_by("-at", "-id")
        .first()
    )
