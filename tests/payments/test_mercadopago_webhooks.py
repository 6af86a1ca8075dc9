"""Mercado Pago notifications: x-signature over the id;request-id;ts manifest, checked with
the SDK's validator before anything is trusted."""

import json
import time

import pytest
from django.test import Client

from booking.models import Reservation
from outbox.models import OutboxMessage
from payments.models import Anomaly, PaymentIntent, WebhookEvent, WebhookRejection
from payments.services.reconciliation import payment_reconcile
from tests.factories import ALPHA_HOST, SYSTEM, hold
from tests.factories import mercadopago_signature as signature

S = PaymentIntent.Status


def notify(
    client,
    *,
    data_id="123",
    body_id=None,
    x_signature=None,
    request_id="req-1",
    notification_id=99001,
    **fields,
):
    """A notification as Mercado Pago sends it: only data.id, x-request-id and ts are signed;
    the body (its own `id` included) is not."""
    body = {
        "id": notification_id,
        "type": "payment",
        "action": "payment.updated",
        "data": {"id": body_id or data_id},
        **fields,
    }
    headers = {"HTTP_X_REQUEST_ID": request_id}
    if x_signature is not False:
        headers["HTTP_X_SIGNATURE"] = x_signature or signature(data_id, request_id)
    return client.post(
        f"/webhooks/mercadopago/?data.id={data_id}&type=payment",
        json.dumps(body),
        content_type="application/json",
        **headers,
    )


@pytest.fixture
def hook(operator_secrets, alpha) -> Client:
    return Client(HTTP_HOST=ALPHA_HOST)


@pytest.mark.parametrize(
    "tamper",
    ["forged", "stale", "other_operator", "unsigned", "signed_other_id", "body_id_differs"],
)
def test_bad_notifications_get_400_and_are_logged(hook, tamper):
    if tamper == "forged":
        response = notify(hook, x_signature=signature("123", "req-1", secret="guess"))
    elif tamper == "stale":
        response = notify(hook, x_signature=signature("123", "req-1", ts=int(time.time()) - 600))
    elif tamper == "other_operator":
        response = notify(hook, x_signature=signature("123", "req-1", secret="mp-beta-secret"))
    elif tamper == "unsigned":
        response = notify(hook, x_signature=False)
    elif tamper == "signed_other_id":
        response = notify(hook, x_signature=signature("999", "req-1"))
    else:
        response = notify(hook, body_id="999")
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    assert WebhookRejection.objects.get().provider == "mercadopago"


def test_a_signed_notification_whose_payment_cannot_be_fetched_asks_for_a_retry(hook, settings):
    settings.MERCADOPAGO_API_BASE = "http://127.0.0.1:9"  # nothing listens: provider down
    response = notify(hook)
    assert response.status_code == 503
    assert not WebhookEvent.objects.exists()
    assert not WebhookRejection.objects.exists()


# The record's key comes from signed or re-fetched facts only


@pytest.fixture
def pix_intent(make_intent, make_slot):
    """Intents paid by Pix (BRL), each with its payment at Mercado Pago."""

    def make(mercadopago_api, reservation=None, **fields):
        if reservation is None and PaymentIntent.objects.exists():
            reservation = hold(make_slot(capacity=4), 1)
        intent = make_intent(
            reservation, provider="mercadopago", method="pix", currency="BRL", **fields
        )
        return intent, mercadopago_api.pix_payment(intent)

    return make


def paid(intent) -> bool:
    intent.refresh_from_db()
    return intent.status == S.SUCCEEDED and intent.reservation.status == "paid"


def test_a_replayed_signature_with_another_body_id_never_suppresses_another_payment(
    hook, mercadopago_api, pix_intent
):
    """The body's own id is not signed: a captured notification replayed with the id Mercado
    Pago will give its next notification must not make that notification a "duplicate"."""
    first, first_payment = pix_intent(mercadopago_api)
    second, second_payment = pix_intent(mercadopago_api)
    mercadopago_api.settle(first_payment, "approve")
    mercadopago_api.settle(second_payment, "approve")
    captured = signature(first_payment, "req-a")

    first_notification = notify(
        hook, data_id=first_payment, request_id="req-a", x_signature=captured, notification_id=5001
    )
    assert first_notification.json()["outcome"] == "applied"
    for replayed_id in (5002, 5003, "x"):
        replay = notify(
            hook,
            data_id=first_payment,
            request_id="req-a",
            x_signature=captured,
            notification_id=replayed_id,
            action="payment.created",
        )
        assert replay.status_code == 200 and replay.json()["duplicate"] is True
    assert WebhookEvent.objects.count() == 1

    real = notify(hook, data_id=second_payment, request_id="req-b", notification_id=5002)

    assert real.json() == {"received": True, "duplicate": False, "outcome": "applied"}
    assert paid(first) and paid(second)
    assert OutboxMessage.objects.count() == 2


def test_each_state_of_a_payment_is_applied_whatever_id_the_body_gives(
    hook, mercadopago_api, pix_intent
):
    intent, payment = pix_intent(mercadopago_api)
    created = notify(hook, data_id=payment, request_id="req-1", notification_id=7001)
    assert created.json()["outcome"] == "ignored"  # still pending: nothing to change
    mercadopago_api.settle(payment, "approve")

    # The same body id (as a replay would send it) for the notification of the approval.
    approved = notify(hook, data_id=payment, request_id="req-2", notification_id=7001)

    assert approved.json() == {"received": True, "duplicate": False, "outcome": "applied"}
    assert paid(intent)
    keys = list(WebhookEvent.objects.order_by("id").values_list("event_id", flat=True))
    assert len(keys) == 2 and keys[0].startswith(f"payment:{payment}:pending:")
    assert keys[1].startswith(f"payment:{payment}:approved:")


def test_a_replay_applies_only_what_the_payment_api_says(hook, mercadopago_api, pix_intent):
    intent, payment = pix_intent(mercadopago_api)
    captured = signature(payment, "req-1")
    for forged in ({"action": "payment.approved"}, {"status": "approved"}, {"type": "payment"}):
        response = notify(hook, data_id=payment, x_signature=captured, **forged)
        assert response.status_code == 200
    intent.refresh_from_db()
    assert intent.status == S.PENDING
    assert Reservation.objects.get(pk=intent.reservation_id).status == "held"
    assert WebhookEvent.objects.count() == 1


def test_a_refund_keeps_the_status_approved_and_is_still_a_new_state(
    hook, mercadopago_api, pix_intent
):
    intent, payment = pix_intent(mercadopago_api)
    mercadopago_api.settle(payment, "approve")
    notify(hook, data_id=payment, request_id="req-1")
    mercadopago_api.refund(payment, float(intent.amount // 4) / 100)

    refunded = notify(hook, data_id=payment, request_id="req-2")

    assert refunded.json()["outcome"] == "applied"
    intent.refresh_from_db()
    assert (intent.status, intent.amount_refunded) == (S.PARTIALLY_REFUNDED, intent.amount // 4)


def test_applying_the_same_wrong_amount_again_raises_one_anomaly(hook, mercadopago_api, pix_intent):
    """Applying a re-fetched state is idempotent on its own: a reconciliation (or a later
    notification) that finds the same payment again adds nothing to the staff's queue."""
    intent, payment = pix_intent(mercadopago_api)
    PaymentIntent.objects.filter(pk=intent.pk).update(amount=intent.amount + 100)
    mercadopago_api.settle(payment, "approve")

    assert notify(hook, data_id=payment).json()["outcome"] == "anomaly"
    assert payment_reconcile(intent_id=intent.pk, actor=SYSTEM) == "ignored"
    assert payment_reconcile(intent_id=intent.pk, actor=SYSTEM) == "ignored"

    anomaly = Anomaly.objects.get()
    assert (anomaly.kind, anomaly.provider_payment_id) == ("amount_mismatch", payment)
    assert (
        Reservation.objects.get(pk=intent.reservation_id).events.filter(kind="anomaly").count() == 1
    )


def test_a_decline_found_again_is_recorded_once(hook, mercadopago_api, make_intent):
    intent = make_intent(provider="mercadopago", method="checkout")
    payment = mercadopago_api.checkout_payment(intent, approve=False)

    assert notify(hook, data_id=payment).json()["outcome"] == "applied"
    assert payment_reconcile(intent_id=intent.pk, actor=SYSTEM) == "ignored"

    intent.refresh_from_db()
    assert intent.status == S.PENDING and intent.declined_at is not None
    declines = Reservation.objects.get(pk=intent.reservation_id).events.filter(
        kind="payment_declined"
    )
    assert declines.count() == 1


def test_the_payment_that_pays_is_the_one_kept_and_a_second_one_goes_to_the_staff(
    hook, mercadopago_api, make_intent
):
    """Checkout Pro: a declined card, then an approved one, then (the link paid again) a
    second approved payment for the same attempt."""
    intent = make_intent(provider="mercadopago", method="checkout")
    declined = mercadopago_api.checkout_payment(intent, approve=False)
    notify(hook, data_id=declined, request_id="req-1")
    approved = mercadopago_api.checkout_payment(intent, approve=True)
    assert notify(hook, data_id=approved, request_id="req-2").json()["outcome"] == "applied"
    intent.refresh_from_db()
    assert (intent.status, intent.provider_payment_id) == (S.SUCCEEDED, approved)

    again = mercadopago_api.checkout_payment(intent, approve=True)
    assert notify(hook, data_id=again, request_id="req-3").json()["outcome"] == "anomaly"
    assert payment_reconcile(intent_id=intent.pk, actor=SYSTEM) == "ignored"

    anomaly = Anomaly.objects.get()
    assert (anomaly.kind, anomaly.provider_payment_id) == ("paid_twice", again)
    assert approved in anomaly.details and again in anomaly.details
