"""Validly signed webhooks whose body is not in the provider's format: 400, recorded as
rejected, nothing applied. And unsigned garbage is refused the same way, whatever it holds."""

import json

import pytest
from django.test import Client

from booking.models import Reservation
from outbox.models import OutboxMessage
from payments.models import Anomaly, PaymentIntent, WebhookEvent, WebhookRejection
from tests.factories import ALPHA_HOST, checkout_session, post_stripe, stripe_event
from tests.factories import mercadopago_signature as signature

S = PaymentIntent.Status


@pytest.fixture
def hook(operator_secrets) -> Client:
    return Client(HTTP_HOST=ALPHA_HOST)


def assert_refused(response, intent):
    assert response.status_code == 400
    assert WebhookRejection.objects.count() == 1
    assert "\x00" not in WebhookRejection.objects.get().body_excerpt
    assert not WebhookEvent.objects.exists()
    assert not Anomaly.objects.exists()
    assert not OutboxMessage.objects.exists()
    intent.refresh_from_db()
    assert (intent.status, intent.declined_at, intent.provider_payment_id) == (S.PENDING, None, "")
    assert Reservation.objects.get(pk=intent.reservation_id).status == "held"


def session_event(intent, **changes) -> dict:
    return stripe_event("checkout.session.completed", checkout_session(intent) | changes)


def with_metadata(intent, **metadata) -> dict:
    return session_event(intent, metadata={"intent_id": str(intent.pk)} | metadata)


STRIPE_BODIES = {
    "empty object": lambda intent: {},
    "array": lambda intent: [session_event(intent)],
    "string": lambda intent: "checkout.session.completed",
    "number": lambda intent: 42,
    "null": lambda intent: None,
    "no data": lambda intent: {k: v for k, v in session_event(intent).items() if k != "data"},
    "data without object": lambda intent: session_event(intent) | {"data": {}},
    "object is a list": lambda intent: session_event(intent) | {"data": {"object": []}},
    "data is a string": lambda intent: session_event(intent) | {"data": "cs_1"},
    "no type": lambda intent: {k: v for k, v in session_event(intent).items() if k != "type"},
    "type is a number": lambda intent: session_event(intent) | {"type": 7},
    "type is a list": lambda intent: session_event(intent) | {"type": ["checkout"]},
    "type with a NUL": lambda intent: session_event(intent) | {"type": "checkout\x00"},
    "no event id": lambda intent: {k: v for k, v in session_event(intent).items() if k != "id"},
    "event id is a number": lambda intent: session_event(intent) | {"id": 12},
    "event id with a NUL": lambda intent: session_event(intent) | {"id": "evt_\x00"},
    "session without id": lambda intent: stripe_event(
        "checkout.session.completed",
        {k: v for k, v in checkout_session(intent).items() if k != "id"},
    ),
    "session id is a number": lambda intent: session_event(intent, id=5),
    "session id with a NUL": lambda intent: session_event(intent, id="cs_\x00"),
    "metadata intent id not a number": lambda intent: with_metadata(intent, intent_id="abc"),
    "metadata intent id a superscript digit": lambda intent: with_metadata(intent, intent_id="²"),
    "metadata intent id negative": lambda intent: with_metadata(intent, intent_id="-1"),
    "metadata intent id overflowing": lambda intent: with_metadata(intent, intent_id="9" * 40),
    "metadata is a list": lambda intent: session_event(intent, metadata=["intent_id"]),
    "amount is a string": lambda intent: session_event(intent, amount_total="100"),
    "amount is a float": lambda intent: session_event(intent, amount_total=1.5),
    "amount is a boolean": lambda intent: session_event(intent, amount_total=True),
    "currency is a number": lambda intent: session_event(intent, currency=32),
    "status is missing": lambda intent: stripe_event(
        "checkout.session.completed",
        {k: v for k, v in checkout_session(intent).items() if k != "status"},
    ),
    "payment status is a list": lambda intent: session_event(intent, payment_status=["paid"]),
    "payment intent is a number": lambda intent: session_event(intent, payment_intent=3),
    "decline error is a string": lambda intent: stripe_event(
        "payment_intent.payment_failed",
        {"id": "pi_1", "metadata": {"intent_id": str(intent.pk)}, "last_payment_error": "no"},
    ),
    "refund id in metadata not a number": lambda intent: stripe_event(
        "refund.updated",
        {
            "id": "re_1",
            "payment_intent": "pi_1",
            "status": "succeeded",
            "metadata": {"intent_id": str(intent.pk), "refund_id": "x"},
        },
    ),
    "refund without status": lambda intent: stripe_event(
        "refund.updated", {"id": "re_1", "payment_intent": "pi_1", "metadata": {}}
    ),
}


@pytest.mark.parametrize("shape", STRIPE_BODIES)
def test_a_signed_stripe_event_not_in_stripes_format_is_refused(hook, make_intent, shape):
    intent = make_intent()
    body = json.dumps(STRIPE_BODIES[shape](intent))

    response = post_stripe(hook, body)

    assert_refused(response, intent)
    assert WebhookRejection.objects.get().provider == "stripe"


def notify(client, body: bytes | str, *, data_id: str = "123", query: str | None = None):
    query = f"data.id={data_id}&type=payment" if query is None else query
    return client.post(
        f"/webhooks/mercadopago/?{query}",
        body,
        content_type="application/json",
        HTTP_X_REQUEST_ID="req-1",
        HTTP_X_SIGNATURE=signature(data_id, "req-1"),
    )


def notification(**changes) -> str:
    body = {"id": 1, "type": "payment", "action": "payment.updated", "data": {"id": "123"}}
    return json.dumps(body | changes)


MERCADOPAGO_BODIES = {
    "not JSON": b"data.id=123",
    "not UTF-8": b'{"data": {"id": "123"}, "x": "\xff"}',
    "UTF-16": notification().encode("utf-16"),
    "NUL bytes": b'{"data": {"id": "123"}}\x00\x00',
    "deeply nested": b'{"data": {"id": "123"}, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "empty object": "{}",
    "array": "[]",
    "string": '"payment"',
    "null": "null",
    "no data": notification(data=None),
    "data is a string": notification(data="123"),
    "data without id": notification(data={}),
    "data.id of another payment": notification(data={"id": "456"}),
    "data.id is a list": notification(data={"id": ["123"]}),
    "type is a number": notification(type=5),
    "action is a list": notification(action=["payment.updated"]),
    "action with a NUL": notification(action="payment\x00"),
}


@pytest.mark.parametrize("shape", MERCADOPAGO_BODIES)
def test_a_signed_mercadopago_notification_not_in_its_format_is_refused(hook, make_intent, shape):
    intent = make_intent(provider="mercadopago", method="checkout", provider_reference="pref-1")

    response = notify(hook, MERCADOPAGO_BODIES[shape])

    assert_refused(response, intent)
    assert WebhookRejection.objects.get().provider == "mercadopago"


@pytest.mark.parametrize(
    "data_id", ["../users/me", "123?x=1", "１２３", "1" * 80, "", "12 3", "123\x00"]
)
def test_a_signed_payment_id_that_cannot_be_a_payment_is_refused_before_asking(
    hook, make_intent, data_id
):
    intent = make_intent(provider="mercadopago", method="checkout", provider_reference="pref-1")
    body = notification(data={"id": data_id})
    query = "type=payment&" + ("data.id=" + data_id.replace("?", "%3F").replace("&", "%26"))

    response = notify(hook, body, data_id=data_id, query=query)

    assert_refused(response, intent)


@pytest.mark.parametrize("body", [b"\x00", b'{"a": "\x00"}', b"\xff\x00" * 3000])
def test_unsigned_garbage_with_nul_bytes_is_refused_and_logged(hook, make_intent, body):
    intent = make_intent()
    for response in (
        post_stripe(hook, body.decode("latin-1"), header="t=1,v1=00"),
        hook.post("/webhooks/mercadopago/?data.id=1", body, content_type="application/json"),
    ):
        assert response.status_code == 400
    assert WebhookRejection.objects.count() == 2
    assert all("\x00" not in r.body_excerpt for r in WebhookRejection.objects.all())
    intent.refresh_from_db()
    assert intent.status == S.PENDING
    assert not WebhookEvent.objects.exists()
