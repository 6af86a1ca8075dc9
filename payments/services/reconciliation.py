"""Reconciliation: for an attempt no webhook settled, ask the provider's own API and apply
its answer through the same transition path as webhooks (DESIGN.md, invariant 1)."""

import logging
from datetime import datetime, timedelta

from django.db import transaction

from payments.models import PaymentIntent
from payments.providers import provider_for
from payments.providers.base import ProviderError
from payments.services.transitions import intent_apply_state
from tenants.actors import STAFF, SYSTEM, Actor, actor_require
from tenants.models import Role

logger = logging.getLogger(__name__)


def payment_reconcile(*, intent_id: int, actor: Actor) -> str:
    """Ask the provider's API about an intent and apply the answer (staff from manager up, or
    the periodic task). The answer is the provider's own word, as a webhook's is; the timeline
    says who asked. The provider is asked before the intent's lock is taken.

    Locks: the intent, then as the transition path."""
    actor_require(actor, STAFF, SYSTEM, role=Role.MANAGER)
    intent = PaymentIntent.objects.get(pk=intent_id)
    state = provider_for(intent.provider).fetch_state(intent)
    with transaction.atomic():
        intent = PaymentIntent.objects.locked().get(pk=intent_id)
        before = intent.status
        outcome = intent_apply_state(intent, state, actor=Actor.provider(actor.name))
        intent.add_to_timeline(
            "reconciled", actor, note=f"{before} -> {intent.status}", provider_status=state.status
        )
    return outcome


def payments_reconcile_stale(
    *, actor: Actor, older_than: timedelta, now: datetime | None = None
) -> int:
    """Reconcile every intent left open for longer than `older_than` (the system's periodic
    task). Returns how many the provider answered for."""
    actor_require(actor, SYSTEM)
    stale = (
        PaymentIntent.objects.stale(older_than=older_than, now=now)
        .exclude(provider_reference="")
        .values_list("pk", flat=True)
    )
    count = 0
    for intent_id in stale:
        try:
            payment_reconcile(intent_id=intent_id, actor=actor)
            count += 1
        except ProviderError as exc:
            logger.warning("reconciliation of intent %s failed: %s", intent_id, exc)
    return count
