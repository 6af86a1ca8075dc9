"""The traveller cancels their paid booking (booking.cancellation releases the seats) and gets
back what the activity's policy gives: refunded to the payments that paid the booking, the
latest first (a change's difference before the booking itself), through the outbox, in the
cancellation's own transaction; and an e-mail says so in the traveller's language.

Lock order: the reservation's paid intents (by id), then the reservation, then its slot."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from booking.cancellation import (
    CancellationTerms,
    Cancelled,
    cancel_refusal,
    reservation_cancel_paid,
    reservation_terms,
)
from booking.emails import _reservation, _send
from booking.errors import BookingError
from booking.models import Reservation
from outbox.delivery import consumer
from outbox.models import OutboxMessage
from outbox.services import outbox_emit
from payments.models import PaymentIntent, Refund
from payments.services.changes import _refund
from payments.services.refunds import refundable_now
from tenants.actors import Actor

CANCELLED_EMAIL = "email.reservation_cancelled"
REFUND_REASON = "cancelled by the traveller"


class RefundChanged(BookingError):
    message = gettext_lazy(
        "What you get back has changed since this page was shown. Please check it again."
    )


@dataclass(frozen=True)
class CancellationQuote:
    """What cancelling now would give back, for the pages (read without locks: the
    cancellation computes it again under them)."""

    terms: CancellationTerms
    refund: int
    refusal: BookingError | None

    @property
    def currency(self) -> str:
        return self.terms.currency


def money_kept(reservation_id: int) -> int:
    """What the reservation's payments still hold, refunds asked for counted as given (as
    refundable_now counts them for each locked intent), in two queries however many."""
    intents = PaymentIntent.objects.filter(
        reservation_id=reservation_id, status__in=PaymentIntent.PAID
    )
    held = intents.aggregate(held=Sum(F("amount") - F("amount_refunded")))["held"] or 0
    asked = Refund.objects.filter(intent__in=intents, status=Refund.Status.REQUESTED).aggregate(
        asked=Sum("amount")
    )["asked"]
    return held - (asked or 0)


def cancellation_refunds(reservation_id: int) -> list[Refund]:
    """The refunds a traveller's cancellation asked for."""
    return list(Refund.objects.filter(intent__reservation_id=reservation_id, reason=REFUND_REASON))


def cancellation_quote(reservation: Reservation, now: datetime | None = None) -> CancellationQuote:
    now = now or timezone.now()
    terms = reservation_terms(reservation, now)
    return CancellationQuote(
        terms=terms,
        refund=terms.refund_of(money_kept(reservation.pk)),
        refusal=cancel_refusal(reservation, now),
    )


def booking_cancel(
    *,
    reservation_id: int,
    actor: Actor,
    email: str,
    expected_refund: int | None,
    now: datetime | None = None,
) -> Cancelled:
    """Cancel a paid booking as its traveller (booking.cancellation.reservation_cancel_paid:
    who may, and the seats) and refund what the policy gives back now, across the payments
    that paid it, the latest first. `expected_refund` is what the traveller was shown: if the
    policy now gives something else (the free period ended meanwhile), nothing changes and
    RefundChanged is raised, to show them the new figure.

    Locks: the reservation's paid intents by id, then the reservation and its slot."""
    with transaction.atomic():
        intents = list(
            PaymentIntent.objects.locked()
            .filter(reservation_id=reservation_id, status__in=PaymentIntent.PAID)
            .order_by("id")
        )
        kept = sum(refundable_now(intent) for intent in intents)
        cancelled = reservation_cancel_paid(
            reservation_id=reservation_id, actor=actor, email=email, kept=kept, now=now
        )
        if expected_refund is not None and cancelled.refund != expected_refund:
            raise RefundChanged()
        if cancelled.refund:
            _refund(intents, cancelled.refund, actor=actor, reason=REFUND_REASON)
        outbox_emit(
            topic=CANCELLED_EMAIL,
            payload={"reservation_id": reservation_id, "refund": cancelled.refund},
        )
    return cancelled


@consumer(CANCELLED_EMAIL)
def send_cancellation(message: OutboxMessage) -> None:
    """The e-mail of a cancelled booking: what was booked, and what goes back."""
    _send(
        message,
        _reservation(message.payload["reservation_id"]),
        "reservation_cancelled",
        lambda reservation: (
            _("Your booking %(code)s is cancelled: %(activity)s")
            % {"code": reservation.code, "activity": reservation.slot.activity.name_i18n}
        ),
        refund=message.payload["refund"],
    )
