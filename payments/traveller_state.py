"""What the traveller is told about paying a held reservation: exactly the state of its
latest attempt as the providers' own words left it (webhooks, and the answer the provider
gave when the traveller came back: payments.services.returns). A spinner only while a
confirmation is really awaited; ways to pay again wherever nothing is under way."""

from dataclasses import dataclass
from enum import StrEnum

from booking.models import Reservation, ReservationEvent
from payments.models import PaymentIntent
from payments.records import PaymentEvent
from payments.services.returns import pix_on_our_page, returning_intent

S = PaymentIntent.Status


class Shown(StrEnum):
    PAID = "paid"
    # No longer held (expired, cancelled, refunded): the reservation's status says it.
    CLOSED = "closed"
    NONE = "none"  # no attempt yet
    OPEN = "open"  # a checkout open at the provider, nothing heard from it
    # The payer did their part; the provider has yet to confirm (the only spinner).
    CONFIRMING = "confirming"
    CHECKING = "checking"  # the provider was asked and did not answer
    PIX_WAITING = "pix_waiting"  # a Pix code shown on our page, not paid yet
    DECLINED = "declined"
    FAILED = "failed"
    NOT_FINISHED = "not_finished"  # the checkout ended (cancelled, expired) unpaid


# States that change by themselves: their box is polled.
POLLED = frozenset({Shown.CONFIRMING, Shown.CHECKING, Shown.PIX_WAITING})
# States in which the ways to pay are offered (choosing one ends the open checkout at its
# provider first: payments.services.checkout.payment_start).
PAYABLE = frozenset(
    {
        Shown.NONE,
        Shown.OPEN,
        Shown.CHECKING,
        Shown.PIX_WAITING,
        Shown.DECLINED,
        Shown.FAILED,
        Shown.NOT_FINISHED,
    }
)


@dataclass(frozen=True)
class PaymentShown:
    state: Shown
    intent: PaymentIntent | None = None

    @property
    def polled(self) -> bool:
        return self.state in POLLED

    @property
    def payable(self) -> bool:
        return self.state in PAYABLE

    @property
    def provider(self) -> str:
        return self.intent.get_provider_display() if self.intent else ""

    @property
    def pix_on_our_page(self) -> bool:
        return self.intent is not None and pix_on_our_page(self.intent)


def _last_check(intent: PaymentIntent) -> ReservationEvent | None:
    return (
        ReservationEvent.objects.filter(
            reservation_id=intent.reservation_id,
            kind=PaymentEvent.PAYMENT_CHECKED,
            data__intent=intent.pk,
        )
        .order_by("-at", "-id")
        .first()
    )


def payment_shown(reservation: Reservation, intent: PaymentIntent | None = None) -> PaymentShown:
    """The state to show for `reservation`'s latest attempt (or for `intent`, the one a Pix
    page shows). Two queries at most."""
    if reservation.status == Reservation.Status.PAID:
        return PaymentShown(Shown.PAID, intent)
    if reservation.status != Reservation.Status.HELD or reservation.hold_has_lapsed():
        return PaymentShown(Shown.CLOSED, intent)
    intent = intent or returning_intent(reservation)
    if intent is None:
        return PaymentShown(Shown.NONE)
    if not intent.is_open:
        if intent.declined_at:
            return PaymentShown(Shown.DECLINED, intent)
        if intent.status == S.FAILED:
            return PaymentShown(Shown.FAILED, intent)
        if intent.status in (S.CANCELLED, S.EXPIRED):
            return PaymentShown(Shown.NOT_FINISHED, intent)
        return PaymentShown(Shown.CLOSED, intent)  # paid, yet the reservation is not
    check = _last_check(intent)
    if check is not None and not check.data.get("answered"):
        return PaymentShown(Shown.CHECKING, intent)
    in_progress = check is not None and check.data.get("in_progress")
    if in_progress and not (intent.declined_at and intent.declined_at > check.at):
        return PaymentShown(Shown.CONFIRMING, intent)
    if intent.declined_at:
        return PaymentShown(Shown.DECLINED, intent)
    if pix_on_our_page(intent):
        return PaymentShown(Shown.PIX_WAITING, intent)
    if check is not None:
        return PaymentShown(Shown.NOT_FINISHED, intent)
    return PaymentShown(Shown.OPEN, intent)
