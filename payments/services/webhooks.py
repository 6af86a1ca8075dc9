"""The webhook record: a verified webhook is stored once per key and applied in the same
transaction (DESIGN.md, invariants 3 and 4); a duplicate changes nothing; a failed application
is kept for redelivery or staff; a forgery or a malformed body is rejected and logged.

The key (`WebhookFacts.event_id`) is made only of what the provider signed or its API
returned: Stripe's event id (Stripe signs the whole event); for Mercado Pago, whose signature
covers only the payment's id, the payment's id with the status, amount refunded and last
update that the re-fetch returned. The intent is the one that stored the provider's object id;
metadata that disagrees with it applies nothing.

Read top-down: `payment_apply_webhook` → `_apply_recorded` (find and lock the intent, apply
the facts through `transitions`) → on failure `_record_failure`; then the staff's
`webhook_reprocess`, and `webhook_reject` for what failed verification.
"""

import json
import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from booking.errors import IllegalTransition
from payments.models import WEBHOOK_EVENT_UNIQUE, PaymentIntent, WebhookEvent, WebhookRejection
from payments.providers import provider_for
from payments.providers.base import VerifiedWebhook, WebhookFacts
from payments.services.transitions import intent_apply_facts
from tenants.actors import STAFF, Actor, actor_require
from tenants.models import Role

logger = logging.getLogger(__name__)
Outcome = WebhookEvent.Outcome


def webhook_seen(*, provider: str, event_id: str) -> bool:
    """Already recorded (a failed one is not: its redelivery is applied again)."""
    return (
        WebhookEvent.objects.filter(provider=provider, event_id=event_id)
        .exclude(outcome=Outcome.FAILED)
        .exists()
    )


def payment_apply_webhook(
    *,
    provider: str,
    webhook: VerifiedWebhook,
    facts: WebhookFacts,
    now: datetime | None = None,
) -> tuple[WebhookEvent | None, bool]:
    """Record a verified webhook under its key (`facts.event_id`) and apply it, in one
    transaction. Returns the event and whether it was applied now; a duplicate (same key)
    changes nothing.

    If applying fails, nothing of it is kept but the event itself, recorded as failed (the
    exception goes on, so the provider retries); a redelivery, or staff re-processing it,
    applies it again.

    Locks: the webhook's unique key (a concurrent duplicate waits, then is refused), the
    payment intent, the reservation, and the slot when seats are taken again or released.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                provider=provider,
                event_id=facts.event_id,
                event_type=webhook.event_type,
                raw_body=webhook.raw_body,
                received_at=now,
            )
            _apply_recorded(event, facts, now)
    except Exception as exc:
        if _is_duplicate_event(exc):
            return webhook_apply_again(
                provider=provider, event_id=facts.event_id, facts=facts, now=now
            )
        _record_failure(provider, facts.event_id, webhook, exc, now)
        raise
    return event, True


def _is_duplicate_event(exc: Exception) -> bool:
    """The error is the event's unique key, told by the constraint's name in PostgreSQL's
    own diagnostics (psycopg), not by the wording of the message. Any other error, another
    constraint's included, is a failure to apply."""
    if not isinstance(exc, IntegrityError):
        return False
    diagnostics = getattr(exc.__cause__, "diag", None)
    return getattr(diagnostics, "constraint_name", None) == WEBHOOK_EVENT_UNIQUE


def webhook_apply_again(
    *, provider: str, event_id: str, facts: WebhookFacts, now: datetime | None = None
) -> tuple[WebhookEvent | None, bool]:
    """Apply a recorded event whose first application failed; anything else is a duplicate
    and changes nothing. Locks: the event row, then as payment_apply_webhook."""
    now = now or timezone.now()
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update(no_key=True).get(
            provider=provider, event_id=event_id
        )
        if event.outcome != Outcome.FAILED:
            return None, False
        event.note = ""
        _apply_recorded(event, facts, now)
    return event, True


def _apply_recorded(event: WebhookEvent, facts: WebhookFacts, now: datetime) -> None:
    intent = _locate_intent(event.provider, facts)
    if intent is not None and facts.intent_hint not in (None, intent.pk):
        event.note = (
            f"the metadata names intent {facts.intent_hint}, but the provider's object belongs "
            f"to intent {intent.pk}: nothing applied"
        )
        intent = None
    if intent is None:
        event.outcome = Outcome.UNMATCHED if facts.state or facts.refund else Outcome.IGNORED
    else:
        event.intent = intent
        event.outcome = intent_apply_facts(intent, facts, webhook=event, now=now)
    event.processed_at = timezone.now()
    event.save(update_fields=["intent", "outcome", "note", "processed_at"])


def _locate_intent(provider: str, facts: WebhookFacts) -> PaymentIntent | None:
    """Lock the intent the facts are about (the first lock of the webhook's transaction): the
    one the provider's API names, else the one that stored the provider's object id. Never
    found by metadata alone."""
    intents = PaymentIntent.objects.locked().filter(provider=provider)
    if facts.intent_id is not None:
        return intents.filter(pk=facts.intent_id).first()
    if facts.reference:
        return intents.filter(provider_reference=facts.reference).first()
    if facts.payment_id:
        return intents.filter(provider_payment_id=facts.payment_id).first()
    return None


def _record_failure(
    provider: str, event_id: str, webhook: VerifiedWebhook, exc: Exception, now: datetime
) -> None:
    logger.exception("applying %s webhook %s failed", provider, event_id)
    with transaction.atomic():
        WebhookEvent.objects.update_or_create(
            provider=provider,
            event_id=event_id,
            defaults={
                "event_type": webhook.event_type,
                "raw_body": webhook.raw_body,
                "received_at": now,
                "outcome": Outcome.FAILED,
                "note": f"{type(exc).__name__}: {exc}"[:2000],
            },
        )


def webhook_reprocess(*, event_pk: int, actor: Actor) -> WebhookEvent:
    """Staff re-processing of a failed event: its stored body was verified when it arrived;
    the provider is asked again where the event carries no state (Mercado Pago)."""
    actor_require(actor, STAFF, role=Role.MANAGER)
    event = WebhookEvent.objects.get(pk=event_pk)
    if event.outcome != Outcome.FAILED:
        raise IllegalTransition("only a failed webhook can be processed again")
    verified = VerifiedWebhook(
        event_id=event.event_id,
        event_type=event.event_type,
        raw_body=event.raw_body,
        payload=json.loads(event.raw_body),
    )
    facts = provider_for(event.provider).webhook_facts(verified)
    try:
        webhook_apply_again(provider=event.provider, event_id=event.event_id, facts=facts)
    except Exception as exc:
        _record_failure(event.provider, event.event_id, verified, exc, event.received_at)
        raise
    event.refresh_from_db()
    if event.intent_id:
        event.intent.add_to_timeline(
            "webhook_reprocessed", actor, event=event.event_id, outcome=event.outcome
        )
    return event


def webhook_reject(*, provider: str, reason: str, remote_addr: str | None, body: bytes) -> None:
    """A webhook that failed verification or is not in the provider's format: logged for the
    on-call engineer, never applied. Its sender is unknown, which is the point: it acts on
    nothing but this log. Whatever it put in is kept as text PostgreSQL takes (no NUL)."""
    WebhookRejection.objects.create(
        provider=provider,
        reason=_printable(reason)[:240],
        remote_addr=remote_addr,
        body_excerpt=_printable(body[:2000].decode(errors="replace")),
    )
    logger.warning("rejected %s webhook from %s: %s", provider, remote_addr, reason)


def _printable(value: str) -> str:
    return value.replace("\x00", "\ufffd")
