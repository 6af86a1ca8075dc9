"""A traveller starts paying: an attempt (intent) opened at the provider for a held
reservation. Provider calls are made outside any lock."""

from django.db import transaction
from django.utils import timezone

from booking.errors import BookingError, IllegalTransition
from booking.models import Reservation, ReservationChange
from booking.services import reservation_extend_hold
from payments.models import PaymentIntent
from payments.providers import provider_for
from payments.providers.base import CheckoutUrls, ProviderError, ProviderNoAnswer
from tenants.actors import TRAVELLER, Actor, actor_require

S = PaymentIntent.Status


class PaymentNotPossible(BookingError):
    pass


def payment_start(
    *,
    reservation: Reservation,
    provider: str,
    method: str,
    urls: CheckoutUrls,
    actor: Actor,
    change: ReservationChange | None = None,
) -> PaymentIntent:
    """Open a payment attempt at the provider for a held reservation, or for the difference
    of a paid reservation's pending `change`, and return it, with the checkout URL or the
    Pix code to show. Earlier open attempts for the same thing are cancelled at their
    provider, so the traveller cannot pay twice (for a change, once the new attempt is
    recorded: its earlier attempt's cancellation must not drop the change). Any traveller
    with the reservation's code may pay it (a payment link can be passed on); the code is
    unguessable. A held reservation's hold is first extended to cover the provider's checkout
    (booking.services.reservation_extend_hold: the operator's `payment_minutes`).

    The intent row, with what the create call will send, is committed before the call (which
    carries the intent's own idempotency key), then updated under its lock. A call the
    provider refused fails the intent. One it did not answer leaves the intent open
    (`created`, no provider reference): the provider may have made the checkout, though nobody
    was sent to it; the reconciler makes the same call again to learn which, and ends it.
    Raises PaymentNotPossible, ProviderError (ProviderNoAnswer when it did not answer).
    """
    actor_require(actor, TRAVELLER)
    if change is None:
        try:
            reservation = reservation_extend_hold(reservation_id=reservation.pk, actor=actor)
        except IllegalTransition as exc:
            raise PaymentNotPossible() from exc
        _cancel_open(reservation.payment_intents.open())
        earlier = []
    else:
        if not _change_payable(reservation, change):
            raise PaymentNotPossible()
        earlier = list(change.payment_intents.open())
    gateway = provider_for(provider)
    with transaction.atomic():
        intent = PaymentIntent.objects.create(
            reservation=reservation,
            change=change,
            provider=provider,
            method=method,
            amount=change.difference if change else reservation.total_amount,
            currency=reservation.currency,
        )
        intent.provider_request = gateway.checkout_request(intent, urls)
        intent.save(update_fields=["provider_request"])
    _cancel_open(earlier)
    try:
        checkout = gateway.create_checkout(intent)
    except ProviderNoAnswer as exc:
        intent.add_to_timeline("payment_start_unanswered", "system", note=str(exc)[:500])
        raise
    except ProviderError:
        with transaction.atomic():
            intent = PaymentIntent.objects.locked().get(pk=intent.pk)
            intent.transition_to(S.FAILED)
            intent.save(update_fields=["status", "updated_at"])
            intent.add_to_timeline("payment_start_failed", "system")
        raise
    with transaction.atomic():
        intent = PaymentIntent.objects.locked().get(pk=intent.pk)
        intent.provider_reference = checkout.reference
        intent.provider_payment_id = intent.provider_payment_id or checkout.payment_id
        intent.checkout_url = checkout.url
        intent.pix_code = checkout.pix_code
        intent.pix_qr_base64 = checkout.pix_qr_base64
        intent.expires_at = checkout.expires_at
        if intent.status == S.CREATED:
            intent.transition_to(S.PENDING)
        intent.save()
        intent.add_to_timeline("payment_started", actor, method=method)
    return intent


def _cancel_open(intents) -> None:
    for earlier in intents:
        if earlier.provider_reference:
            provider_for(earlier.provider).cancel_checkout(earlier)


def _change_payable(reservation: Reservation, change: ReservationChange) -> bool:
    return (
        change.reservation_id == reservation.pk
        and change.status == ReservationChange.Status.PENDING
        and change.expires_at > timezone.now()
        and change.difference > 0
        and reservation.status == Reservation.Status.PAID
    )
