"""A traveller starts paying: an attempt (intent) opened at the provider for a held
reservation. Provider calls are made outside any lock."""

from django.db import transaction

from booking.errors import BookingError
from booking.models import Reservation
from payments.models import PaymentIntent
from payments.providers import provider_for
from payments.providers.base import CheckoutUrls, ProviderError
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

    The intent row is committed before the provider call (which carries the intent's own
    idempotency key), then updated under its lock.
    Raises PaymentNotPossible, ProviderError.
    """
    actor_require(actor, TRAVELLER)
    if reservation.status != Reservation.Status.HELD or reservation.hold_has_lapsed():
        raise PaymentNotPossible()
    for earlier in reservation.payment_intents.open():
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
