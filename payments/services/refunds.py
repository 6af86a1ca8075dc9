"""Refunds: staff ask the provider to give money back (`refund_request`); the provider's
confirmation, through a webhook or its answer, settles the requests (`refunds_settle`). A
request the provider did not answer stays requested and is sent again by the reconciler
(`refund_send`) with the same idempotency key: it is never made twice.

A refund that follows a change of state (the lower price of a changed booking, a difference
paid for a change that had ended) is written with that change and sent through the outbox
(`refund_queue`), so it is asked for exactly when the change commits."""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from booking.errors import IllegalTransition
from outbox.delivery import consumer
from outbox.models import OutboxMessage
from outbox.services import outbox_emit
from payments.models import Anomaly, PaymentIntent, Refund
from payments.providers import provider_for
from payments.providers.base import ProviderError, ProviderNoAnswer
from tenants.actors import STAFF, SYSTEM, Actor, actor_require
from tenants.models import Role

logger = logging.getLogger(__name__)
REFUND_SEND = "payments.refund_send"
SENDER = Actor.system("refunds")
# Who gives back money that came for seats that were gone (payments.services.late_money).
AUTOMATIC_REFUND = Actor.system("automatic refund")


def refund_request(
    *,
    intent_id: int,
    amount: int,
    actor: Actor,
    reason: str = "",
) -> Refund:
    """Ask the provider to refund `amount` of a paid intent. The refund is confirmed (and a
    full refund releases the seats) when the provider's webhook says so. If the provider
    refuses, the refund failed; if it does not answer, the refund stays requested (it counts
    against what is left to refund, so it cannot be asked for twice) and the reconciler
    sends it again.

    Locks: the intent row while checking what is left to refund and recording the request.
    Raises IllegalTransition, ProviderError; PermissionDenied for staff below owner.
    """
    actor_require(actor, STAFF, role=Role.OWNER)
    with transaction.atomic():
        intent = PaymentIntent.objects.locked().get(pk=intent_id)
        if amount <= 0 or amount > refundable_now(intent):
            raise IllegalTransition("nothing left to refund for that amount")
        refund = Refund.objects.create(
            intent=intent, amount=amount, requested_by=str(actor), reason=reason
        )
        intent.add_to_timeline("refund_requested", actor, note=reason, amount=amount)
    try:
        return refund_send(refund_id=refund.pk, actor=actor)
    except ProviderNoAnswer as exc:
        intent.add_to_timeline("refund_unanswered", actor, note=str(exc)[:500], amount=amount)
        refund.refresh_from_db()
        return refund


def refundable_now(intent: PaymentIntent) -> int:
    """What is left to refund of a locked intent, refunds already asked for included."""
    requested = intent.refunds.filter(status=Refund.Status.REQUESTED).values_list(
        "amount", flat=True
    )
    return intent.refundable_amount - sum(requested)


def refund_queue(intent: PaymentIntent, *, amount: int, actor: Actor, reason: str) -> Refund:
    """In the caller's transaction, with the intent locked: a refund of `amount` (at most
    what is left to refund), sent to the provider through the outbox once that commits."""
    refund = Refund.objects.create(
        intent=intent, amount=amount, requested_by=str(actor), reason=reason[:240]
    )
    intent.add_to_timeline("refund_requested", actor, note=reason, amount=amount)
    outbox_emit(topic=REFUND_SEND, payload={"refund_id": refund.pk})
    return refund


@consumer(REFUND_SEND)
def deliver_refund(message: OutboxMessage) -> None:
    """Send a queued refund. No answer: the outbox tries again (same idempotency key). A
    refusal fails the refund (refund_send records it) and is told in the timeline for staff,
    not retried."""
    try:
        refund = refund_send(refund_id=message.payload["refund_id"], actor=SENDER)
    except ProviderNoAnswer:
        raise
    except ProviderError as exc:
        refund = Refund.objects.select_related("intent").get(pk=message.payload["refund_id"])
        refund.intent.add_to_timeline(
            "refund_failed", SENDER, note=str(exc)[:500], amount=refund.amount
        )
        logger.warning("refund %s refused by the provider: %s", refund.pk, exc)


def refund_send(*, refund_id: int, actor: Actor) -> Refund:
    """Send a requested refund to its provider, with the refund's own idempotency key: the
    first time (`refund_request`), or again when the provider did not answer (the
    reconciler, as the system). The provider makes it once however often it is asked. One
    that is no longer requested, or that the provider already named, is left alone.

    Locks: the intent row while recording the provider's answer.
    Raises ProviderError (the refund failed), ProviderNoAnswer (it stays requested).
    """
    actor_require(actor, STAFF, SYSTEM, role=Role.OWNER)
    refund = Refund.objects.select_related("intent").get(pk=refund_id)
    if refund.status != Refund.Status.REQUESTED or refund.provider_refund_id:
        return refund
    intent = refund.intent
    try:
        state = provider_for(intent.provider).refund(intent, refund)
    except ProviderNoAnswer:
        raise
    except ProviderError:
        refund.status = Refund.Status.FAILED
        refund.save(update_fields=["status"])
        refund_refused(refund)
        raise
    with transaction.atomic():
        intent = PaymentIntent.objects.locked().get(pk=intent.pk)
        refund.provider_refund_id = state.refund_id
        refund.save(update_fields=["provider_refund_id"])
        refunds_settle(intent, now=timezone.now())  # its webhook may have come first
    refund.refresh_from_db()
    return refund


def refund_refused(refund: Refund) -> None:
    """The provider refused a refund. One made automatically for late money reopens the
    anomaly it resolved: staff must give the money back another way."""
    if refund.requested_by != str(AUTOMATIC_REFUND):
        return
    reopened = Anomaly.objects.filter(
        intent_id=refund.intent_id, resolved_by=str(AUTOMATIC_REFUND)
    ).update(resolved_at=None, resolved_by="")
    if reopened:
        logger.warning("automatic refund %s refused: its anomaly is open again", refund.pk)


def refunds_settle(intent: PaymentIntent, *, now: datetime) -> None:
    """Mark requested refunds of a locked intent confirmed, oldest first, as far as its
    refunded total covers them (Mercado Pago reports a total, not which refund)."""
    covered = sum(
        intent.refunds.filter(status=Refund.Status.SUCCEEDED).values_list("amount", flat=True)
    )
    for refund in intent.refunds.filter(status=Refund.Status.REQUESTED).order_by("id"):
        if covered + refund.amount > intent.amount_refunded:
            break
        covered += refund.amount
        refund.status = Refund.Status.SUCCEEDED
        refund.confirmed_at = now
        refund.save(update_fields=["status", "confirmed_at"])
