"""Mercado Pago notifications: x-signature over the id;request-id;ts manifest, checked with
the SDK's validator before anything is trusted."""

import json
import time

import pytest
from django.test import Client

from payments.models import WebhookEvent, WebhookRejection
from tests.factories import ALPHA_HOST
from tests.factories import mercadopago_signature as signature


def notify(client, *, data_id="123", body_id=None, x_signature=None, request_id="req-1"):
    body = {
        "id": 99001,
        "type": "payment",
        "action": "payment.updated",
        "data": {"id": body_id or data_id},
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
