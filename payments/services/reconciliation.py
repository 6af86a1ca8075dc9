"""Reconciliation: for an attempt no webhook settled, ask the provider's own API and apply
its answer through the same transition path as webhooks (DESIGN.md, invariant 1). An attempt
whose opening the provider never answered is settled too: what the provider made for it is
found and ended, since nobody was sent there. Refunds it never answered are asked again."""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.errors import IllegalTransition
from payments.models import PaymentIntent, Refund
from payments.providers import provider_for
from payments.providers.base import PaymentProvider, PaymentState, ProviderError
from payments.services.refunds import refund_send
from payments.services.transitions import intent_apply_state
from tenants.actors import STAFF, SYSTEM, Actor, actor_require
from tenants.models import Role

logger = logging.getLogger(__name__)
S = PaymentIntent.Status

# An open attempt without a provider reference this old had its create call go unanswered
# (or its process die during it): far longer than a call's whole budget (settings, "Outgoing
# calls"), so that an attempt still being opened is never taken for one.
UNANSWERED_AFTER = timedelta(minutes=1)


def payment_reconcile(*, intent_id: int, actor: Actor) -> str:
    """Ask the provider's API about an intent and apply the answer (staff from manager up, or
    the periodic task). The answer is the provider's own word, as a webhook's is; the timeline
    says who asked. The provider is asked before the intent's lock is taken.

    Locks: the intent, then as the transition path."""
    actor_require(actor, STAFF, SYSTEM, role=Role.MANAGER)
    intent = PaymentIntent.objects.get(pk=intent_id)
    gateway = provider_for(intent.provider)
    if intent.is_open and not intent.provider_reference:
        state = _end_unanswered_checkout(intent, gateway)
    else:
        state = gateway.fetch_state(intent)
    with transaction.atomic():
        intent = PaymentIntent.objects.locked().get(pk=intent_id)
        before = intent.status
        outcome = intent_apply_state(intent, state, actor=Actor.provider(actor.name))
        intent.add_to_timeline(
            "reconciled", actor, before=before, after=intent.status, provider_status=state.status
        )
    return outcome


def _end_unanswered_checkout(intent: PaymentIntent, gateway: PaymentProvider) -> PaymentState:
    """The state to apply to an attempt whose create call went unanswered. The provider is
    asked what that call made (the same call again, or a search by our reference); if it made
    nothing, the attempt failed. If it made a checkout, its reference is stored (so its
    webhooks find the intent), it is ended (nobody was sent to it, so nobody may pay it), and
    its state after that is the provider's answer: expired, cancelled, or, should anyone have
    paid it after all, paid."""
    if intent.created_at > timezone.now() - UNANSWERED_AFTER:
        raise IllegalTransition(
            _("This payment attempt is still being opened at its provider: ask again shortly.")
        )
    checkout = gateway.find_checkout(intent)
    if checkout is None:
        return PaymentState(status=S.FAILED, detail="the provider made no checkout")
    with transaction.atomic():
        intent = PaymentIntent.objects.locked().get(pk=intent.pk)
        intent.provider_reference = checkout.reference
        intent.provider_payment_id = intent.provider_payment_id or checkout.payment_id
        intent.expires_at = checkout.expires_at or intent.expires_at
        intent.save(
            update_fields=["provider_reference", "provider_payment_id", "expires_at", "updated_at"]
        )
        intent.add_to_timeline("checkout_found", "system", reference=checkout.reference)
    gateway.cancel_checkout(intent)
    return gateway.fetch_state(intent)


def payments_reconcile_stale(
    *, actor: Actor, older_than: timedelta, now: datetime | None = None
) -> int:
    """Reconcile every intent left open for longer than `older_than` (the system's periodic
    task), those whose opening went unanswered included, then ask again for the refunds the
    provider never answered. Returns how many the provider answered for."""
    actor_require(actor, SYSTEM)
    stale = PaymentIntent.objects.stale(older_than=older_than, now=now).values_list("pk", flat=True)
    count = 0
    for intent_id in stale:
        try:
            payment_reconcile(intent_id=intent_id, actor=actor)
            count += 1
        except (ProviderError, IllegalTransition) as exc:
            logger.warning("reconciliation of intent %s failed: %s", intent_id, exc)
    unanswered = Refund.objects.unanswered(older_than=older_than, now=now).values_list(
        "pk", flat=True
    )
    for refund_id in unanswered:
        try:
            refund_send(refund_id=refund_id, actor=actor)
            count += 1
        except ProviderError as exc:
            logger.warning("refund %s still unanswered: %s", refund_id, exc)
    return count
