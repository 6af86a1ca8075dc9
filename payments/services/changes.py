"""The money of a booking change (booking.changes moves the seats): a change that costs
less gives the difference back through the provider, with the change; one that costs more
is paid by an attempt of its own (`checkout.payment_start` with the change), whose
confirmation applies it, whose failure drops it, and whose late arrival is given back.

Lock order: the reservation's paid intents (by id), then as booking.changes (reservation,
change, departures by id)."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from booking.changes import (
    ChangeLanding,
    ChangeQuote,
    reservation_change,
    reservation_change_release,
    reservation_change_settle,
)
from booking.models import ReservationChange
from payments.models import Anomaly, PaymentIntent, WebhookEvent
from payments.services.anomalies import anomaly_raise
from payments.services.refunds import refund_queue, refundable_now
from tenants.actors import Actor

S = PaymentIntent.Status


def booking_change(
    *, quote: ChangeQuote, actor: Actor, now: datetime | None = None
) -> ReservationChange:
    """Change a paid booking as quoted (booking.changes.reservation_change: who may, and the
    seats). When it costs less, the difference is refunded to the payments that paid the
    booking, the latest first, in the same transaction (sent through the outbox).

    Locks: the reservation's paid intents by id, then the reservation and the departures."""
    with transaction.atomic():
        intents = list(
            PaymentIntent.objects.locked()
            .filter(reservation_id=quote.reservation.pk, status__in=PaymentIntent.PAID)
            .order_by("id")
        )
        change = reservation_change(quote=quote, actor=actor, now=now)
        if change.status == ReservationChange.Status.APPLIED and change.difference < 0:
            _refund(intents, -change.difference, actor=actor, reason=f"change {change.pk}")
    return change


def _refund(intents: list[PaymentIntent], amount: int, *, actor: Actor, reason: str) -> None:
    """Refund `amount` across locked paid intents, the latest first."""
    for intent in sorted(intents, key=lambda i: i.pk, reverse=True):
        part = min(amount, refundable_now(intent))
        if part > 0:
            refund_queue(intent, amount=part, actor=actor, reason=reason)
            amount -= part
        if amount == 0:
            return


def change_payment_landed(
    intent: PaymentIntent, *, actor: Actor, webhook: WebhookEvent | None, now: datetime
) -> bool:
    """A locked intent that pays a change's difference succeeded: the change is applied. If
    it ended first (its time ran out, its payment was given up), the money is refunded in
    full and staff see an anomaly: never kept for a change that could not be applied.
    Returns whether the change was applied."""
    landing = reservation_change_settle(change_id=intent.change_id, actor=actor, now=now)
    if landing == ChangeLanding.APPLIED:
        return True
    details = "the difference of a change was paid after the change had ended; refunded"
    anomaly_raise(
        intent,
        Anomaly.Kind.CHANGE_NOT_APPLIED,
        details,
        webhook,
        payment_id=intent.provider_payment_id,
    )
    refund_queue(intent, amount=refundable_now(intent), actor=actor, reason=details)
    return False


def change_payment_ended(intent: PaymentIntent, *, actor: Actor, now: datetime) -> None:
    """A locked intent that was to pay a change's difference failed, expired or was
    cancelled: unless another attempt to pay it is still open, the change is dropped and its
    held seats released."""
    if intent.change.payment_intents.open().exclude(pk=intent.pk).exists():
        return
    reservation_change_release(
        change_id=intent.change_id, actor=actor, reason=f"payment_{intent.status}", now=now
    )


def change_pending(reservation_id: int) -> ReservationChange | None:
    """The reservation's change waiting for its payment, if any."""
    return (
        ReservationChange.objects.pending()
        .select_related("to_slot__activity")
        .filter(reservation_id=reservation_id, expires_at__gt=timezone.now())
        .first()
    )
