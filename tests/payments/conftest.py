"""Payment fixtures: a held reservation, intents on it, operators' secrets, and webhooks
signed with the providers' real schemes."""

import json
import time
import uuid

import pytest

from payments.models import Method, PaymentIntent, Provider
from tests.conftest import hold


@pytest.fixture
def held(make_slot):
    """A held reservation of 2 seats on a departure with 4."""
    return hold(make_slot(capacity=4), 2)


@pytest.fixture
def make_intent(held):
    def make(reservation=None, **fields) -> PaymentIntent:
        reservation = reservation or held
        defaults = {
            "provider": Provider.STRIPE,
            "method": Method.CARD,
            "status": PaymentIntent.Status.PENDING,
            "amount": reservation.total_amount,
            "currency": reservation.currency,
            "provider_reference": f"cs_test_{reservation.code}_{PaymentIntent.objects.count()}",
        }
        return PaymentIntent.objects.create(reservation=reservation, **(defaults | fields))

    return make


ALPHA_SECRETS = {
    "stripe": {
        "secret_key": "sk_test_alpha",
        "webhook_secrets": ["whsec_alpha_new", "whsec_alpha_old"],
    },
    "mercadopago": {"access_token": "TEST-alpha-token", "webhook_secret": "mp-alpha-secret"},
}
BETA_SECRETS = {
    "stripe": {"secret_key": "sk_test_beta", "webhook_secrets": ["whsec_beta"]},
    "mercadopago": {"access_token": "TEST-beta-token", "webhook_secret": "mp-beta-secret"},
}


@pytest.fixture(scope="session")
def operator_secrets(aws):
    """Each operator's credentials, in (moto's) Secrets Manager as in production."""
    import boto3

    from project.aws_secrets import forget_cached_secrets

    client = boto3.client("secretsmanager")
    for schema, secret in (("alpha", ALPHA_SECRETS), ("beta", BETA_SECRETS)):
        client.create_secret(
            Name=f"andes-booking/operators/{schema}", SecretString=json.dumps(secret)
        )
    forget_cached_secrets()
    return {"alpha": ALPHA_SECRETS, "beta": BETA_SECRETS}


def stripe_event(event_type: str, obj: dict, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": int(time.time()),
        "type": event_type,
        "livemode": False,
        "data": {"object": obj},
    }


def checkout_session(
    intent: PaymentIntent,
    *,
    status="complete",
    payment_status="paid",
    amount: int | None = None,
    payment_intent="pi_test_1",
) -> dict:
    return {
        "id": intent.provider_reference,
        "object": "checkout.session",
        "amount_total": intent.amount if amount is None else amount,
        "currency": intent.currency.lower(),
        "status": status,
        "payment_status": payment_status,
        "payment_intent": payment_intent if status == "complete" else None,
        "metadata": {"intent_id": str(intent.pk), "reservation": intent.reservation.code},
        "client_reference_id": intent.reservation.code,
    }


def post_stripe(
    client,
    event: dict | str,
    *,
    secret: str = "whsec_alpha_new",
    timestamp: int | None = None,
    header: str | None = None,
):
    """Deliver a Stripe event signed with Stripe's real scheme."""
    import stripe

    body = event if isinstance(event, str) else json.dumps(event)
    if header is None:
        header = stripe.WebhookSignature.generate_signature_header(
            body, secret, timestamp=timestamp or int(time.time())
        )
    headers = {"HTTP_STRIPE_SIGNATURE": header} if header else {}
    return client.post("/webhooks/stripe/", body, content_type="application/json", **headers)
