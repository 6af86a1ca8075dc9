"""Stripe: Checkout Sessions for cards, and Pix for BRL. Webhooks verified by the SDK."""

import json
from datetime import timedelta

import stripe
from django.conf import settings
from django.utils import timezone

from payments.credentials import StripeCredentials
from payments.models import Method, PaymentIntent, Provider, Refund
from payments.providers.base import (
    Checkout,
    CheckoutUrls,
    InvalidSignature,
    PaymentState,
    ProviderError,
    RefundState,
    VerifiedWebhook,
    WebhookFacts,
)

S = PaymentIntent.Status
SIGNATURE_TOLERANCE_SECONDS = 300
# Stripe refuses a Checkout Session that expires sooner than this.
MINIMUM_SESSION_LIFETIME = timedelta(minutes=31)


def session_state(session) -> PaymentState:
    """A Checkout Session's status as ours: paid, waiting for an asynchronous method (Pix),
    or over."""
    if session["status"] == "expired":
        status = S.EXPIRED
    elif session["status"] == "complete" and session["payment_status"] == "paid":
        status = S.SUCCEEDED
    else:
        status = S.PENDING
    return PaymentState(
        status=status,
        payment_id=session.get("payment_intent") or "",
        amount=session.get("amount_total"),
        currency=(session.get("currency") or "").upper(),
    )


class StripeProvider:
    name = Provider.STRIPE

    def __init__(self, credentials: StripeCredentials):
        self.credentials = credentials
        self.client = stripe.StripeClient(
            credentials.secret_key,
            base_addresses={"api": settings.STRIPE_API_BASE},
            max_network_retries=2,
        )

    def create_checkout(self, intent: PaymentIntent, urls: CheckoutUrls) -> Checkout:
        reservation = intent.reservation
        metadata = {"intent_id": str(intent.pk), "reservation": reservation.code}
        expires_at = timezone.now() + MINIMUM_SESSION_LIFETIME
        try:
            session = self.client.v1.checkout.sessions.create(
                params={
                    "mode": "payment",
                    "payment_method_types": ["pix" if intent.method == Method.PIX else "card"],
                    "line_items": [
                        {
                            "quantity": 1,
                            "price_data": {
                                "currency": intent.currency.lower(),
                                "unit_amount": intent.amount,
                                "product_data": {"name": reservation.slot.activity.name},
                            },
                        }
                    ],
                    "client_reference_id": reservation.code,
                    "customer_email": reservation.contact_email,
                    "metadata": metadata,
                    "payment_intent_data": {"metadata": metadata},
                    "success_url": urls.success + "?session_id={CHECKOUT_SESSION_ID}",
                    "cancel_url": urls.cancel,
                    "expires_at": int(expires_at.timestamp()),
                },
                options={"idempotency_key": str(intent.idempotency_key)},
            )
        except stripe.StripeError as exc:
            raise ProviderError(str(exc)) from exc
        return Checkout(reference=session.id, url=session.url, expires_at=expires_at)

    def fetch_state(self, intent: PaymentIntent) -> PaymentState:
        try:
            session = self.client.v1.checkout.sessions.retrieve(intent.provider_reference)
        except stripe.StripeError as exc:
            raise ProviderError(str(exc)) from exc
        return session_state(session.to_dict())

    def cancel_checkout(self, intent: PaymentIntent) -> None:
        """Expire an open session, so a traveller who chose again cannot pay twice."""
        try:
            self.client.v1.checkout.sessions.expire(intent.provider_reference)
        except stripe.InvalidRequestError:
            pass  # already complete or expired: the webhook tells which
        except stripe.StripeError as exc:
            raise ProviderError(str(exc)) from exc

    def refund(self, intent: PaymentIntent, refund: Refund) -> RefundState:
        try:
            result = self.client.v1.refunds.create(
                params={
                    "payment_intent": intent.provider_payment_id,
                    "amount": refund.amount,
                    "metadata": {"refund_id": str(refund.pk), "intent_id": str(intent.pk)},
                },
                options={"idempotency_key": str(refund.idempotency_key)},
            )
        except stripe.StripeError as exc:
            raise ProviderError(str(exc)) from exc
        return RefundState(
            refund_id=result.id,
            succeeded=result.status == "succeeded",
            failed=result.status in ("failed", "canceled"),
        )

    def verify_webhook(self, body: bytes, headers, query) -> VerifiedWebhook:
        """Any of the operator's webhook secrets (two during a rotation), 300 s tolerance."""
        header = headers.get("Stripe-Signature", "")
        for secret in self.credentials.webhook_secrets:
            try:
                stripe.WebhookSignature.verify_header(
                    body.decode(), header, secret, tolerance=SIGNATURE_TOLERANCE_SECONDS
                )
                payload = json.loads(body)
            except (stripe.SignatureVerificationError, ValueError):
                continue
            return VerifiedWebhook(
                event_id=payload["id"],
                event_type=payload["type"],
                raw_body=body.decode(),
                payload=payload,
            )
        raise InvalidSignature("no valid Stripe signature for this operator")

    def webhook_facts(self, webhook: VerifiedWebhook) -> WebhookFacts:
        """The event carries its object as it was when the event happened; with the intent's
        one-way state machine, that decides out-of-order deliveries correctly."""
        event_type = webhook.event_type
        obj = webhook.payload["data"]["object"]
        metadata = obj.get("metadata") or {}
        intent_id = int(metadata["intent_id"]) if metadata.get("intent_id") else None
        if event_type.startswith("checkout.session."):
            state = session_state(obj)
            if event_type == "checkout.session.async_payment_failed":
                state = PaymentState(
                    status=S.FAILED, payment_id=state.payment_id, detail="async payment failed"
                )
            return WebhookFacts(intent_id=intent_id, reference=obj["id"], state=state)
        if event_type == "payment_intent.payment_failed":
            error = (obj.get("last_payment_error") or {}).get("message", "")
            return WebhookFacts(
                intent_id=intent_id,
                payment_id=obj["id"],
                state=PaymentState(
                    status=S.FAILED,
                    payment_id=obj["id"],
                    declined=True,
                    detail=error or "card declined",
                ),
            )
        if event_type in ("refund.created", "refund.updated"):
            return WebhookFacts(
                intent_id=intent_id,
                payment_id=obj.get("payment_intent") or "",
                refund=RefundState(
                    refund_id=obj["id"],
                    succeeded=obj["status"] == "succeeded",
                    failed=obj["status"] in ("failed", "canceled"),
                    our_id=int(metadata["refund_id"]) if metadata.get("refund_id") else None,
                ),
            )
        return WebhookFacts()
