"""Refunds: staff ask the provider to give money back (`refund_request`); the provider's
confirmation, through a webhook or its answer, settles the requests (`refunds_settle`)."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from booking.errors import IllegalTransition
from payments.models import PaymentIntent, Refund
from payments.providers import provider_for
from payments.providers.base import ProviderError
from tenants.actors import STAFF, Actor, actor_require
from tenants.models import Role


def refund_request(
    *,
    intent_id: int,
    amount: int,
    actor: Actor,
    reason: str = "",
) -> Refund:
    """Ask the provider to refund `amount` of a paid intent. The refund is confirmed (and a
    full refund releases the seats) when the provider's webhook says so.

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
        state = provider_for(intent.provider).refund(intent, refund)
    except ProviderError:
        refund.status = Refund.Status.FAILED
        refund.save(update_fields=["status"])
        raise
    with transaction.atomic():
        intent = PaymentIntent.objects.locked().get(pk=intent_id)
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
