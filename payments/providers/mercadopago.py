"""Mercado Pago: Checkout Pro preferences, and Pix through the Payments API. Notifications
carry only an id: verified with the SDK's validator, then the payment is fetched."""

import re
from datetime import timedelta

import mercadopago
import requests
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from mercadopago.config import RequestOptions
from mercadopago.config.defaults import DEFAULT_RETRY_ON
from mercadopago.http import HttpClient
from mercadopago.webhook import InvalidWebhookSignatureError, WebhookSignatureValidator
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

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
    ProviderNoAnswer,
    RefundState,
    VerifiedWebhook,
    WebhookFacts,
    checkout_expiry,
)

S = PaymentIntent.Status
MP_API = "https://api.mercadopago.com"
SIGNATURE_TOLERANCE_SECONDS = 300
# Mercado Pago takes a Pix payment's date_of_expiration from 30 minutes to 30 days ahead; a
# preference's expiration_date_to has no minimum. Both end with the hold (else at PIX_LIFETIME).
PIX_LIFETIME = timedelta(minutes=30)
# Mercado Pago's payment ids are numbers; a signed data.id that is not one is never fetched.
PAYMENT_ID = re.compile(r"[0-9]{1,20}")
KEY_PART = re.compile(r"[^A-Za-z0-9_.:+\-]")
# What a call to Mercado Pago raises when no answer came: requests' errors are OSErrors
# (timeouts, connections refused or dropped).
NO_ANSWER = OSError


class BudgetedHttpClient(HttpClient):
    """The SDK's transport, to MERCADOPAGO_API_BASE (the SDK has no base-URL option) and
    within the settings' budget, whatever the call's RequestOptions say (their default is
    60 s, and 3 retries that urllib3 makes after read timeouts too, on GETs): connect and
    read timeouts, a connection that fails at once tried again, a read that timed out never
    (Mercado Pago may have done it; the reconciler asks later), no waiting on Retry-After.
    Answers as the SDK's own client does: {"status": ..., "response": parsed JSON or None}."""

    def request(self, method, url, maxretries=None, retry_on=None, backoff_factor=None, **kwargs):
        if url.startswith(MP_API) and settings.MERCADOPAGO_API_BASE != MP_API:
            url = settings.MERCADOPAGO_API_BASE.rstrip("/") + url[len(MP_API) :]
        kwargs["timeout"] = (settings.PROVIDER_CONNECT_TIMEOUT, settings.PROVIDER_READ_TIMEOUT)
        retry = Retry(
            total=settings.PROVIDER_MAX_RETRIES,
            read=False,
            status_forcelist=DEFAULT_RETRY_ON,
            respect_retry_after_header=False,
            raise_on_status=False,
        )
        with requests.Session() as session:
            adapter = HTTPAdapter(max_retries=retry)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            answer = session.request(method, url, **kwargs)
        try:
            body = answer.json() if answer.status_code != 204 and answer.content else None
        except ValueError:
            body = None  # a proxy's error page, say: the status tells the caller
        return {"status": answer.status_code, "response": body}


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
        in_progress=target == S.PENDING and _in_progress(payment),
    )


def _in_progress(payment: dict) -> bool:
    """Under review or being processed; a pending Pix (or ticket) waits for the payer."""
    waits_for_payer = payment.get("payment_method_id") == "pix" or payment.get(
        "payment_type_id"
    ) in ("bank_transfer", "ticket", "atm")
    return payment.get("status") in ("in_process", "authorized") or (
        payment.get("status") == "pending" and not waits_for_payer
    )


class MercadoPagoProvider:
    name = Provider.MERCADOPAGO

    def __init__(self, credentials: MercadoPagoCredentials):
        self.credentials = credentials
        self.sdk = mercadopago.SDK(credentials.access_token, http_client=BudgetedHttpClient())

    @staticmethod
    def _options(key) -> RequestOptions:
        return RequestOptions(custom_headers={"x-idempotency-key": str(key)})

    @staticmethod
    def _send(make_call) -> dict:
        """The SDK's {"status", "response"}; ProviderNoAnswer for none, or a server error."""
        try:
            result = make_call()
        except NO_ANSWER as exc:
            raise ProviderNoAnswer(str(exc)) from exc
        if result["status"] >= 500:
            raise ProviderNoAnswer(f"Mercado Pago answered {result['status']}")
        return result

    def _call(self, make_call) -> dict:
        """The answer's body: ProviderError for a refusal, ProviderNoAnswer for no usable
        answer (none, a server error, a success we cannot read)."""
        result = self._send(make_call)
        status, body = result["status"], result["response"]
        if not 200 <= status < 300:
            raise ProviderError(f"Mercado Pago answered {status}: {body}")
        if not isinstance(body, dict):
            raise ProviderNoAnswer(f"Mercado Pago answered {status} without a readable body")
        return body

    def checkout_request(self, intent: PaymentIntent, urls: CheckoutUrls) -> dict:
        """A Pix payment, or a Checkout Pro preference."""
        reservation = intent.reservation
        amount = float(to_major(intent.amount, intent.currency))
        minimum = PIX_LIFETIME if intent.method == Method.PIX else timedelta(0)
        expires_at = checkout_expiry(intent, minimum=minimum, fallback=PIX_LIFETIME).isoformat(
            timespec="milliseconds"
        )
        if intent.method == Method.PIX:
            return {
                "transaction_amount": amount,
                "description": reservation.activity_name(),
                "payment_method_id": "pix",
                "payer": {"email": reservation.contact_email},
                "external_reference": external_reference(intent),
                "notification_url": urls.notification,
                "date_of_expiration": expires_at,
            }
        return {
            "items": [
                {
                    "id": reservation.code,
                    "title": reservation.activity_name(),
                    "quantity": 1,
                    "unit_price": amount,
                    "currency_id": intent.currency,
                }
            ],
            "payer": {"email": reservation.contact_email},
            "external_reference": external_reference(intent),
            "notification_url": urls.notification,
            "back_urls": {"success": urls.success, "failure": urls.cancel, "pending": urls.success},
            "auto_return": "approved",
            "expires": True,
            "expiration_date_to": expires_at,
        }

    def create_checkout(self, intent: PaymentIntent) -> Checkout:
        body, options = intent.provider_request, self._options(intent.idempotency_key)
        if intent.method == Method.PIX:
            payment = self._call(lambda: self.sdk.payment().create(body, options))
            try:
                data = payment["point_of_interaction"]["transaction_data"]
                return Checkout(
                    reference=str(payment["id"]),
                    payment_id=str(payment["id"]),
                    url=data.get("ticket_url", ""),
                    pix_code=data["qr_code"],
                    pix_qr_base64=data.get("qr_code_base64", ""),
                    expires_at=parse_datetime(payment.get("date_of_expiration") or "")
                    or parse_datetime(body["date_of_expiration"]),
                )
            except (KeyError, TypeError) as exc:  # made, but we cannot tell what
                raise ProviderNoAnswer(f"unreadable Pix payment: {exc!r}") from exc
        preference = self._call(lambda: self.sdk.preference().create(body, options))
        try:
            return Checkout(
                reference=preference["id"],
                url=preference["init_point"],
                expires_at=parse_datetime(body["expiration_date_to"]),
            )
        except (KeyError, TypeError) as exc:  # made, but we cannot tell what
            raise ProviderNoAnswer(f"unreadable preference: {exc!r}") from exc

    def find_checkout(self, intent: PaymentIntent) -> Checkout | None:
        """Found by the external_reference the create call gave it (our intent's own): a Pix
        payment through the payments search, a preference through the preferences search
        (Mercado Pago documents idempotency keys for payments and refunds, not preferences)."""
        reference = external_reference(intent)
        if intent.method == Method.PIX:
            found = self._call(
                lambda: self.sdk.payment().search(
                    {"external_reference": reference, "sort": "date_created", "criteria": "desc"}
                )
            )
            payments = [p for p in found.get("results") or [] if p.get("id")]
            if not payments:
                return None
            payment_id = str(payments[0]["id"])
            return Checkout(reference=payment_id, payment_id=payment_id)
        found = self._call(lambda: self.sdk.preference().search({"external_reference": reference}))
        preferences = [p for p in found.get("elements") or [] if p.get("id")]
        if not preferences:
            return None
        return Checkout(
            reference=str(preferences[0]["id"]),
            expires_at=parse_datetime(preferences[0].get("expiration_date_to") or ""),
        )

    def _payment(self, payment_id: str) -> dict:
        return self._call(lambda: self.sdk.payment().get(payment_id))

    def fetch_state(self, intent: PaymentIntent) -> PaymentState:
        """The payment's state; with none yet, a preference is pending until it expires (as
        Mercado Pago says it does: it may have been ended early, see cancel_checkout)."""
        if intent.provider_payment_id:
            return payment_state(self._payment(intent.provider_payment_id))
        found = self._call(
            lambda: self.sdk.payment().search(
                {
                    "external_reference": external_reference(intent),
                    "sort": "date_created",
                    "criteria": "desc",
                }
            )
        )
        payments = found.get("results") or []
        approved = [p for p in payments if p.get("status") in ("approved", "refunded")]
        if approved or payments:
            return payment_state((approved or payments)[0])
        expires_at = intent.expires_at
        if intent.method == Method.CHECKOUT and intent.provider_reference:
            preference = self._call(lambda: self.sdk.preference().get(intent.provider_reference))
            limit = parse_datetime(str(preference.get("expiration_date_to") or ""))
            expires_at = limit if preference.get("expires") and limit else None
        expired = expires_at is not None and expires_at <= timezone.now()
        return PaymentState(status=S.EXPIRED if expired else S.PENDING)

    def cancel_checkout(self, intent: PaymentIntent) -> None:
        """End an open attempt, so a traveller who chose again cannot pay twice: a Pix payment
        is cancelled, a preference expires now. One already paid or ended is left as it is
        (its notification tells which)."""
        if intent.method == Method.PIX and intent.provider_payment_id:
            payment_id = intent.provider_payment_id
            self._send(lambda: self.sdk.payment().update(payment_id, {"status": "cancelled"}))
        elif intent.method == Method.CHECKOUT and intent.provider_reference:
            now = timezone.now().isoformat(timespec="milliseconds")
            reference = intent.provider_reference
            self._send(
                lambda: self.sdk.preference().update(
                    reference, {"expires": True, "expiration_date_to": now}
                )
            )

    def refund(self, intent: PaymentIntent, refund: Refund) -> RefundState:
        """Carries the refund's own idempotency key (Mercado Pago requires one on refunds):
        asking again (after no answer) never refunds twice."""
        result = self._call(
            lambda: self.sdk.refund().create(
                intent.provider_payment_id,
                {"amount": float(to_major(refund.amount, intent.currency))},
                self._options(refund.idempotency_key),
            )
        )
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
