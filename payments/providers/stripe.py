"""Stripe: Checkout Sessions for cards, and Pix for BRL. Webhooks verified by the SDK."""

from datetime import UTC, datetime, timedelta

import requests
import stripe
from django.conf import settings

from payments.credentials import StripeCredentials
from payments.models import Method, PaymentIntent, Provider, Refund
from payments.providers import payload as read
from payments.providers.base import (
    Checkout,
    CheckoutUrls,
    InvalidSignature,
    PaymentState,
    ProviderError,
    ProviderNoAnswer,
    RefundState,
    VerifiedWebhook,
    WebhookFacts,
    checkout_expiry,
)

S = PaymentIntent.Status
SIGNATURE_TOLERANCE_SECONDS = 300
# Stripe refuses a Checkout Session that expires sooner than 30 minutes from its creation
# (expires_at: "between 30 minutes and 24 hours"): one more for the call's own time.
MINIMUM_SESSION_LIFETIME = timedelta(minutes=31)


def session_state(session) -> PaymentState:
    """A Checkout Session's status as ours: paid, waiting for an asynchronous method (Pix),
    or over. With its PaymentIntent expanded, an open session also tells a declined card."""
    if session["status"] == "expired":
        status = S.EXPIRED
    elif session["status"] == "complete" and session["payment_status"] == "paid":
        status = S.SUCCEEDED
    else:
        status = S.PENDING
    payment = session.get("payment_intent") or ""
    error, charge = {}, ""
    if isinstance(payment, dict):
        if session["status"] == "open" and payment.get("status") == "requires_payment_method":
            error = payment.get("last_payment_error") or {}
            charge = error.get("charge") or payment.get("latest_charge") or ""
        payment = payment.get("id") or ""
    declined = error.get("type") == "card_error"
    return PaymentState(
        status=status,
        payment_id=payment,
        amount=session.get("amount_total"),
        currency=(session.get("currency") or "").upper(),
        declined=declined,
        detail=(error.get("message") or "") if declined else "",
        attempt=charge if declined else "",
        in_progress=status == S.PENDING and session["status"] == "complete",
    )


class BudgetedRequestsClient(stripe.RequestsClient):
    """The SDK's transport (requests) within the settings' budget: connect and read timeouts,
    and a read that timed out is not tried again (the SDK would, doubling the traveller's
    wait): Stripe may have done it, and the reconciler asks later with the same idempotency
    key. A connection that fails at once is still retried (max_network_retries)."""

    def __init__(self) -> None:
        super().__init__(
            timeout=(settings.PROVIDER_CONNECT_TIMEOUT, settings.PROVIDER_READ_TIMEOUT)
        )

    def _handle_request_error(self, e: Exception):
        try:
            super()._handle_request_error(e)
        except stripe.APIConnectionError as error:
            if isinstance(e, requests.exceptions.ReadTimeout):
                error.should_retry = False
            raise


def _failure(exc: stripe.StripeError) -> ProviderError:
    """No answer (a network error, or a 5xx whose result Stripe calls indeterminate), or a
    refusal."""
    if isinstance(exc, stripe.APIConnectionError) or (
        isinstance(exc, stripe.APIError) and (exc.http_status or 500) >= 500
    ):
        return ProviderNoAnswer(str(exc))
    return ProviderError(str(exc))


def _checkout(session) -> Checkout:
    session = session.to_dict()
    expires_at = session.get("expires_at")
    return Checkout(
        reference=session["id"],
        url=session.get("url") or "",
        expires_at=datetime.fromtimestamp(expires_at, UTC) if expires_at else None,
    )


class StripeProvider:
    name = Provider.STRIPE

    def __init__(self, credentials: StripeCredentials):
        self.credentials = credentials
        self.client = stripe.StripeClient(
            credentials.secret_key,
            base_addresses={"api": settings.STRIPE_API_BASE},
            http_client=BudgetedRequestsClient(),
            max_network_retries=settings.PROVIDER_MAX_RETRIES,
        )

    def checkout_request(self, intent: PaymentIntent, urls: CheckoutUrls) -> dict:
        reservation = intent.reservation
        metadata = {"intent_id": str(intent.pk), "reservation": reservation.code}
        expires_at = checkout_expiry(
            intent, minimum=MINIMUM_SESSION_LIFETIME, fallback=MINIMUM_SESSION_LIFETIME
        )
        return {
            "mode": "payment",
            "payment_method_types": ["pix" if intent.method == Method.PIX else "card"],
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": intent.currency.lower(),
                        "unit_amount": intent.amount,
                        "product_data": {"name": reservation.activity_name()},
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
        }

    def create_checkout(self, intent: PaymentIntent) -> Checkout:
        try:
            return _checkout(self._create_session(intent))
        except stripe.StripeError as exc:
            raise _failure(exc) from exc

    def _create_session(self, intent: PaymentIntent):
        return self.client.v1.checkout.sessions.create(
            params=intent.provider_request,
            options={"idempotency_key": str(intent.idempotency_key)},
        )

    def find_checkout(self, intent: PaymentIntent) -> Checkout | None:
        """The same create call again, with the same parameters and idempotency key: Stripe
        answers with the session the first call made (it keeps the answer of any call it
        began for 24 hours). A request it refuses now was never carried out, since then it
        would have replayed that call's answer: no session was made."""
        if not intent.provider_request:
            raise ProviderError(f"intent {intent.pk} kept no request to repeat")
        try:
            return _checkout(self._create_session(intent))
        except stripe.InvalidRequestError:
            return None
        except stripe.StripeError as exc:
            raise _failure(exc) from exc

    def fetch_state(self, intent: PaymentIntent) -> PaymentState:
        try:
            session = self.client.v1.checkout.sessions.retrieve(
                intent.provider_reference, params={"expand": ["payment_intent"]}
            )
        except stripe.StripeError as exc:
            raise _failure(exc) from exc
        return session_state(session.to_dict())

    def cancel_checkout(self, intent: PaymentIntent) -> None:
        """Expire an open session, so a traveller who chose again cannot pay twice."""
        try:
            self.client.v1.checkout.sessions.expire(intent.provider_reference)
        except stripe.InvalidRequestError:
            pass  # already complete or expired: the webhook tells which
        except stripe.StripeError as exc:
            raise _failure(exc) from exc

    def refund(self, intent: PaymentIntent, refund: Refund) -> RefundState:
        """Carries the refund's own idempotency key: asking again (after no answer) never
        refunds twice."""
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
            raise _failure(exc) from exc
        return RefundState(
            refund_id=result.id,
            succeeded=result.status == "succeeded",
            failed=result.status in ("failed", "canceled"),
        )

    def verify_webhook(self, body: bytes, headers, query) -> VerifiedWebhook:
        """Any of the operator's webhook secrets (two during a rotation), 300 s tolerance; then
        the event's envelope: an object with an id, a type and `data.object`."""
        header = headers.get("Stripe-Signature", "")
        for secret in self.credentials.webhook_secrets:
            try:
                stripe.WebhookSignature.verify_header(
                    body.decode(), header, secret, tolerance=SIGNATURE_TOLERANCE_SECONDS
                )
            except (stripe.SignatureVerificationError, ValueError):
                continue
            break
        else:
            raise InvalidSignature("no valid Stripe signature for this operator")
        payload = read.json_object(body)
        event_id = read.text(payload, "id", pattern=read.OBJECT_ID)
        event_type = read.text(payload, "type")
        read.mapping(read.mapping(payload, "data"), "object")
        return VerifiedWebhook(
            event_id=event_id, event_type=event_type, raw_body=body.decode(), payload=payload
        )

    def webhook_facts(self, webhook: VerifiedWebhook) -> WebhookFacts:
        """The event carries its object as it was when the event happened; with the intent's
        one-way state machine, that decides out-of-order deliveries correctly. The intent is
        found by the object's id that it stored; the metadata only has to agree."""
        event_type = webhook.event_type
        obj = webhook.payload["data"]["object"]
        if event_type.startswith("checkout.session."):
            session = _read_session(obj)
            state = session_state(session)
            if event_type == "checkout.session.async_payment_failed":
                state = PaymentState(
                    status=S.FAILED, payment_id=state.payment_id, detail="async payment failed"
                )
            return WebhookFacts(
                event_id=webhook.event_id,
                intent_hint=_metadata_id(obj, "intent_id"),
                reference=session["id"],
                state=state,
            )
        if event_type == "payment_intent.payment_failed":
            payment_id = read.text(obj, "id", pattern=read.OBJECT_ID)
            hint = _metadata_id(obj, "intent_id")
            error = read.mapping(obj, "last_payment_error", required=False) or {}
            attempt = read.text(error, "charge", pattern=read.OBJECT_ID, required=False)
            attempt = attempt or read.text(
                obj, "latest_charge", pattern=read.OBJECT_ID, required=False
            )
            return WebhookFacts(
                event_id=webhook.event_id,
                intent_hint=hint,
                # A PaymentIntent is made when the traveller pays, after our intent stored
                # its Checkout Session: Stripe says which session it belongs to.
                reference=self._session_of(payment_id),
                payment_id=payment_id,
                state=PaymentState(
                    status=S.FAILED,
                    payment_id=payment_id,
                    declined=True,
                    detail=read.message(error, "message") or "card declined",
                    attempt=attempt or "",
                ),
            )
        if event_type in ("refund.created", "refund.updated"):
            status = read.text(obj, "status")
            refunded = read.text(obj, "payment_intent", pattern=read.OBJECT_ID, required=False)
            return WebhookFacts(
                event_id=webhook.event_id,
                intent_hint=_metadata_id(obj, "intent_id"),
                payment_id=refunded or "",
                refund=RefundState(
                    refund_id=read.text(obj, "id", pattern=read.OBJECT_ID),
                    succeeded=status == "succeeded",
                    failed=status in ("failed", "canceled"),
                    our_id=_metadata_id(obj, "refund_id"),
                ),
            )
        return WebhookFacts(event_id=webhook.event_id)

    def _session_of(self, payment_intent_id: str) -> str:
        """The Checkout Session that made a PaymentIntent, as Stripe's API says ("" for
        none: a PaymentIntent made elsewhere on the account)."""
        try:
            found = self.client.v1.checkout.sessions.list(
                params={"payment_intent": payment_intent_id, "limit": 1}
            )
        except stripe.InvalidRequestError:
            return ""
        except stripe.StripeError as exc:
            raise _failure(exc) from exc
        return found.data[0].id if found.data else ""


def _metadata_id(obj: dict, key: str) -> int | None:
    return read.our_id(read.mapping(obj, "metadata", required=False), key)


def _read_session(obj: dict) -> dict:
    """A Checkout Session as an event carries it, with the fields `session_state` reads."""
    read.text(obj, "id", pattern=read.OBJECT_ID)
    read.text(obj, "status")
    read.text(obj, "payment_status")
    read.text(obj, "payment_intent", pattern=read.OBJECT_ID, required=False)
    read.integer(obj, "amount_total", required=False)
    read.text(obj, "currency", pattern=read.CURRENCY, required=False)
    return obj
