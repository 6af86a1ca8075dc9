"""Refunds: staff ask the provider to give money back (`refund_request`); the provider's
confirmation, through a webhook or its answer, settles the requests (`refunds_settle`). A
request the provider did not answer stays requested and is sent again by the reconciler
(`refund_send`) with the same idempotency key: it is never made twice."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from booking.errors import IllegalTransition
from payments.models import PaymentIntent, Refund
from payments.providers import provider_for
from payments.providers.base import ProviderError, ProviderNoAnswer
from tenants.actors import STAFF, SYSTEM, Actor, actor_require
from tenants.models import Role


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
        requested = sum(
            intent.refunds.filter(status=Refund.Status.REQUESTED).values_list("amount", flat=True)
        )
        if amount <= 0 or amount > intent.refundable_amount - requested:
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
        raise
    with transaction.atomic():
        intent = PaymentIntent.objects.locked().get(pk=intent.pk)
        refund.provider_refund_id = state.refund_id
        refund.save(update_fields=["provider_refund_id"])
        refunds_settle(intent, now=timezone.now())  # its webhook may have come first
    refund.refresh_from_db()
    return refund


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
