"""Writes that move money states. Lock order: payment intent, then reservation, then slot
(the booking services take the last two).

The transition code is one function, `_apply_state`, used by webhooks and reconciliation
alike: a reservation becomes `paid` only through it, after a verified webhook or an answer
from the provider's own API.
"""

import contextlib
import json
import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from booking.errors import BookingError, IllegalTransition
from booking.models import Reservation, ReservationEvent
from booking.services import PaymentLanding, reservation_confirm_payment, reservation_refund
from payments.models import Anomaly, Method, PaymentIntent, Refund, WebhookEvent, WebhookRejection
from payments.providers import provider_for
from payments.providers.base import (
    CheckoutUrls,
    PaymentState,
    ProviderError,
    VerifiedWebhook,
    WebhookFacts,
)
from tenants.models import Membership, Role
from tenants.permissions import staff_may

logger = logging.getLogger(__name__)
S = PaymentIntent.Status


class PaymentNotPossible(BookingError):
    pass


def _timeline(intent: PaymentIntent, kind: str, actor: str, note: str = "", **data) -> None:
    ReservationEvent.objects.create(
        reservation_id=intent.reservation_id,
        kind=kind,
        actor=actor,
        note=note,
        data={"intent": intent.pk, "provider": intent.provider, **data},
    )


def payment_start(
    *, reservation: Reservation, provider: str, method: str, urls: CheckoutUrls
) -> PaymentIntent:
    """Open a payment attempt at the provider for a held reservation and return it, with the
    checkout URL or the Pix code to show. Earlier open attempts are cancelled at their
    provider first, so the traveller cannot pay twice.

    The intent row is committed before the provider call (which carries the intent's own
    idempotency key), then updated under its lock.
    Raises PaymentNotPossible, ProviderError.
    """
    if reservation.status != Reservation.Status.HELD or reservation.hold_has_lapsed():
        raise PaymentNotPossible()
    for earlier in reservation.payment_intents.filter(status__in=PaymentIntent.OPEN):
        if earlier.provider_reference:
            provider_for(earlier.provider).cancel_checkout(earlier)

    intent = PaymentIntent.objects.create(
        reservation=reservation,
        provider=provider,
        method=method,
        amount=reservation.total_amount,
        currency=reservation.currency,
    )
    try:
        checkout = provider_for(provider).create_checkout(intent, urls)
    except ProviderError:
        with transaction.atomic():
            intent = PaymentIntent.objects.select_for_update(no_key=True).get(pk=intent.pk)
            intent.transition_to(S.FAILED)
            intent.save(update_fields=["status", "updated_at"])
            _timeline(intent, "payment_start_failed", "system")
        raise
    with transaction.atomic():
        intent = PaymentIntent.objects.select_for_update(no_key=True).get(pk=intent.pk)
        intent.provider_reference = checkout.reference
        intent.provider_payment_id = intent.provider_payment_id or checkout.payment_id
        intent.checkout_url = checkout.url
        intent.pix_code = checkout.pix_code
        intent.pix_qr_base64 = checkout.pix_qr_base64
        intent.expires_at = checkout.expires_at
        if intent.status == S.CREATED:
            intent.transition_to(S.PENDING)
        intent.save()
        _timeline(intent, "payment_started", "traveller", method=method)
    return intent


def _raise_anomaly(
    intent: PaymentIntent, kind: str, details: str, webhook: WebhookEvent | None
) -> None:
    Anomaly.objects.create(
        kind=kind,
        reservation_id=intent.reservation_id,
        intent=intent,
        webhook=webhook,
        details=details,
    )
    _timeline(intent, "anomaly", "system", note=details, anomaly=kind)
    logger.warning("payment anomaly %s on intent %s: %s", kind, intent.pk, details)


def _apply_state(
    intent: PaymentIntent,
    state: PaymentState,
    *,
    actor: str,
    webhook: WebhookEvent | None = None,
    now: datetime | None = None,
) -> str:
    """Move a locked intent (and its reservation) toward the provider's state. Returns the
    outcome. Never moves a terminal state back; a success for a closed intent is kept as an
    anomaly for staff."""
    now = now or timezone.now()
    outcome = WebhookEvent.Outcome.APPLIED
    if state.payment_id and not intent.provider_payment_id:
        intent.provider_payment_id = state.payment_id
    target = state.status
    if state.declined and intent.is_open and intent.method in (Method.CARD, Method.CHECKOUT):
        # A declined card inside a hosted checkout: the traveller can try again there.
        intent.declined_at = now
        intent.save()
        _timeline(intent, "payment_declined", actor, note=state.detail)
        return outcome

    if target == S.SUCCEEDED:
        if state.amount is not None and (state.amount, state.currency) != (
            intent.amount,
            intent.currency,
        ):
            _raise_anomaly(
                intent,
                Anomaly.Kind.AMOUNT_MISMATCH,
                f"provider says {state.amount} {state.currency}, "
                f"expected {intent.amount} {intent.currency}",
                webhook,
            )
            return WebhookEvent.Outcome.ANOMALY
        if intent.is_paid:
            return WebhookEvent.Outcome.IGNORED
        if not intent.is_open:
            _raise_anomaly(
                intent,
                Anomaly.Kind.SUCCESS_ON_CLOSED_INTENT,
                f"payment succeeded for an attempt that is {intent.status}; "
                "the money must be refunded or the booking honoured",
                webhook,
            )
            return WebhookEvent.Outcome.ANOMALY
        intent.transition_to(S.SUCCEEDED)
        intent.save()
        landing = reservation_confirm_payment(
            reservation_id=intent.reservation_id,
            actor=actor,
            note=f"{intent.get_provider_display()} {state.payment_id}".strip(),
            now=now,
        )
        if landing == PaymentLanding.PAID_WITHOUT_SEATS:
            _raise_anomaly(
                intent,
                Anomaly.Kind.PAID_WITHOUT_SEATS,
                "paid after the hold ended, and the seats were sold meanwhile",
                webhook,
            )
            return WebhookEvent.Outcome.ANOMALY
        if landing == PaymentLanding.ALREADY_PAID:
            _raise_anomaly(
                intent,
                Anomaly.Kind.PAID_TWICE,
                "the reservation was already paid by another attempt",
                webhook,
            )
            return WebhookEvent.Outcome.ANOMALY
        return outcome

    if target in (S.FAILED, S.CANCELLED, S.EXPIRED):
        if not intent.is_open:
            return WebhookEvent.Outcome.IGNORED
        intent.transition_to(target)
        intent.save()
        _timeline(intent, f"payment_{target}", actor, note=state.detail)
        return outcome

    if target == S.PENDING:
        if intent.status != S.CREATED:
            return WebhookEvent.Outcome.IGNORED
        intent.transition_to(S.PENDING)
        intent.save()
        return outcome

    if target in (S.PARTIALLY_REFUNDED, S.REFUNDED):
        return _apply_refunded_amount(intent, state.amount_refunded, actor=actor, now=now)
    return WebhookEvent.Outcome.IGNORED


def _apply_refunded_amount(
    intent: PaymentIntent, refunded: int, *, actor: str, now: datetime
) -> str:
    """The provider says `refunded` in all was given back. Only ever grows; a full refund
    releases the reservation's seats."""
    if not intent.is_paid or refunded <= intent.amount_refunded:
        return WebhookEvent.Outcome.IGNORED
    intent.amount_refunded = min(refunded, intent.amount)
    intent.transition_to(
        S.REFUNDED if intent.amount_refunded == intent.amount else S.PARTIALLY_REFUNDED
    )
    intent.save()
    _settle_refunds(intent, now)
    _timeline(intent, "refund_confirmed", actor, amount_refunded=intent.amount_refunded)
    if intent.status == S.REFUNDED:
        # A reservation that was never paid (paid without seats) has no seats to release.
        with contextlib.suppress(IllegalTransition):
            reservation_refund(reservation_id=intent.reservation_id, actor=actor, now=now)
    return WebhookEvent.Outcome.APPLIED


def _settle_refunds(intent: PaymentIntent, now: datetime) -> None:
    """Mark requested refunds confirmed, oldest first, as far as the refunded total covers
    them (Mercado Pago reports a total, not which refund)."""
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


def _locate_intent(provider: str, facts: WebhookFacts) -> PaymentIntent | None:
    """Lock the intent the facts are about (the first lock of the webhook's transaction)."""
    intents = PaymentIntent.objects.select_for_update(no_key=True).filter(provider=provider)
    if facts.intent_id is not None:
        return intents.filter(pk=facts.intent_id).first()
    if facts.reference:
        return intents.filter(provider_reference=facts.reference).first()
    if facts.payment_id:
        return intents.filter(provider_payment_id=facts.payment_id).first()
    return None


def webhook_seen(*, provider: str, event_id: str) -> bool:
    """Already recorded (a failed one is not: its redelivery is applied again)."""
    return (
        WebhookEvent.objects.filter(provider=provider, event_id=event_id)
        .exclude(outcome=WebhookEvent.Outcome.FAILED)
        .exists()
    )


def payment_apply_webhook(
    *,
    provider: str,
    webhook: VerifiedWebhook,
    facts: WebhookFacts,
    now: datetime | None = None,
) -> tuple[WebhookEvent | None, bool]:
    """Record a verified webhook and apply it, in one transaction. Returns the event and
    whether it was applied now; a duplicate (same provider event id) changes nothing.

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
                event_id=webhook.event_id,
                event_type=webhook.event_type,
                raw_body=webhook.raw_body,
                received_at=now,
            )
            _apply_recorded(event, facts, now)
    except IntegrityError as exc:
        if "webhook_event_unique" not in str(exc):
            raise
        return webhook_apply_again(
            provider=provider, event_id=webhook.event_id, facts=facts, now=now
        )
    except Exception as exc:
        _record_failure(provider, webhook, exc, now)
        raise
    return event, True


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
        if event.outcome != WebhookEvent.Outcome.FAILED:
            return None, False
        event.note = ""
        _apply_recorded(event, facts, now)
    return event, True


def _apply_recorded(event: WebhookEvent, facts: WebhookFacts, now: datetime) -> None:
    intent = _locate_intent(event.provider, facts)
    if intent is None:
        event.outcome = (
            WebhookEvent.Outcome.UNMATCHED
            if facts.state or facts.refund
            else WebhookEvent.Outcome.IGNORED
        )
    else:
        event.intent = intent
        event.outcome = _apply_facts(intent, facts, event, now)
    event.processed_at = timezone.now()
    event.save(update_fields=["intent", "outcome", "note", "processed_at"])


def _record_failure(provider: str, webhook: VerifiedWebhook, exc: Exception, now: datetime) -> None:
    logger.exception("applying %s webhook %s failed", provider, webhook.event_id)
    with transaction.atomic():
        WebhookEvent.objects.update_or_create(
            provider=provider,
            event_id=webhook.event_id,
            defaults={
                "event_type": webhook.event_type,
                "raw_body": webhook.raw_body,
                "received_at": now,
                "outcome": WebhookEvent.Outcome.FAILED,
                "note": f"{type(exc).__name__}: {exc}"[:2000],
            },
        )


def webhook_reprocess(
    *, event_pk: int, actor: str, staff: Membership | None = None
) -> WebhookEvent:
    """Staff re-processing of a failed event: its stored body was verified when it arrived;
    the provider is asked again where the event carries no state (Mercado Pago)."""
    staff_may(staff, Role.MANAGER)
    event = WebhookEvent.objects.get(pk=event_pk)
    if event.outcome != WebhookEvent.Outcome.FAILED:
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
        _record_failure(event.provider, verified, exc, event.received_at)
        raise
    event.refresh_from_db()
    if event.intent_id:
        _timeline(
            event.intent, "webhook_reprocessed", actor, event=event.event_id, outcome=event.outcome
        )
    return event


def _apply_facts(
    intent: PaymentIntent, facts: WebhookFacts, event: WebhookEvent, now: datetime
) -> str:
    actor = f"{intent.provider} webhook"
    if facts.refund is not None:
        refund = intent.refunds.filter(
            Q(provider_refund_id=facts.refund.refund_id) | Q(pk=facts.refund.our_id or 0)
        ).first()
        if refund is None or refund.status != Refund.Status.REQUESTED:
            return WebhookEvent.Outcome.IGNORED
        if facts.refund.failed:
            refund.status = Refund.Status.FAILED
            refund.save(update_fields=["status"])
            _timeline(intent, "refund_failed", actor, amount=refund.amount)
            return WebhookEvent.Outcome.APPLIED
        if not facts.refund.succeeded:
            return WebhookEvent.Outcome.IGNORED
        refund.status = Refund.Status.SUCCEEDED
        refund.confirmed_at = now
        refund.save(update_fields=["status", "confirmed_at"])
        return _apply_refunded_amount(
            intent, intent.amount_refunded + refund.amount, actor=actor, now=now
        )
    if facts.state is None:
        return WebhookEvent.Outcome.IGNORED
    return _apply_state(intent, facts.state, actor=actor, webhook=event, now=now)


def webhook_reject(*, provider: str, reason: str, remote_addr: str | None, body: bytes) -> None:
    """A webhook that failed verification: logged, never applied."""
    WebhookRejection.objects.create(
        provider=provider,
        reason=reason[:240],
        remote_addr=remote_addr,
        body_excerpt=body[:2000].decode(errors="replace"),
    )
    logger.warning("rejected %s webhook from %s: %s", provider, remote_addr, reason)


def payment_reconcile(
    *, intent_id: int, actor: str = "reconciliation", staff: Membership | None = None
) -> str:
    """Ask the provider's API about an open intent and apply the answer with the same
    transition code as webhooks (the timeline says it was reconciled)."""
    staff_may(staff, Role.MANAGER)
    intent = PaymentIntent.objects.get(pk=intent_id)
    state = provider_for(intent.provider).fetch_state(intent)
    with transaction.atomic():
        intent = PaymentIntent.objects.select_for_update(no_key=True).get(pk=intent_id)
        before = intent.status
        outcome = _apply_state(intent, state, actor=actor)
        _timeline(
            intent,
            "reconciled",
            actor,
            note=f"{before} -> {intent.status}",
            provider_status=state.status,
        )
    return outcome


def payments_reconcile_stale(*, now: datetime | None = None, older_than: timedelta) -> int:
    """Reconcile every intent left open for longer than `older_than`."""
    now = now or timezone.now()
    stale = (
        PaymentIntent.objects.filter(
            status__in=PaymentIntent.OPEN, updated_at__lte=now - older_than
        )
        .exclude(provider_reference="")
        .values_list("pk", flat=True)
    )
    count = 0
    for intent_id in stale:
        try:
            payment_reconcile(intent_id=intent_id)
            count += 1
        except ProviderError as exc:
            logger.warning("reconciliation of intent %s failed: %s", intent_id, exc)
    return count


def refund_request(
    *,
    intent_id: int,
    amount: int,
    actor: str,
    reason: str = "",
    staff: Membership | None = None,
) -> Refund:
    """Ask the provider to refund `amount` of a paid intent. The refund is confirmed (and a
    full refund releases the seats) when the provider's webhook says so.

    Locks: the intent row while checking what is left to refund and recording the request.
    Raises IllegalTransition, ProviderError; PermissionDenied for staff below owner.
    """
    staff_may(staff, Role.OWNER)
    with transaction.atomic():
        intent = PaymentIntent.objects.select_for_update(no_key=True).get(pk=intent_id)
        requested = sum(
            intent.refunds.filter(status=Refund.Status.REQUESTED).values_list("amount", flat=True)
        )
        if amount <= 0 or amount > intent.refundable_amount - requested:
            raise IllegalTransition("nothing left to refund for that amount")
        refund = Refund.objects.create(
            intent=intent, amount=amount, requested_by=actor, reason=reason
        )
        _timeline(intent, "refund_requested", actor, note=reason, amount=amount)
    try:
        state = provider_for(intent.provider).refund(intent, refund)
    except ProviderError:
        refund.status = Refund.Status.FAILED
        refund.save(update_fields=["status"])
        raise
    with transaction.atomic():
        intent = PaymentIntent.objects.select_for_update(no_key=True).get(pk=intent_id)
        refund.provider_refund_id = state.refund_id
        refund.save(update_fields=["provider_refund_id"])
        _settle_refunds(intent, timezone.now())  # its webhook may have come first
    refund.refresh_from_db()
    return refund


def anomaly_resolve(*, anomaly_id: int, actor: str, staff: Membership | None = None) -> Anomaly:
    """Staff dealt with it (refunded, honoured the booking...): recorded with who and when."""
    staff_may(staff, Role.MANAGER)
    with transaction.atomic():
        anomaly = Anomaly.objects.select_for_update(no_key=True).get(
            pk=anomaly_id, resolved_at__isnull=True
        )
        anomaly.resolved_at, anomaly.resolved_by = timezone.now(), actor
        anomaly.save(update_fields=["resolved_at", "resolved_by"])
        ReservationEvent.objects.create(
            reservation_id=anomaly.reservation_id,
            kind="anomaly_resolved",
            actor=actor,
            data={"anomaly": anomaly.kind},
        )
    return anomaly
