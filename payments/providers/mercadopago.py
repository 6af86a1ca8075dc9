"""Mercado Pago: Checkout Pro preferences, and Pix through the Payments API. Notifications
carry only an id: verified with the SDK's validator, then the payment is fetched."""

import re
from datetime import timedelta

import mercadopago
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from mercadopago.config import RequestOptions
from mercadopago.errors.exceptions import MercadoPagoError
from mercadopago.http import HttpClient
from mercadopago.webhook import InvalidWebhookSignatureError, WebhookSignatureValidator

from booking.money import to_major, to_minor
from payments.credentials import MercadoPagoCredentials
from payments.models import Method, PaymentIntent, Provider, Refund
from payments.providers import payload as read
from payments.providers.base import (
    Checkout,
    CheckoutUrls,
    InvalidSignature,
    MalformedWebhook,
    PaymentState,
    ProviderError,
    RefundState,
    VerifiedWebhook,
    WebhookFacts,
)

S = PaymentIntent.Status
MP_API = "https://api.mercadopago.com"
SIGNATURE_TOLERANCE_SECONDS = 300
PIX_LIFETIME = timedelta(minutes=30)
# Mercado Pago's payment ids are numbers; a signed data.id that is not one is never fetched.
PAYMENT_ID = re.compile(r"[0-9]{1,20}")
KEY_PART = re.compile(r"[^A-Za-z0-9_.:+\-]")
# What a call to Mercado Pago raises when it did not get an answer we can use.
UNREACHABLE = (OSError, MercadoPagoError)


class ConfiguredHttpClient(HttpClient):
    """The SDK has no base-URL option: requests go to MERCADOPAGO_API_BASE."""

    def request(self, method, url, *args, **kwargs):
        if url.startswith(MP_API) and settings.MERCADOPAGO_API_BASE != MP_API:
            url = settings.MERCADOPAGO_API_BASE.rstrip("/") + url[len(MP_API) :]
        return super().request(method, url, *args, **kwargs)


def external_reference(intent: PaymentIntent) -> str:
    return f"{connection.schema_name}:{intent.pk}"


def intent_id_from_reference(reference: object) -> int | None:
    """Only references made for this operator's schema are ours."""
    schema, _, intent_id = (reference if isinstance(reference, str) else "").rpartition(":")
    ours = schema == connection.schema_name and read.OUR_ID.fullmatch(intent_id)
    return int(intent_id) if ours else None


def payment_state(payment: dict) -> PaymentState:
    status = payment.get("status")
    currency = payment.get("currency_id") or ""
    refunded = to_minor(payment.get("transaction_amount_refunded") or 0, currency or "BRL")
    declined = False
    if status == "approved":
        target = S.PARTIALLY_REFUNDED if refunded else S.SUCCEEDED
    elif status in ("refunded", "charged_back"):
        target = S.REFUNDED
    elif status == "rejected":
        target, declined = S.FAILED, True
    elif status == "cancelled":
        target = S.EXPIRED if payment.get("status_detail") == "expired" else S.CANCELLED
    else:  # pending, in_process, authorized
        target = S.PENDING
    return PaymentState(
        status=target,
        payment_id=str(payment.get("id") or ""),
        amount=to_minor(payment["transaction_amount"], currency) if currency else None,
        currency=currency,
        amount_refunded=refunded,
        declined=declined,
        detail=payment.get("status_detail") or "",
        attempt=str(payment.get("id") or ""),
    )


class MercadoPagoProvider:
    name = Provider.MERCADOPAGO

    def __init__(self, credentials: MercadoPagoCredentials):
        self.credentials = credentials
        self.sdk = mercadopago.SDK(credentials.access_token, http_client=ConfiguredHttpClient())

    @staticmethod
    def _options(key) -> RequestOptions:
        return RequestOptions(custom_headers={"x-idempotency-key": str(key)})

    @staticmethod
    def _ok(result) -> dict:
        if not 200 <= result["status"] < 300:
            raise ProviderError(f"Mercado Pago answered {result['status']}: {result['response']}")
        return result["response"]

    def create_checkout(self, intent: PaymentIntent, urls: CheckoutUrls) -> Checkout:
        reservation = intent.reservation
        amount = float(to_major(intent.amount, intent.currency))
        expires_at = timezone.now() + PIX_LIFETIME
        try:
            if intent.method == Method.PIX:
                payment = self._ok(
                    self.sdk.payment().create(
                        {
                            "transaction_amount": amount,
                            "description": reservation.slot.activity.name,
                            "payment_method_id": "pix",
                            "payer": {"email": reservation.contact_email},
                            "external_reference": external_reference(intent),
                            "notification_url": urls.notification,
                            "date_of_expiration": expires_at.isoformat(timespec="milliseconds"),
                        },
                        self._options(intent.idempotency_key),
                    )
                )
                data = payment["point_of_interaction"]["transaction_data"]
                return Checkout(
                    reference=str(payment["id"]),
                    payment_id=str(payment["id"]),
                    url=data.get("ticket_url", ""),
                    pix_code=data["qr_code"],
                    pix_qr_base64=data.get("qr_code_base64", ""),
                    expires_at=parse_datetime(payment.get("date_of_expiration") or "")
                    or expires_at,
                )
            preference = self._ok(
                self.sdk.preference().create(
                    {
                        "items": [
                            {
                                "id": reservation.code,
                                "title": reservation.slot.activity.name,
                                "quantity": 1,
                                "unit_price": amount,
                                "currency_id": intent.currency,
                            }
                        ],
                        "payer": {"email": reservation.contact_email},
                        "external_reference": external_reference(intent),
                        "notification_url": urls.notification,
                        "back_urls": {
                            "success": urls.success,
                            "failure": urls.cancel,
                            "pending": urls.success,
                        },
                        "auto_return": "approved",
                        "expires": True,
                        "expiration_date_to": expires_at.isoformat(timespec="milliseconds"),
                    },
                    self._options(intent.idempotency_key),
                )
            )
        except UNREACHABLE as exc:
            raise ProviderError(str(exc)) from exc
        return Checkout(
            reference=preference["id"], url=preference["init_point"], expires_at=expires_at
        )

    def _payment(self, payment_id: str) -> dict:
        try:
            return self._ok(self.sdk.payment().get(payment_id))
        except UNREACHABLE as exc:
            raise ProviderError(str(exc)) from exc

    def fetch_state(self, intent: PaymentIntent) -> PaymentState:
        if intent.provider_payment_id:
            return payment_state(self._payment(intent.provider_payment_id))
        try:
            found = self._ok(
                self.sdk.payment().search(
                    {
                        "external_reference": external_reference(intent),
                        "sort": "date_created",
                        "criteria": "desc",
                    }
                )
            )
        except UNREACHABLE as exc:
            raise ProviderError(str(exc)) from exc
        payments = found.get("results") or []
        approved = [p for p in payments if p.get("status") in ("approved", "refunded")]
        if approved or payments:
            return payment_state((approved or payments)[0])
        expired = intent.expires_at is not None and intent.expires_at < timezone.now()
        return PaymentState(status=S.EXPIRED if expired else S.PENDING)

    def cancel_checkout(self, intent: PaymentIntent) -> None:
        """Preferences cannot be withdrawn; they expire on their own."""

    def refund(self, intent: PaymentIntent, refund: Refund) -> RefundState:
        try:
            result = self._ok(
                self.sdk.refund().create(
                    intent.provider_payment_id,
                    {"amount": float(to_major(refund.amount, intent.currency))},
                    self._options(refund.idempotency_key),
                )
            )
        except UNREACHABLE as exc:
            raise ProviderError(str(exc)) from exc
        return RefundState(
            refund_id=str(result["id"]),
            succeeded=result.get("status") == "approved",
            failed=result.get("status") == "rejected",
        )

    def verify_webhook(self, body: bytes, headers, query) -> VerifiedWebhook:
        """x-signature over `id:<data.id>;request-id:<x-request-id>;ts:<ts>;`. Nothing else is
        signed: the body is read only where it agrees with the signed data.id, and never
        names the notification (see `webhook_facts`)."""
        data_id = query.get("data.id")
        try:
            WebhookSignatureValidator.validate(
                headers.get("x-signature"),
                headers.get("x-request-id"),
                data_id,
                self.credentials.webhook_secret,
                tolerance_seconds=SIGNATURE_TOLERANCE_SECONDS,
            )
        except InvalidWebhookSignatureError as exc:
            raise InvalidSignature(str(exc)) from exc
        if not data_id:
            raise InvalidSignature("no data.id was signed")
        payload = read.json_object(body)
        body_id = read.mapping(payload, "data").get("id")
        if isinstance(body_id, bool) or not isinstance(body_id, str | int):
            raise MalformedWebhook("the body's data.id is missing")
        if str(body_id) != data_id:
            raise MalformedWebhook("the body's data.id is not the signed one")
        topic = read.text(payload, "type", required=False)
        if topic == "payment" and not PAYMENT_ID.fullmatch(data_id):
            raise MalformedWebhook("the signed data.id is not a payment id")
        return VerifiedWebhook(
            event_id="",
            event_type=read.text(payload, "action", required=False) or topic or "unknown",
            raw_body=body.decode(),
            payload=payload,
        )

    def webhook_facts(self, webhook: VerifiedWebhook) -> WebhookFacts:
        """Only the payment itself, fetched from the API, is trusted: its state (only
        `approved` means paid), which of our intents it belongs to (its external_reference)
        and the key the notification is recorded by: the payment's id with its status, amount
        refunded and last update. The same state told again, by a redelivery or by a replay
        with another body, is the same record; a new state is a new one."""
        if webhook.payload.get("type") != "payment":
            return WebhookFacts()  # we only ask for payments' notifications: nothing to record
        payment_id = str(webhook.payload["data"]["id"])
        payment = self._payment(payment_id)
        try:
            if str(payment["id"]) != payment_id:
                raise ProviderError(f"asked for payment {payment_id}, got {payment['id']}")
            state = payment_state(payment)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise ProviderError(f"Mercado Pago answered an unreadable payment: {exc!r}") from exc
        return WebhookFacts(
            event_id=notification_key(payment, state),
            intent_id=intent_id_from_reference(payment.get("external_reference")),
            payment_id=state.payment_id,
            state=state,
        )


def notification_key(payment: dict, state: PaymentState) -> str:
    """payment:<id>:<status>:<refunded in minor units>:<date_last_updated>, as the API says."""
    parts = [
        str(payment["id"]),
        str(payment.get("status") or ""),
        str(state.amount_refunded),
        str(payment.get("date_last_updated") or ""),
    ]
    return ":".join(["payment", *(KEY_PART.sub("", part)[:60] for part in parts)])
