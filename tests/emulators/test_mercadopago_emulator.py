"""The Mercado Pago emulator, driven through the official SDK as the product drives it."""

import base64
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import mercadopago
import pytest
from mercadopago.config import RequestOptions
from mercadopago.http import HttpClient
from mercadopago.webhook import InvalidWebhookSignatureError, WebhookSignatureValidator

from emulators.pix import crc16
from tests.emulators.helpers import click, control, fetch

MP_API = "https://api.mercadopago.com"
SECRET = "mp-webhook-secret"

pytestmark = pytest.mark.filterwarnings("ignore:notification_url is deprecated")


class EmulatorHttpClient(HttpClient):
    """The SDK has no base-URL option: rewrite its URLs to the emulator."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def request(self, method, url, *args, **kwargs):
        if url.startswith(MP_API):
            url = self.base_url + url[len(MP_API) :]
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def sdk(emulators):
    token = f"TEST-{uuid.uuid4().hex}-112233-{uuid.uuid4().hex[:8]}-445566778"
    emulators.mercadopago_account(token, webhook_secret=SECRET)
    return mercadopago.SDK(token, http_client=EmulatorHttpClient(emulators.mercadopago_url))


def key(value: str) -> RequestOptions:
    return RequestOptions(custom_headers={"x-idempotency-key": value})


def later(minutes: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat(timespec="milliseconds")


def create_preference(sdk, receiver, **extra) -> dict:
    body = {
        "items": [
            {
                "id": "R-ABC",
                "title": "Beagle Channel boat trip",
                "quantity": 1,
                "unit_price": 45000.0,
                "currency_id": "ARS",
            }
        ],
        "payer": {"email": "traveller@example.com"},
        "external_reference": "alpha:41",
        "notification_url": receiver.url("/webhooks/mercadopago/"),
        "back_urls": {
            "success": "http://shop.localhost:8000/return/",
            "failure": "http://shop.localhost:8000/cancelled/",
            "pending": "http://shop.localhost:8000/return/",
        },
        "auto_return": "approved",
        "expires": True,
        "expiration_date_to": later(),
        **extra,
    }
    result = sdk.preference().create(body, key(str(uuid.uuid4())))
    assert result["status"] == 201, result
    return result["response"]


def create_pix(
    sdk, receiver, amount=150.0, reference="beta:7", idempotency=None, expires=None
) -> dict:
    result = sdk.payment().create(
        {
            "transaction_amount": amount,
            "description": "Sugarloaf cable car",
            "payment_method_id": "pix",
            "payer": {"email": "viajante@example.com"},
            "external_reference": reference,
            "notification_url": receiver.url("/webhooks/mercadopago/"),
            "date_of_expiration": expires or later(),
            "metadata": {"intent_id": "7"},
        },
        key(idempotency or str(uuid.uuid4())),
    )
    assert result["status"] == 201, result
    return result["response"]


def verify(hook) -> None:
    """As the product does: the signed data.id is the query's, ts within 300 s."""
    WebhookSignatureValidator.validate(
        hook.headers["x-signature"],
        hook.headers["x-request-id"],
        hook.query["data.id"],
        SECRET,
        tolerance_seconds=300,
    )


def test_preference_create_and_get(sdk, receiver):
    preference = create_preference(sdk, receiver)

    assert preference["id"].count("-") >= 5
    assert preference["init_point"] == preference["sandbox_init_point"]
    assert "/checkout/v1/redirect?pref_id=" in preference["init_point"]
    assert preference["items"][0]["unit_price"] == 45000
    assert preference["external_reference"] == "alpha:41"
    assert preference["back_urls"]["failure"] == "http://shop.localhost:8000/cancelled/"
    assert preference["auto_return"] == "approved"
    assert preference["site_id"] == "MLA"
    fetched = sdk.preference().get(preference["id"])
    assert fetched["status"] == 200 and fetched["response"]["id"] == preference["id"]

    page = fetch(preference["init_point"])
    assert "ARS 45,000.00" in page.text and "Beagle Channel boat trip" in page.text
    assert page.buttons == ["Pay", "Decline"]


def test_pay_on_checkout_pro(sdk, receiver):
    preference = create_preference(sdk, receiver)

    answer = click(fetch(preference["init_point"]), "Pay")

    assert answer.status == 303
    target = urlsplit(answer.location)
    assert f"{target.scheme}://{target.netloc}{target.path}" == "http://shop.localhost:8000/return/"
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert set(query) == {
        "collection_id",
        "collection_status",
        "payment_id",
        "status",
        "external_reference",
        "payment_type",
        "merchant_order_id",
        "preference_id",
        "site_id",
        "processing_mode",
        "merchant_account_id",
    }
    assert query["status"] == query["collection_status"] == "approved"
    assert query["payment_id"] == query["collection_id"]
    assert query["external_reference"] == "alpha:41"
    assert query["preference_id"] == preference["id"]
    assert (query["payment_type"], query["site_id"]) == ("credit_card", "MLA")

    payment = sdk.payment().get(query["payment_id"])["response"]
    assert (payment["status"], payment["status_detail"]) == ("approved", "accredited")
    assert payment["transaction_amount"] == 45000 and payment["currency_id"] == "ARS"
    assert payment["external_reference"] == "alpha:41"
    assert payment["date_approved"] and payment["refunds"] == []
    assert payment["order"]["id"] == query["merchant_order_id"]

    hook = receiver.wait(1)[0]
    assert hook.path == "/webhooks/mercadopago/"
    assert hook.query == {"data.id": query["payment_id"], "type": "payment"}
    assert hook.json["action"] == "payment.created"
    assert hook.json["data"] == {"id": query["payment_id"]}
    assert (hook.json["type"], hook.json["api_version"], hook.json["live_mode"]) == (
        "payment",
        "v1",
        False,
    )
    assert isinstance(hook.json["id"], int) and hook.json["user_id"] == 445566778
    verify(hook)


def test_decline_on_checkout_pro(sdk, receiver):
    preference = create_preference(sdk, receiver)

    answer = click(fetch(preference["init_point"]), "Decline")

    target = urlsplit(answer.location)
    assert target.path == "/cancelled/"
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query["status"] == query["collection_status"] == "rejected"
    payment = sdk.payment().get(query["payment_id"])["response"]
    assert (payment["status"], payment["status_detail"]) == ("rejected", "cc_rejected_other_reason")
    verify(receiver.wait(1)[0])


def test_preference_control_actions(sdk, receiver, emulators):
    preference = create_preference(sdk, receiver, external_reference="")
    base = f"/_emulator/mercadopago/preferences/{preference['id']}"

    status, body = control(emulators.mercadopago_url, f"{base}/pay")

    assert status == 200 and body["payment"]["status"] == "approved"
    assert "external_reference=null" in body["redirect_url"]
    status, body = control(emulators.mercadopago_url, f"{base}/decline")
    assert body["payment"]["status"] == "rejected"
    assert len(receiver.wait(2)) == 2


def test_pix_payment_approved_on_its_page(sdk, receiver):
    payment = create_pix(sdk, receiver)

    assert (payment["status"], payment["status_detail"]) == ("pending", "pending_waiting_transfer")
    assert isinstance(payment["id"], int)
    assert (payment["currency_id"], payment["transaction_amount"]) == ("BRL", 150)
    assert payment["external_reference"] == "beta:7"
    assert payment["metadata"] == {"intent_id": "7"}
    assert payment["date_of_expiration"]
    data = payment["point_of_interaction"]["transaction_data"]
    assert payment["point_of_interaction"]["type"] == "PIX"
    code = data["qr_code"]
    assert code.startswith("000201") and "br.gov.bcb.pix" in code and "5406150.00" in code
    assert code[-4:] == crc16(code[:-4].encode())
    assert base64.b64decode(data["qr_code_base64"]).startswith(b"\x89PNG")
    created = receiver.wait(1)[0]
    assert created.json["action"] == "payment.created"
    verify(created)

    page = fetch(data["ticket_url"])
    assert page.buttons == ["Pix paid"] and "BRL 150.00" in page.text
    answer = click(page, "Pix paid")

    assert answer.status == 303
    assert "Payment approved." in fetch(data["ticket_url"]).text
    fetched = sdk.payment().get(payment["id"])["response"]
    assert (fetched["status"], fetched["status_detail"]) == ("approved", "accredited")
    assert fetched["date_approved"]
    updated = receiver.wait(2)[1]
    assert updated.json["action"] == "payment.updated"
    assert updated.json["id"] != created.json["id"]
    verify(updated)


def test_pix_control_actions(sdk, receiver, emulators):
    rejected = create_pix(sdk, receiver)
    expired = create_pix(sdk, receiver)
    base = "/_emulator/mercadopago/payments"

    assert control(emulators.mercadopago_url, f"{base}/{rejected['id']}/reject")[0] == 200
    assert control(emulators.mercadopago_url, f"{base}/{expired['id']}/expire")[0] == 200
    status, body = control(emulators.mercadopago_url, f"{base}/{rejected['id']}/approve")

    assert status == 409 and "rejected" in body["error"]
    assert sdk.payment().get(rejected["id"])["response"]["status"] == "rejected"
    gone = sdk.payment().get(expired["id"])["response"]
    assert (gone["status"], gone["status_detail"]) == ("cancelled", "expired")
    assert len(receiver.wait(4)) == 4


def test_cancel_a_pending_payment(sdk, receiver):
    payment = create_pix(sdk, receiver)

    result = sdk.payment().update(payment["id"], {"status": "cancelled"})

    assert result["status"] == 200
    assert (result["response"]["status"], result["response"]["status_detail"]) == (
        "cancelled",
        "by_collector",
    )
    assert sdk.payment().update(payment["id"], {"status": "cancelled"})["status"] == 400


def test_search_newest_first(sdk, receiver):
    first = create_pix(sdk, receiver, reference="beta:9")
    second = create_pix(sdk, receiver, reference="beta:9")
    create_pix(sdk, receiver, reference="beta:10")

    found = sdk.payment().search(
        {"external_reference": "beta:9", "sort": "date_created", "criteria": "desc"}
    )

    assert found["status"] == 200
    assert found["response"]["paging"] == {"total": 2, "limit": 30, "offset": 0}
    assert [p["id"] for p in found["response"]["results"]] == [second["id"], first["id"]]


def test_refunds_partial_then_full(sdk, receiver, emulators):
    payment = create_pix(sdk, receiver, amount=100.0)
    control(emulators.mercadopago_url, f"/_emulator/mercadopago/payments/{payment['id']}/approve")

    partial = sdk.refund().create(payment["id"], {"amount": 30.5}, key("refund-1"))

    assert partial["status"] == 201
    refund = partial["response"]
    assert (refund["amount"], refund["status"], refund["payment_id"]) == (
        30.5,
        "approved",
        payment["id"],
    )
    fetched = sdk.payment().get(payment["id"])["response"]
    assert (fetched["status"], fetched["transaction_amount_refunded"]) == ("approved", 30.5)
    assert [r["id"] for r in fetched["refunds"]] == [refund["id"]]

    too_much = sdk.refund().create(payment["id"], {"amount": 70}, key("refund-2"))
    assert too_much["status"] == 400
    assert too_much["response"]["error"] == "bad_request"
    assert too_much["response"]["status"] == 400 and too_much["response"]["cause"]

    rest = sdk.refund().create(payment["id"], None, key("refund-3"))
    assert rest["status"] == 201 and rest["response"]["amount"] == 69.5
    fetched = sdk.payment().get(payment["id"])["response"]
    assert (fetched["status"], fetched["transaction_amount_refunded"]) == ("refunded", 100)
    hooks = receiver.wait(4)
    assert [hook.json["action"] for hook in hooks] == ["payment.created"] + ["payment.updated"] * 3
    assert sdk.refund().create(payment["id"], None, key("refund-4"))["status"] == 400


def test_idempotency_key_replays_the_first_response(sdk, receiver):
    first = create_pix(sdk, receiver, idempotency="pix-1")
    again = create_pix(sdk, receiver, amount=999.0, idempotency="pix-1")

    assert again == first
    found = sdk.payment().search({"external_reference": "beta:7"})["response"]
    assert found["paging"]["total"] == 1
    assert len(receiver.wait(1, settle=0.1)) == 1


def test_bad_credentials(emulators, sdk):
    stranger = mercadopago.SDK(
        "TEST-not-a-known-token", http_client=EmulatorHttpClient(emulators.mercadopago_url)
    )
    result = stranger.payment().get(1)
    assert result["status"] == 401
    assert result["response"] == {
        "message": "invalid_token",
        "error": "not_found",
        "status": 401,
        "cause": [],
    }
    assert sdk.payment().get(123)["status"] == 404


def test_validation_errors(sdk, receiver):
    result = sdk.preference().create(
        {
            "items": [{"title": "Trip", "quantity": 1, "unit_price": 10, "currency_id": "BRL"}],
            "auto_return": "approved",
        }
    )
    assert result["status"] == 400
    assert result["response"]["message"] == "auto_return invalid. back_url.success must be defined"
    missing_email = sdk.payment().create({"transaction_amount": 10, "payment_method_id": "pix"})
    assert missing_email["status"] == 400
    assert missing_email["response"]["cause"][0]["code"] == 4050


def test_expired_preference_cannot_be_paid(sdk, receiver):
    preference = create_preference(sdk, receiver, expiration_date_to=later(-1))

    page = fetch(preference["init_point"])

    assert "This payment link has expired." in page.text and page.buttons == []


def test_duplicates_keep_the_notification_id(sdk, receiver, emulators):
    emulators.behaviour("mercadopago", duplicates=1)

    create_pix(sdk, receiver)

    first, second = receiver.wait(2)
    assert first.json["id"] == second.json["id"]
    assert first.body == second.body
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    verify(first)
    verify(second)


def test_delay_and_signature_mismatch(sdk, receiver, emulators):
    emulators.behaviour("mercadopago", delay_seconds=0.3)
    started = time.monotonic()

    create_pix(sdk, receiver)

    hook = receiver.wait(1)[0]
    assert hook.at - started >= 0.3
    with pytest.raises(InvalidWebhookSignatureError):
        WebhookSignatureValidator.validate(
            hook.headers["x-signature"],
            hook.headers["x-request-id"],
            hook.query["data.id"],
            "another-secret",
            tolerance_seconds=300,
        )


def test_pix_expires_on_its_own(sdk, receiver):
    payment = create_pix(sdk, receiver, expires=later(-1))

    updated = receiver.wait(2)[1]

    assert updated.json["action"] == "payment.updated"
    expired = sdk.payment().get(payment["id"])["response"]
    assert (expired["status"], expired["status_detail"]) == ("cancelled", "expired")
