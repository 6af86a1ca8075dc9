"""Applying a provider's facts to a locked intent: the one path by which an intent changes
state and a reservation becomes paid (DESIGN.md, invariants 1 and 2). Webhooks
(`intent_apply_facts`) and reconciliation (`intent_apply_state`) both end here.

The intent's state machine is one-way (`PaymentIntent.TRANSITIONS`): a terminal state never
moves back, and a success for an attempt that is closed, paid twice, paid a different amount
or paid after its seats were sold is kept as an anomaly for staff, never dropped. Money that
came for seats that cannot be taken (or paid a reservation twice) is also refunded in full at
once (late_money), its anomaly resolved by that refund; a different amount stays with staff.

Every function here runs in the caller's transaction, with the intent already locked.
"""

import contextlib
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from booking.errors import IllegalTransition
from booking.models import ReservationEvent
from booking.services import PaymentLanding, reservation_confirm_payment, reservation_refund
from payments.models import Anomaly, Method, PaymentIntent, Refund, WebhookEvent
from payments.providers.base import PaymentState, RefundState, WebhookFacts
from payments.records import PaymentEvent
from payments.services.anomalies import anomaly_raise
from payments.services.changes import change_payment_ended, change_payment_landed
from payments.services.late_money import late_money_refund, seats_gone_for
from payments.services.refunds import refund_refused, refunds_settle
from tenants.actors import PROVIDER, Actor, actor_require

# How an attempt that ended without a payment reads in the timeline.
ENDED = {
    PaymentIntent.Status.FAILED: PaymentEvent.PAYMENT_FAILED,
    PaymentIntent.Status.CANCELLED: PaymentEvent.PAYMENT_CANCELLED,
    PaymentIntent.Status.EXPIRED: PaymentEvent.PAYMENT_EXPIRED,
}

S = PaymentIntent.Status
Outcome = WebhookEvent.Outcome


def intent_apply_facts(
    intent: PaymentIntent, facts: WebhookFacts, *, webhook: WebhookEvent, now: datetime
) -> str:
    """What a verified webhook says about a locked intent: a refund's fate, or the state of
    the provider's payment. Returns the webhook's outcome."""
    actor = Actor.provider(f"{intent.provider} webhook")
    if facts.refund is not None:
        return _apply_refund(intent, facts.refund, actor=actor, now=now)
    if facts.state is None:
        return Outcome.IGNORED
    return intent_apply_state(intent, facts.state, actor=actor, webhook=webhook, now=now)


def intent_apply_state(
    intent: PaymentIntent,
    state: PaymentState,
    *,
    actor: Actor,
    webhook: WebhookEvent | None = None,
    now: datetime | None = None,
) -> str:
    """Move a locked intent (and its reservation) toward the provider's state, as the
    provider's own word (`actor`: a verified webhook, or its API's answer). Returns the
    outcome. Never moves a terminal state back; a success for a closed intent is kept as an
    anomaly for staff."""
    actor_require(actor, PROVIDER)
    now = now or timezone.now()
    if state.payment_id and not intent.provider_payment_id:
        intent.provider_payment_id = state.payment_id
    target = state.status
    if state.declined and intent.is_open and intent.method in (Method.CARD, Method.CHECKOUT):
        # A declined card inside a hosted checkout: the traveller can try again there. Each
        # attempt is recorded once, however often the provider tells it.
        if state.attempt and _decline_known(intent, state.attempt):
            return Outcome.IGNORED
        intent.declined_at = now
        intent.save()
        intent.add_to_timeline("payment_declined", actor, note=state.detail, attempt=state.attempt)
        return Outcome.APPLIED
    if target == S.SUCCEEDED:
        return _apply_success(intent, state, actor=actor, webhook=webhook, now=now)
    if target in (S.FAILED, S.CANCELLED, S.EXPIRED):
        if not intent.is_open:
            return Outcome.IGNORED
        intent.transition_to(target)
        intent.save()
        intent.add_to_timeline(ENDED[target], actor, note=state.detail)
        if intent.change_id:
            change_payment_ended(intent, actor=actor, now=now)
        return Outcome.APPLIED
    if target == S.PENDING:
        if intent.status != S.CREATED:
            return Outcome.IGNORED
        intent.transition_to(S.PENDING)
        intent.save()
        return Outcome.APPLIED
    if target in (S.PARTIALLY_REFUNDED, S.REFUNDED):
        return _apply_refunded_amount(intent, state.amount_refunded, actor=actor, now=now)
    return Outcome.IGNORED


def _apply_success(
    intent: PaymentIntent,
    state: PaymentState,
    *,
    actor: Actor,
    webhook: WebhookEvent | None,
    now: datetime,
) -> str:
    """The provider took the money: the reservation is paid, unless something about it needs
    a human (an anomaly is raised and the outcome says so)."""
    if state.amount is not None and (state.amount, state.currency) != (
        intent.amount,
        intent.currency,
    ):
        return _raise_once(
            intent,
            Anomaly.Kind.AMOUNT_MISMATCH,
            f"provider says {state.amount} {state.currency}, "
            f"expected {intent.amount} {intent.currency}",
            webhook,
            state,
        )
    if intent.is_paid:
        if intent.provider_payment_id and state.payment_id not in ("", intent.provider_payment_id):
            return _raise_once(
                intent,
                Anomaly.Kind.PAID_TWICE,
                f"payment {state.payment_id} succeeded for an attempt already paid by "
                f"{intent.provider_payment_id}; the money must be refunded",
                webhook,
                state,
            )
        return Outcome.IGNORED
    if not intent.is_open:
        if _refundable_late(intent, state):
            return _raise_once(
                intent,
                Anomaly.Kind.SUCCESS_ON_CLOSED_INTENT,
                f"payment succeeded for an attempt that is {intent.status}, and its "
                "reservation cannot take it",
                webhook,
                state,
                refund=True,
            )
        return _raise_once(
            intent,
            Anomaly.Kind.SUCCESS_ON_CLOSED_INTENT,
            f"payment succeeded for an attempt that is {intent.status}; "
            "the money must be refunded or the booking honoured",
            webhook,
            state,
        )
    intent.transition_to(S.SUCCEEDED)
    # The payment that paid is the one to refund (an earlier one may have been declined).
    intent.provider_payment_id = state.payment_id or intent.provider_payment_id
    intent.save()
    if intent.change_id:
        applied = change_payment_landed(intent, actor=actor, webhook=webhook, now=now)
        return Outcome.APPLIED if applied else Outcome.ANOMALY
    landing = reservation_confirm_payment(
        reservation_id=intent.reservation_id,
        actor=actor,
        note=f"{intent.get_provider_display()} {state.payment_id}".strip(),
        now=now,
    )
    if landing == PaymentLanding.PAID_WITHOUT_SEATS:
        return _raise_once(
            intent,
            Anomaly.Kind.PAID_WITHOUT_SEATS,
            "paid after the hold ended, and the seats were sold meanwhile",
            webhook,
            state,
            refund=True,
        )
    if landing == PaymentLanding.ALREADY_PAID:
        return _raise_once(
            intent,
            Anomaly.Kind.PAID_TWICE,
            "the reservation was already paid by another attempt",
            webhook,
            state,
            refund=True,
        )
    return Outcome.APPLIED


def _refundable_late(intent: PaymentIntent, state: PaymentState) -> bool:
    """A success for an attempt that had ended is given back at once when its reservation
    cannot take it, and the payment is the one the attempt knows (the refund names it);
    otherwise staff decide (honour the booking, or refund)."""
    return (
        intent.change_id is None
        and bool(intent.provider_payment_id)
        and state.payment_id in ("", intent.provider_payment_id)
        and seats_gone_for(intent)
    )


def _raise_once(
    intent: PaymentIntent,
    kind: str,
    details: str,
    webhook: WebhookEvent | None,
    state: PaymentState,
    *,
    refund: bool = False,
) -> str:
    """An anomaly for the staff, once per intent, kind and provider payment: the same payment
    found again (a later notification, a reconciliation) adds nothing to their queue. With
    `refund`, the money is given back in full at once and the anomaly resolved by that refund
    (late_money: the payment is the intent's own when the provider does not name it)."""
    payment_id = state.payment_id or (intent.provider_payment_id if refund else "")
    if payment_id and intent.anomalies.filter(kind=kind, provider_payment_id=payment_id).exists():
        return Outcome.IGNORED
    anomaly = anomaly_raise(intent, kind, details, webhook, payment_id=payment_id)
    if refund:
        late_money_refund(intent, anomaly)
    return Outcome.ANOMALY


def _decline_known(intent: PaymentIntent, attempt: str) -> bool:
    return ReservationEvent.objects.filter(
        reservation_id=intent.reservation_id,
        kind="payment_declined",
        data__intent=intent.pk,
        data__attempt=attempt,
    ).exists()


def _apply_refund(intent: PaymentIntent, fact: RefundState, *, actor: Actor, now: datetime) -> str:
    """The provider's word on one refund we asked for: failed, or given back."""
    refund = intent.refunds.filter(
        Q(provider_refund_id=fact.refund_id) | Q(pk=fact.our_id or 0)
    ).first()
    if refund is None or refund.status != Refund.Status.REQUESTED:
        return Outcome.IGNORED
    if fact.failed:
        refund.status = Refund.Status.FAILED
        refund.save(update_fields=["status"])
        refund_refused(refund)
        intent.add_to_timeline("refund_failed", actor, amount=refund.amount)
        return Outcome.APPLIED
    if not fact.succeeded:
        return Outcome.IGNORED
    refund.status = Refund.Status.SUCCEEDED
    refund.confirmed_at = now
    refund.save(update_fields=["status", "confirmed_at"])
    return _apply_refunded_amount(
        intent, intent.amount_refunded + refund.amount, actor=actor, now=now
    )


def _money_kept(reservation_id: int) -> bool:
    """Some payment of the reservation is still not given back in full."""
    return PaymentIntent.objects.filter(
        reservation_id=reservation_id, status__in=(S.SUCCEEDED, S.PARTIALLY_REFUNDED)
    ).exists()


def _apply_refunded_amount(
    intent: PaymentIntent, refunded: int, *, actor: Actor, now: datetime
) -> str:
    """The provider says `refunded` in all was given back. Only ever grows; a full refund
    releases the reservation's seats."""
    if not intent.is_paid or refunded <= intent.amount_refunded:
        return Outcome.IGNORED
    intent.amount_refunded = min(refunded, intent.amount)
    intent.transition_to(
        S.REFUNDED if intent.amount_refunded == intent.amount else S.PARTIALLY_REFUNDED
    )
    intent.save()
    refunds_settle(intent, now=now)
    intent.add_to_timeline("refund_confirmed", actor, amount_refunded=intent.amount_refunded)
    if intent.status == S.REFUNDED and not _money_kept(intent.reservation_id):
        # A reservation that was never paid (paid without seats) has no seats to release;
        # one still paid by another attempt (a change's difference, the booking itself
        # after its difference was given back) keeps them.
        with contextlib.suppress(IllegalTransition):
            reservation_refund(reservation_id=intent.reservation_id, actor=actor, now=now)
    return Outcome.APPLIED
