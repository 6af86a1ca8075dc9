"""Money never kept for seats that are gone (DESIGN.md, invariant 10).

When a hold ends (it lapsed, or was released or cancelled), every open attempt to pay it is
ended at its provider, through the outbox (`checkouts_end_when_released`, a receiver of
booking's `reservation_changed`; `deliver_checkout_end`). If money still lands for seats that
cannot be taken again, or pays a reservation twice, it is given back in full at once
(`late_money_refund`): the refund is queued through the outbox, the anomaly staff see is
already resolved by it (by the system, with the refund named), and the traveller is told by
e-mail and on the reservation's page. A refund the provider refuses reopens the anomaly
(refunds.refund_refused).

Lock order, as everywhere in payments: intent, then reservation, then slot.
"""

from django.utils import timezone

from booking.emails import LATE_PAYMENT_REFUNDED
from booking.events import Change
from booking.models import Reservation, ReservationEvent, Slot
from outbox.delivery import consumer
from outbox.models import OutboxMessage
from outbox.services import outbox_emit
from payments.models import Anomaly, PaymentIntent, Refund
from payments.providers import provider_for
from payments.services.refunds import AUTOMATIC_REFUND, refund_queue
from tenants.actors import Actor

CHECKOUT_END = "payments.checkout_end"
ENDER = Actor.system("hold ended")
# What ends a hold: its open attempts are ended at their providers.
HOLD_ENDED = (Change.EXPIRED, Change.CANCELLED, Change.REFUNDED)


class CheckoutNotOpenedYet(Exception):
    """The attempt's create call has not been answered yet: the outbox tries again."""


def checkouts_end_when_released(sender, *, reservation: Reservation, change: Change, **kwargs):
    """booking.events.reservation_changed: the hold ended, so its open attempts are ended at
    their providers once that commits (one outbox message each), in the change's own
    transaction. Nothing is locked here: the intents are only read."""
    if change not in HOLD_ENDED:
        return
    for intent_id in (
        PaymentIntent.objects.open()
        .filter(reservation_id=reservation.pk, change__isnull=True)
        .values_list("pk", flat=True)
    ):
        outbox_emit(topic=CHECKOUT_END, payload={"intent_id": intent_id})


@consumer(CHECKOUT_END)
def deliver_checkout_end(message: OutboxMessage) -> None:
    """End one attempt at its provider (Stripe: the Checkout Session expires; Mercado Pago: the
    preference expires now, a Pix payment is cancelled). The provider's webhook (or the
    reconciler) then closes the intent here; a payment that beat it lands as late money. No
    answer: the outbox tries again. An attempt whose opening is still unanswered is tried
    again later, when it has its provider's reference."""
    intent = PaymentIntent.objects.get(pk=message.payload["intent_id"])
    if not intent.is_open:
        return
    if not intent.provider_reference:
        raise CheckoutNotOpenedYet(f"intent {intent.pk} has no provider reference yet")
    provider_for(intent.provider).cancel_checkout(intent)
    intent.add_to_timeline("checkout_ended", ENDER)


def late_money_refund(intent: PaymentIntent, anomaly: Anomaly) -> Refund:
    """In the caller's transaction, with the intent locked and its `anomaly` just raised:
    money that landed for seats that cannot be taken (or for a booking already paid) is
    refunded in full through the outbox, the anomaly resolved by that refund (by the system),
    and the traveller told by e-mail and on the booking's page."""
    refund = refund_queue(
        intent, amount=intent.amount, actor=AUTOMATIC_REFUND, reason=f"late payment: {anomaly.kind}"
    )
    anomaly.details = f"{anomaly.details}; refunded in full (refund {refund.pk})"
    anomaly.resolved_at, anomaly.resolved_by = timezone.now(), str(AUTOMATIC_REFUND)
    anomaly.save(update_fields=["details", "resolved_at", "resolved_by"])
    intent.add_to_timeline(
        "anomaly_resolved", AUTOMATIC_REFUND, anomaly=anomaly.kind, refund=refund.pk
    )
    ReservationEvent.objects.create(
        reservation_id=intent.reservation_id,
        kind=ReservationEvent.Kind.LATE_PAYMENT_REFUNDED,
        actor=str(AUTOMATIC_REFUND),
        data={
            "refund": refund.pk,
            "amount": refund.amount,
            "provider": intent.provider,
            "provider_name": intent.get_provider_display(),
            "method": intent.method,
            "paid_twice": anomaly.kind == Anomaly.Kind.PAID_TWICE,
        },
    )
    outbox_emit(topic=LATE_PAYMENT_REFUNDED, payload={"reservation_id": intent.reservation_id})
    return refund


def seats_gone_for(intent: PaymentIntent) -> bool:
    """A closed attempt's reservation could not take its payment: it is paid by another
    attempt, refunded, or released with its seats sold since (read without a lock: a refund
    that turns out to be unneeded gives the money back, never keeps it)."""
    reservation = Reservation.objects.prefetch_related("lines").get(pk=intent.reservation_id)
    if reservation.status in (Reservation.Status.PAID, Reservation.Status.REFUNDED):
        return True
    if reservation.status == Reservation.Status.HELD:
        return False
    return reservation.seats > Slot.objects.get(pk=reservation.slot_id).seats_left
