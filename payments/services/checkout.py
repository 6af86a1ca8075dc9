"""A traveller starts paying: an attempt (intent) opened at the provider for a held
reservation. Provider calls are made outside any lock."""

from django.db import transaction

from booking.errors import BookingError
from booking.models import Reservation
from payments.models import PaymentIntent
from payments.providers import provider_for
from payments.providers.base import CheckoutUrls, ProviderError, ProviderNoAnswer
from tenants.actors import TRAVELLER, Actor, actor_require

S = PaymentIntent.Status


class PaymentNotPossible(BookingError):
    pass


def payment_start(
    *, reservation: Reservation, provider: str, method: str, urls: CheckoutUrls, actor: Actor
) -> PaymentIntent:
    """Open a payment attempt at the provider for a held reservation and return it, with the
    checkout URL or the Pix code to show. Earlier open attempts are cancelled at their
    provider first, so the traveller cannot pay twice. Any traveller with the reservation's
    code may pay it (a payment link can be passed on); the code is unguessable.

    The intent row, with what the create call will send, is committed before the call (which
    carries the intent's own idempotency key), then updated under its lock. A call the
    provider refused fails the intent. One it did not answer leaves the intent open
    (`created`, no provider reference): the provider may have made the checkout, though nobody
    was sent to it; the reconciler makes the same call again to learn which, and ends it.
    Raises PaymentNotPossible, ProviderError (ProviderNoAnswer when it did not answer).
    """
    actor_require(actor, TRAVELLER)
    if reservation.status != Reservation.Status.HELD or reservation.hold_has_lapsed():
        raise PaymentNotPossible()
    for earlier in reservation.payment_intents.open():
        if earlier.provider_reference:
            provider_for(earlier.provider).cancel_checkout(earlier)

    gateway = provider_for(provider)
    with transaction.atomic():
        intent = PaymentIntent.objects.create(
            reservation=reservation,
            provider=provider,
            method=method,
            amount=reservation.total_amount,
            currency=reservation.currency,
        )
        intent.provider_request = gateway.checkout_request(intent, urls)
        intent.save(update_fields=["provider_request"])
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
