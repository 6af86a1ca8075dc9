"""A frozen provider: with `hang`, an emulator accepts every API request and never answers it
("before": nothing is carried out; "after": it is, and only the answer is lost), while its
control API still answers, so that a test can lift the hang."""

import http.client
import time
import uuid
from urllib.parse import urlsplit

import pytest
import stripe

from tests.emulators.helpers import control
from tests.emulators.test_mercadopago_emulator import create_preference
from tests.emulators.test_mercadopago_emulator import sdk as sdk  # noqa: F401 (a fixture)
from tests.emulators.test_stripe_emulator import create_session

pytestmark = pytest.mark.filterwarnings("ignore:notification_url is deprecated")


@pytest.fixture
def stripe_key(emulators):
    key = f"sk_test_{uuid.uuid4().hex}"
    emulators.stripe_account(key)
    return key


def connection(base_url: str, timeout: float) -> http.client.HTTPConnection:
    parts = urlsplit(base_url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def unanswered(base_url: str, path: str, key: str, timeout: float = 0.5) -> float:
    """POST and wait `timeout` for an answer that must not come; returns the time waited."""
    client = connection(base_url, timeout)
    started = time.monotonic()
    client.request("POST", path, body=b"", headers={"Authorization": f"Bearer {key}"})
    with pytest.raises(TimeoutError):
        client.getresponse()
    client.close()
    return time.monotonic() - started


def test_a_hanging_emulator_accepts_and_never_answers_but_its_control_api_does(
    emulators, stripe_key
):
    client = stripe.StripeClient(stripe_key, base_addresses={"api": emulators.stripe_url})
    emulators.behaviour("stripe", hang="before")

    waited = unanswered(emulators.stripe_url, "/v1/checkout/sessions", stripe_key)

    assert waited >= 0.5
    assert control(emulators.stripe_url, "/_emulator/behaviour", {})[1]["hang"] == "before"
    emulators.behaviour("stripe", hang="none")
    assert client.v1.checkout.sessions.list().data == []  # nothing was carried out


def test_after_carries_the_request_out_and_loses_only_its_answer(emulators, stripe_key):
    timeout = stripe.RequestsClient(timeout=(1, 0.5))
    client = stripe.StripeClient(
        stripe_key, base_addresses={"api": emulators.stripe_url}, http_client=timeout
    )
    expires_at = int(time.time()) + 31 * 60  # the same parameters, or Stripe refuses the key
    emulators.behaviour("stripe", hang="after")
    with pytest.raises(stripe.APIConnectionError):
        create_session(client, key="intent-7", expires_at=expires_at)

    emulators.behaviour("stripe", hang="none")
    (made,) = client.v1.checkout.sessions.list().data
    replayed = create_session(client, key="intent-7", expires_at=expires_at)
    assert replayed.id == made.id and replayed.last_response.headers["Idempotent-Replayed"]


def test_a_held_connection_is_closed_unanswered_when_the_hang_is_lifted(emulators, stripe_key):
    emulators.behaviour("stripe", hang="before")
    client = connection(emulators.stripe_url, timeout=5)
    client.request("GET", "/v1/events", headers={"Authorization": f"Bearer {stripe_key}"})
    time.sleep(0.2)
    started = time.monotonic()
    emulators.reset("stripe")  # a reset lifts the hang too
    with pytest.raises(http.client.RemoteDisconnected):
        client.getresponse()
    assert time.monotonic() - started < 2


def test_mercadopago_hangs_too_and_finds_the_lost_preference_by_reference(
    emulators,
    sdk,
    receiver,  # noqa: F811
):
    emulators.behaviour("mercadopago", hang="after")
    token = sdk.request_options.access_token
    waited = unanswered(emulators.mercadopago_url, "/checkout/preferences", token)
    assert waited >= 0.5
    emulators.behaviour("mercadopago", hang="none")

    made = create_preference(sdk, receiver, external_reference="alpha:77")
    create_preference(sdk, receiver, external_reference="alpha:78")
    found = sdk.preference().search({"external_reference": "alpha:77"})
    assert found["status"] == 200
    assert [p["id"] for p in found["response"]["elements"]] == [made["id"]]
    assert found["response"]["total"] == 1


def test_only_known_hang_modes_are_taken(emulators):
    status, body = control(emulators.stripe_url, "/_emulator/behaviour", {"hang": "sometimes"})
    assert status == 400 and "hang must be one of" in body["error"]
    status, body = control(emulators.mercadopago_url, "/_emulator/behaviour", {"hang": True})
    assert status == 400
    assert control(emulators.mercadopago_url, "/_emulator/behaviour", {})[1]["hang"] == "none"
