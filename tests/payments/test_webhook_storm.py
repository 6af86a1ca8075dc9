"""Webhook storms over HTTP, against the app served in a thread: for each provider, 50
concurrent deliveries of one event, plus replays of one captured signature with the fields it
does not sign altered. Exactly one application; no notification for another payment is
suppressed."""

import http.client
import json

import pytest
import stripe
from django_tenants.utils import tenant_context

from booking.models import Reservation
from outbox.models import OutboxMessage
from payments.models import Method, PaymentIntent, Provider, WebhookEvent, WebhookRejection
from tests.factories import ALPHA_HOST, checkout_session, hold, stripe_event
from tests.factories import mercadopago_signature as signature

pytestmark = pytest.mark.xdist_group("races")
S = PaymentIntent.Status
STORM = 50


def deliver(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    """POST over HTTP, as the provider would; returns the status and the JSON answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={
                "Host": f"{ALPHA_HOST}:{port}",
                "Content-Type": "application/json",
                "Connection": "close",
                **headers,
            },
        )
        response = connection.getresponse()
        content = response.read()
    finally:
        connection.close()
    try:
        answer = json.loads(content)
    except ValueError:
        answer = {}
    return response.status, answer


def intents(committed, count: int, **fields) -> list[PaymentIntent]:
    """`count` held reservations of one seat, each with an open intent."""
    slot = committed.slot(capacity=count)
    made = []
    with tenant_context(committed.operator):
        for number in range(count):
            reservation = hold(slot, 1, scope=f"traveller-{number}")
            made.append(
                PaymentIntent.objects.create(
                    reservation=reservation,
                    status=S.PENDING,
                    amount=reservation.total_amount,
                    currency=fields.get("currency", reservation.currency),
                    provider_reference=f"cs_storm_{number}",
                    **{k: v for k, v in fields.items() if k != "currency"},
                )
            )
    return made


def applied_once(committed, intent: PaymentIntent) -> None:
    with tenant_context(committed.operator):
        intent = PaymentIntent.objects.get(pk=intent.pk)
        reservation = Reservation.objects.get(pk=intent.reservation_id)
        assert intent.status == S.SUCCEEDED
        assert reservation.status == "paid"
        assert reservation.events.filter(kind="paid").count() == 1
        assert (
            OutboxMessage.objects.filter(
                topic="email.reservation_confirmed", payload__reservation_id=reservation.pk
            ).count()
            == 1
        )


def one_new(answers: list[tuple[int, dict]]) -> None:
    assert [status for status, _ in answers] == [200] * len(answers), answers
    assert [answer["duplicate"] for _, answer in answers].count(False) == 1
    assert [answer.get("outcome") for _, answer in answers].count("applied") == 1


def test_a_stripe_storm_applies_once_and_suppresses_no_other_payment(
    committed, app_server, operator_secrets
):
    paid_now, paid_next = intents(committed, 2, provider=Provider.STRIPE, method=Method.CARD)
    with tenant_context(committed.operator):
        event = stripe_event("checkout.session.completed", checkout_session(paid_now))
        later = stripe_event("checkout.session.completed", checkout_session(paid_next))
    body = json.dumps(event)
    captured = stripe.WebhookSignature.generate_signature_header(body, "whsec_alpha_new")
    # Stripe signs the whole body: changing any field of it breaks the signature. What it
    # does not sign (the query string, other headers) changes nothing either.
    altered_bodies = [
        json.dumps(event | {"id": later["id"]}),
        json.dumps(event | {"data": later["data"]}),
        body.replace(paid_now.provider_reference, paid_next.provider_reference),
        body + " ",
    ]

    def work(index: int):
        path, sent = "/webhooks/stripe/", body
        if index < STORM and index % 2:
            path += f"?delivery={index}"
        elif index >= STORM:
            sent = altered_bodies[index % len(altered_bodies)]
        return deliver(app_server, path, sent.encode(), {"Stripe-Signature": captured})

    answers = committed.run_concurrently(STORM + 2 * len(altered_bodies), work)

    one_new(answers[:STORM])
    assert {status for status, _ in answers[STORM:]} == {400}
    applied_once(committed, paid_now)
    later_body = json.dumps(later)
    later_signature = stripe.WebhookSignature.generate_signature_header(
        later_body, "whsec_alpha_new"
    )
    status, answer = deliver(
        app_server, "/webhooks/stripe/", later_body.encode(), {"Stripe-Signature": later_signature}
    )
    assert (status, answer["duplicate"], answer["outcome"]) == (200, False, "applied")
    applied_once(committed, paid_next)
    with tenant_context(committed.operator):
        assert WebhookEvent.objects.filter(event_id=event["id"]).count() == 1
        assert WebhookEvent.objects.count() == 2
        assert WebhookRejection.objects.count() == 2 * len(altered_bodies)


def test_a_mercadopago_storm_applies_once_and_suppresses_no_other_payment(
    committed, app_server, mercadopago_api
):
    paid_now, paid_next = intents(
        committed, 2, provider=Provider.MERCADOPAGO, method=Method.PIX, currency="BRL"
    )
    with tenant_context(committed.operator):
        payments = [mercadopago_api.pix_payment(intent) for intent in (paid_now, paid_next)]
    for payment in payments:
        mercadopago_api.settle(payment, "approve")
    now, later = payments
    notification_id = 120_000_000_001  # Mercado Pago's next ids are easy to guess

    def notification(payment: str, number: int, **changes) -> bytes:
        return json.dumps(
            {
                "action": "payment.updated",
                "api_version": "v1",
                "data": {"id": payment},
                "date_created": "2025-10-01T12:00:00Z",
                "id": number,
                "live_mode": False,
                "type": "payment",
                "user_id": "1",
            }
            | changes
        ).encode()

    captured = {"x-request-id": "req-captured", "x-signature": signature(now, "req-captured")}
    # What x-signature does not cover: the body (its own id first), the query's other fields.
    replays = [
        ("", notification(now, notification_id + 1)),
        ("", notification(now, notification_id + 2, action="payment.created")),
        ("", notification(now, notification_id + 3, type="merchant_order")),
        ("&topic=payment", notification(now, notification_id + 4, user_id="666")),
        ("", notification(now, notification_id + 5, data={"id": later})),
    ]

    def work(index: int):
        if index < STORM:  # MP signs each delivery with its own x-request-id
            request_id = f"req-{index}"
            headers = {"x-request-id": request_id, "x-signature": signature(now, request_id)}
            body = notification(now, notification_id)
            extra = ""
        else:
            headers = captured
            extra, body = replays[index % len(replays)]
        return deliver(
            app_server, f"/webhooks/mercadopago/?data.id={now}&type=payment{extra}", body, headers
        )

    answers = committed.run_concurrently(STORM + 2 * len(replays), work)

    assert [status for status, _ in answers[:STORM]] == [200] * STORM
    assert all(status in (200, 400) for status, _ in answers), answers
    # A replay carries the same signed payment id, so it can only fetch the same state: one
    # of all these deliveries applies it, whichever came first.
    assert [answer.get("outcome") for _, answer in answers].count("applied") == 1
    applied_once(committed, paid_now)
    request_id = "req-later"
    status, answer = deliver(
        app_server,
        f"/webhooks/mercadopago/?data.id={later}&type=payment",
        notification(later, notification_id + 1),
        {"x-request-id": request_id, "x-signature": signature(later, request_id)},
    )
    assert (status, answer["duplicate"], answer["outcome"]) == (200, False, "applied")
    applied_once(committed, paid_next)
    with tenant_context(committed.operator):
        keys = list(WebhookEvent.objects.values_list("event_id", flat=True))
        assert sorted(key.split(":")[1] for key in keys if key.startswith("payment:")) == sorted(
            payments
        )
        assert all(key.split(":")[2] == "approved" for key in keys if key.startswith("payment:"))
