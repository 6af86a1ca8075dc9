"""The Stripe emulator, driven through the official SDK as the product drives Stripe."""

import time
import uuid
from urllib.parse import urlsplit

import pytest
import stripe

from tests.emulators.helpers import click, control, fetch, fetch_bytes

SECRETS = ["whsec_new_" + "a" * 24, "whsec_old_" + "b" * 24]


@pytest.fixture
def shop(emulators, receiver):
    """A Stripe account whose webhooks go to the receiver, and an SDK client for it."""
    key = f"sk_test_{uuid.uuid4().hex}"
    emulators.stripe_account(
        key, webhook_url=receiver.url("/webhooks/stripe/"), webhook_secrets=SECRETS
    )
    client = stripe.StripeClient(key, base_addresses={"api": emulators.stripe_url})
    return client


def create_session(client, method="card", currency="usd", amount=12000, key=None, **extra):
    metadata = {"intent_id": "41", "reservation": "R-ABC"}
    params = {
        "mode": "payment",
        "payment_method_types": [method],
        "line_items": [
            {
                "quantity": 2,
                "price_data": {
                    "currency": currency,
                    "unit_amount": amount // 2,
                    "product_data": {"name": "Beagle Channel boat trip"},
                },
            }
        ],
        "client_reference_id": "R-ABC",
        "customer_email": "traveller@example.com",
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": "http://shop.localhost:8000/paid/?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://shop.localhost:8000/cancelled/",
        "expires_at": int(time.time()) + 31 * 60,
        **extra,
    }
    options = {"idempotency_key": key} if key else None
    return client.v1.checkout.sessions.create(params=params, options=options)


def types(hooks) -> list[str]:
    return [hook.json["type"] for hook in hooks]


def test_session_create_and_retrieve(shop):
    session = create_session(shop)

    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert (session.amount_total, session.currency) == (12000, "usd")
    assert (session.status, session.payment_status, session.payment_intent) == (
        "open",
        "unpaid",
        None,
    )
    assert session.metadata.to_dict() == {"intent_id": "41", "reservation": "R-ABC"}
    assert session.client_reference_id == "R-ABC"
    assert session.customer_email == "traveller@example.com"
    assert session.payment_method_types == ["card"]
    assert session.livemode is False
    assert session.success_url.endswith("session_id={CHECKOUT_SESSION_ID}")
    assert session.expires_at > time.time() + 30 * 60
    assert session.url.endswith(f"/checkout/{session.id}")

    again = shop.v1.checkout.sessions.retrieve(session.id, params={"expand": ["line_items"]})
    assert again.id == session.id
    assert again.line_items.data[0].description == "Beagle Channel boat trip"
    assert again.line_items.data[0].quantity == 2

    page = fetch(session.url)
    assert page.status == 200
    assert "USD 120.00" in page.text and "Beagle Channel boat trip" in page.text
    assert page.buttons == ["Pay", "Decline"]


def test_card_pay_on_the_page(shop, receiver):
    session = create_session(shop)

    answer = click(fetch(session.url), "Pay")

    assert answer.status == 303
    assert answer.location == f"http://shop.localhost:8000/paid/?session_id={session.id}"
    paid = shop.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    intent = shop.v1.payment_intents.retrieve(paid.payment_intent)
    assert (intent.status, intent.amount, intent.amount_received) == ("succeeded", 12000, 12000)
    assert intent.metadata.to_dict() == {"intent_id": "41", "reservation": "R-ABC"}
    assert intent.latest_charge.startswith("ch_")

    hooks = receiver.wait(3)
    assert types(hooks) == [
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.completed",
    ]
    completed = hooks[2].json
    assert completed["data"]["object"]["payment_status"] == "paid"
    assert completed["data"]["object"]["payment_intent"] == intent.id
    assert completed["api_version"] == "2025-09-30.clover"
    assert completed["object"] == "event" and completed["livemode"] is False
    assert completed["request"] == {"id": None, "idempotency_key": None}
    assert hooks[0].path == "/webhooks/stripe/"
    assert hooks[0].headers["host"] == f"shop.localhost:{receiver.port}"
    listed = shop.v1.events.list(params={"type": "checkout.session.completed"})
    assert [event.id for event in listed.data] == [completed["id"]]


def test_webhooks_are_signed_with_every_secret(shop, receiver):
    session = create_session(shop)
    click(fetch(session.url), "Pay")

    for hook in receiver.wait(3):
        header = hook.headers["stripe-signature"]
        assert header.count("v1=") == 2
        for secret in SECRETS:
            event = stripe.Webhook.construct_event(hook.body, header, secret, tolerance=300)
            assert event.id.startswith("evt_")
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(hook.body, header, "whsec_wrong", tolerance=300)


def test_card_decline_then_pay(shop, receiver):
    session = create_session(shop)

    answer = click(fetch(session.url), "Decline")

    assert answer.status == 303
    page = fetch(urlsplit(session.url)._replace(path=answer.location).geturl())
    assert "Your card was declined." in page.text
    assert page.link("Back to the shop") == "http://shop.localhost:8000/cancelled/"
    hooks = receiver.wait(2)
    assert types(hooks) == ["charge.failed", "payment_intent.payment_failed"]
    failed = hooks[1].json["data"]["object"]
    assert failed["status"] == "requires_payment_method"
    assert failed["last_payment_error"]["code"] == "card_declined"
    assert failed["metadata"]["intent_id"] == "41"
    still_open = shop.v1.checkout.sessions.retrieve(session.id)
    assert still_open.status == "open" and still_open.payment_intent == failed["id"]

    assert click(page, "Pay").status == 303
    assert shop.v1.payment_intents.retrieve(failed["id"]).status == "succeeded"


def test_pix_session_completes_then_pays_asynchronously(shop, receiver, emulators):
    session = create_session(shop, method="pix", currency="brl")
    page = fetch(session.url)
    assert page.buttons == ["Continue", "Pix paid"]
    assert 'alt="Pix QR code"' in page.text and "br.gov.bcb.pix" in page.text

    answer = click(page, "Continue")

    assert answer.location == f"http://shop.localhost:8000/paid/?session_id={session.id}"
    completed = shop.v1.checkout.sessions.retrieve(session.id)
    assert (completed.status, completed.payment_status) == ("complete", "unpaid")
    intent = shop.v1.payment_intents.retrieve(completed.payment_intent)
    assert intent.status == "requires_action"
    qr = intent.next_action.pix_display_qr_code
    assert qr.data.startswith("000201")
    image = fetch_bytes(qr.image_url_png)
    assert image.startswith(b"\x89PNG")
    hooks = receiver.wait(2)
    assert types(hooks) == ["payment_intent.requires_action", "checkout.session.completed"]
    assert hooks[1].json["data"]["object"]["payment_status"] == "unpaid"
    assert hooks[1].json["data"]["object"]["url"] is None

    status, body = control(
        emulators.stripe_url, f"/_emulator/stripe/sessions/{session.id}/pix-paid"
    )

    assert status == 200 and body["session"]["payment_status"] == "paid"
    hooks = receiver.wait(5)
    assert types(hooks)[2:] == [
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.async_payment_succeeded",
    ]
    assert hooks[4].json["data"]["object"]["payment_status"] == "paid"
    assert shop.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_pix_paid_button_on_the_page(shop, receiver):
    session = create_session(shop, method="pix", currency="brl")
    click(fetch(session.url), "Continue")
    waiting = fetch(session.url)
    assert "Waiting for your Pix payment." in waiting.text
    assert waiting.buttons == ["Pix paid"]

    click(waiting, "Pix paid")

    assert shop.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"
    assert types(receiver.wait(5))[-1] == "checkout.session.async_payment_succeeded"


def test_pix_async_failure(shop, receiver, emulators):
    session = create_session(shop, method="pix", currency="brl")
    click(fetch(session.url), "Continue")

    status, _ = control(emulators.stripe_url, f"/_emulator/stripe/sessions/{session.id}/pix-failed")

    assert status == 200
    hooks = receiver.wait(4)
    assert types(hooks)[2:] == [
        "payment_intent.payment_failed",
        "checkout.session.async_payment_failed",
    ]
    session = shop.v1.checkout.sessions.retrieve(session.id)
    assert (session.status, session.payment_status) == ("complete", "unpaid")


def test_pix_needs_brl(shop):
    with pytest.raises(stripe.InvalidRequestError) as error:
        create_session(shop, method="pix", currency="usd")
    assert error.value.param == "payment_method_types"


def test_expire(shop, receiver):
    session = create_session(shop)

    expired = shop.v1.checkout.sessions.expire(session.id)

    assert (expired.status, expired.url) == ("expired", None)
    hook = receiver.wait(1)[0].json
    assert hook["type"] == "checkout.session.expired"
    assert hook["request"]["id"].startswith("req_")
    assert "expired" in fetch(session.url).text
    with pytest.raises(stripe.InvalidRequestError):
        shop.v1.checkout.sessions.expire(session.id)


def test_refunds_partial_then_full(shop, receiver, emulators):
    emulators.behaviour("stripe", refund_settle_seconds=0.05)
    session = create_session(shop)
    click(fetch(session.url), "Pay")
    intent_id = shop.v1.checkout.sessions.retrieve(session.id).payment_intent
    receiver.wait(3)

    partial = shop.v1.refunds.create(
        params={"payment_intent": intent_id, "amount": 5000, "metadata": {"refund_id": "9"}}
    )

    assert (partial.status, partial.amount, partial.currency) == ("pending", 5000, "usd")
    assert partial.payment_intent == intent_id and partial.metadata.to_dict() == {"refund_id": "9"}
    hooks = receiver.wait(6)
    assert types(hooks)[3:] == ["refund.created", "refund.updated", "charge.refunded"]
    updated = hooks[4].json["data"]
    assert updated["object"]["status"] == "succeeded"
    assert updated["previous_attributes"] == {"status": "pending"}
    assert hooks[5].json["data"]["object"]["amount_refunded"] == 5000
    assert shop.v1.refunds.retrieve(partial.id).status == "succeeded"

    with pytest.raises(stripe.InvalidRequestError) as error:
        shop.v1.refunds.create(params={"payment_intent": intent_id, "amount": 7001})
    assert error.value.http_status == 400
    assert "greater than unrefunded amount" in error.value.user_message
    assert error.value.param == "amount"

    rest = shop.v1.refunds.create(params={"payment_intent": intent_id})
    assert rest.amount == 7000
    charge = receiver.wait(9)[-1].json["data"]["object"]
    assert (charge["amount_refunded"], charge["refunded"]) == (12000, True)
    with pytest.raises(stripe.InvalidRequestError, match="already been refunded"):
        shop.v1.refunds.create(params={"payment_intent": intent_id})


def test_refund_needs_a_successful_payment(shop):
    session = create_session(shop)
    click(fetch(session.url), "Decline")
    intent_id = shop.v1.checkout.sessions.retrieve(session.id).payment_intent
    with pytest.raises(stripe.InvalidRequestError, match="does not have a successful charge"):
        shop.v1.refunds.create(params={"payment_intent": intent_id})
    with pytest.raises(stripe.InvalidRequestError) as error:
        shop.v1.refunds.create(params={"payment_intent": "pi_missing"})
    assert error.value.http_status == 404 and error.value.code == "resource_missing"


def test_idempotency_replay_and_mismatch(shop):
    first = create_session(shop, key="booking-1")
    replayed = create_session(shop, key="booking-1")

    assert replayed.id == first.id
    assert replayed.last_response.headers["Idempotent-Replayed"] == "true"
    with pytest.raises(stripe.IdempotencyError) as error:
        create_session(shop, key="booking-1", amount=9000)
    assert error.value.http_status == 400
    assert "same parameters" in error.value.user_message
    assert create_session(shop, key="booking-2").id != first.id


def test_validation_errors(shop):
    with pytest.raises(stripe.InvalidRequestError) as error:
        shop.v1.checkout.sessions.create(params={"mode": "payment"})
    assert (error.value.code, error.value.param) == ("parameter_missing", "line_items")
    with pytest.raises(stripe.InvalidRequestError) as error:
        create_session(shop, expires_at=int(time.time()) + 60)
    assert error.value.param == "expires_at"
    with pytest.raises(stripe.InvalidRequestError) as error:
        shop.v1.checkout.sessions.retrieve("cs_test_missing")
    assert error.value.http_status == 404


def test_bad_credentials(emulators, shop):
    session = create_session(shop)
    api = {"api": emulators.stripe_url}
    stranger = stripe.StripeClient("sk_test_unknown123456", base_addresses=api)
    with pytest.raises(stripe.AuthenticationError) as error:
        stranger.v1.checkout.sessions.retrieve(session.id)
    assert error.value.http_status == 401
    assert error.value.json_body == {
        "error": {
            "message": "Invalid API Key provided: sk_test_*********3456",
            "type": "invalid_request_error",
        }
    }
    other = f"sk_test_{uuid.uuid4().hex}"
    emulators.stripe_account(other)
    with pytest.raises(stripe.InvalidRequestError):  # another account's objects are invisible
        stripe.StripeClient(other, base_addresses=api).v1.checkout.sessions.retrieve(session.id)


def test_duplicates_keep_the_event_id(shop, receiver, emulators):
    emulators.behaviour("stripe", duplicates=2)
    session = create_session(shop)

    click(fetch(session.url), "Pay")

    hooks = receiver.wait(9, settle=0.1)
    assert len(hooks) == 9
    ids = [hook.json["id"] for hook in hooks]
    assert all(ids.count(event_id) == 3 for event_id in ids)
    duplicates = emulators.deliveries("stripe", duplicate="True")
    assert len(duplicates) == 6


def test_reorder_reverses_the_events_of_one_action(shop, receiver, emulators):
    emulators.behaviour("stripe", reorder=True)
    session = create_session(shop)

    click(fetch(session.url), "Pay")

    assert types(receiver.wait(3)) == [
        "checkout.session.completed",
        "payment_intent.succeeded",
        "charge.succeeded",
    ]


def test_delay_does_not_hold_the_redirect(shop, receiver, emulators):
    emulators.behaviour("stripe", delay_seconds=0.6)
    session = create_session(shop)
    page = fetch(session.url)

    started = time.monotonic()
    answer = click(page, "Pay")

    assert answer.status == 303
    assert time.monotonic() - started < 0.6
    assert receiver.hooks == []
    hooks = receiver.wait(3)
    assert hooks[0].at - started >= 0.6


def test_failed_deliveries_are_retried(shop, receiver, emulators):
    emulators.behaviour("stripe", retry_backoff_seconds=0.05)
    receiver.statuses = [500]
    session = create_session(shop)

    shop.v1.checkout.sessions.expire(session.id)

    hooks = receiver.wait(2)
    assert [hook.answered for hook in hooks] == [500, 200]
    assert hooks[0].json["id"] == hooks[1].json["id"]
    rows = emulators.wait_for_deliveries(
        "stripe", lambda rows: len(rows) == 2, target=receiver.url("/webhooks/stripe/")
    )
    assert [(row["attempt"], row["status"]) for row in rows] == [(1, 500), (2, 200)]


def test_control_api_errors(emulators, shop):
    session = create_session(shop)
    status, _ = control(emulators.stripe_url, f"/_emulator/stripe/sessions/{session.id}/pay")
    assert status == 200
    status, body = control(emulators.stripe_url, f"/_emulator/stripe/sessions/{session.id}/pay")
    assert status == 409 and "complete" in body["error"]
    status, _ = control(emulators.stripe_url, "/_emulator/behaviour", {"duplicates": -1})
    assert status == 400
    pix_only = create_session(shop, method="pix", currency="brl")
    status, body = control(emulators.stripe_url, f"/_emulator/stripe/sessions/{pix_only.id}/pay")
    assert status == 409 and "does not accept card" in body["error"]


def test_signature_timestamp_is_now(shop, receiver):
    session = create_session(shop)
    shop.v1.checkout.sessions.expire(session.id)

    hook = receiver.wait(1)[0]

    stamp = hook.headers["stripe-signature"].split(",")[0]
    assert stamp.startswith("t=") and abs(int(stamp[2:]) - time.time()) < 5
    assert hook.headers["content-type"] == "application/json; charset=utf-8"
    assert hook.json["pending_webhooks"] == 1
