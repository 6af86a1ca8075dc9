"""The traveller comes back from a provider's checkout: the provider's API is asked, once,
about the attempt they come back from, so that the page tells the truth before the webhook
arrives (DESIGN.md, invariant 1: what the return URL or its query string says is never
read; only the provider's own answer is applied, through the transitions path)."""

import logging

from botocore.exceptions import BotoCoreError, ClientError
from django.db import OperationalError, transaction

from booking.models import Reservation
from payments.models import Method, PaymentIntent, Provider
from payments.providers import provider_for
from payments.providers.base import ProviderError
from payments.records import PaymentActor, PaymentEvent
from payments.services.transitions import intent_apply_state
from tenants.actors import TRAVELLER, Actor, actor_require

logger = logging.getLogger(__name__)


def returning_intent(reservation: Reservation) -> PaymentIntent | None:
    """The attempt a traveller comes back from: the reservation's latest (a change's own
    attempts return to the booking's page, not here)."""
    return reservation.payment_intents.filter(change__isnull=True).first()


def pix_on_our_page(intent: PaymentIntent) -> bool:
    """A Mercado Pago Pix code, shown on our own page: no hosted checkout, no cancel link."""
    return intent.provider == Provider.MERCADOPAGO and intent.method == Method.PIX


def payment_check_on_return(
    *, reservation: Reservation, cancelled: bool, actor: Actor
) -> PaymentIntent | None:
    """Ask the provider about the reservation's latest attempt, if it is still open, and apply
    its answer as the provider's own word. `cancelled`: the traveller came back by the
    checkout's cancel (or failure) link; unless the provider says it is paid or being paid,
    the hosted checkout is then ended, so that it cannot be paid later, and asked about
    again: the attempt closes only if the provider's answer says it ended.
    A provider that does not answer (within the settings' timeouts) changes nothing; the
    timeline records that it was asked, and the page says we are checking. Returns the
    attempt, as it is now.

    Locks: the intent, then as the transition path; the provider calls are made before."""
    actor_require(actor, TRAVELLER)
    intent = returning_intent(reservation)
    if intent is None or not intent.is_open or not intent.provider_reference:
        return intent
    try:
        gateway = provider_for(intent.provider)
        states = [gateway.fetch_state(intent)]
        paid = states[0].status in PaymentIntent.PAID or states[0].in_progress
        if cancelled and not pix_on_our_page(intent) and not paid:
            # Asked first, so that a decline on the checkout is known before it ends.
            gateway.cancel_checkout(intent)
            states.append(gateway.fetch_state(intent))
    except (ProviderError, BotoCoreError, ClientError) as exc:  # no answer, or no credentials
        logger.warning("provider did not answer for intent %s on return: %s", intent.pk, exc)
        intent.add_to_timeline(
            PaymentEvent.PAYMENT_CHECKED, actor, note=str(exc)[:500], answered=False
        )
        return intent
    try:
        with transaction.atomic():
            intent = PaymentIntent.objects.locked().get(pk=intent.pk)
            before = intent.status
            for state in states:
                intent_apply_state(intent, state, actor=Actor.provider(PaymentActor.ON_RETURN))
            intent.add_to_timeline(
                PaymentEvent.PAYMENT_CHECKED,
                actor,
                answered=True,
                cancelled=cancelled,
                in_progress=state.in_progress,
                provider_status=state.status,
                before=before,
                after=intent.status,
            )
    except OperationalError as exc:
        # The intent's lock not taken within the lock timeout: a webhook is applying the
        # provider's word right now. The page shows what it leaves.
        logger.warning("intent %s busy on return, left to the webhook: %s", intent.pk, exc)
    return PaymentIntent.objects.get(pk=intent.pk)
