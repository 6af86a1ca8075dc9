"""No money kept for seats that are gone (DESIGN.md, invariant 10), in Chromium with the
provider emulators: when a hold ends, its checkout at Stripe ends too; and a payment whose
webhook lands after another traveller took the last seats is refunded in full at once, the
traveller told so on their booking's page and by e-mail, the other booking untouched."""

import email
import json
import re
import time
import urllib.request
from datetime import date, timedelta
from email import policy
from urllib.parse import urlsplit

import boto3
import pytest
import stripe
from playwright.sync_api import Browser, Page, expect

from e2e.conftest import DEMO_HOST
from e2e.test_backoffice import sign_in
from e2e.test_booking import RESERVATION_PAGE, departure_at, fill_contact
from e2e.test_payments import CONFIRMED_PAGE
from emulators.testing import Emulators

pytestmark = pytest.mark.e2e

# Far-off days of the Martial Glacier trek (8 seats at 09:00), which no other test books.
SESSION_ENDED_DAY, LATE_PAYMENT_DAY = 53, 54
AMOUNT = r"ARS\s?480,000\.00"  # 8 adults; the currency's spacing is the locale's
# moto keeps the SES message as text decoded in its own way: the non-breaking space between code
# and amount (valid UTF-8 as sent) reaches the test as some other single character.
EMAILED_AMOUNT = r"ARS\W?480,000\.00"


def hold_the_trek(page: Page, day: date, name: str, email_address: str) -> str:
    """Every seat of the 09:00 trek of `day`; returns the reservation's code."""
    page.goto(f"/activities/glaciar-martial/?day={day}")
    departure_at(page, "09:00").get_by_role("link", name="Book").click()
    page.get_by_label("Adult").fill("8")
    fill_contact(page, name, email_address)
    page.get_by_role("button", name="Hold my seats").click()
    expect(page).to_have_url(RESERVATION_PAGE)
    return page.url.rstrip("/").rsplit("/", 1)[1]


def demo_stripe() -> dict:
    """The demo operator's Stripe account, as its secret in (moto's) Secrets Manager has it."""
    secret = boto3.client("secretsmanager").get_secret_value(
        SecretId="andes-booking/operators/demo"
    )
    return json.loads(secret["SecretString"])["stripe"]


def poll(read, *, timeout: float = 15.0):
    """What the served site's worker does after a commit, seen from outside the browser."""
    deadline = time.monotonic() + timeout
    while not (found := read()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def test_the_end_of_a_hold_ends_its_checkout_at_stripe(
    page: Page, operator_today: date, emulators: Emulators
):
    day = operator_today + timedelta(days=SESSION_ENDED_DAY)
    hold_the_trek(page, day, "Ana Tarde", "ana.tarde@example.com")
    page.get_by_role("button", name="Pay by card").click()
    expect(page.get_by_label("Amount due")).to_be_visible()
    checkout = page.url
    session_id = checkout.rstrip("/").rsplit("/", 1)[1]

    page.go_back()
    page.get_by_role("button", name="Release my seats").click()
    expect(page.get_by_test_id("status")).to_have_text("Cancelled")

    client = stripe.StripeClient(
        demo_stripe()["secret_key"], base_addresses={"api": emulators.stripe_url}
    )
    assert poll(lambda: client.v1.checkout.sessions.retrieve(session_id).status == "expired"), (
        "the checkout was not ended at Stripe"
    )
    page.goto(checkout)
    expect(page.get_by_text("This checkout session has expired.")).to_be_visible()


def email_text(aws: str, address: str, subject_part: str) -> str:
    """The plain text of the e-mail to `address` whose subject has `subject_part`."""

    def found():
        with urllib.request.urlopen(f"{aws}/moto-api/data.json") as response:
            sent = json.load(response)["ses"]["RawMessage"]
        for raw in sent:
            message = email.message_from_string(raw["raw_data"], policy=policy.default)
            if address in raw["destinations"] and subject_part in message["Subject"]:
                return message.get_body(("plain",)).get_content()
        return None

    return poll(found) or ""


def test_a_payment_landing_after_another_traveller_took_the_seats_is_refunded(
    page: Page, browser: Browser, base_url: str, operator_today: date, emulators, aws: str
):
    day = operator_today + timedelta(days=LATE_PAYMENT_DAY)
    port = urlsplit(base_url).port
    account = demo_stripe()
    webhook_url = f"http://{DEMO_HOST}:{port}/webhooks/stripe/"
    client = stripe.StripeClient(
        account["secret_key"], base_addresses={"api": emulators.stripe_url}
    )

    def stripe_webhooks(*events: str) -> None:
        emulators.stripe_account(
            account["secret_key"],
            webhook_url=webhook_url,
            webhook_secrets=account["webhook_secrets"],
            enabled_events=list(events) or ["*"],
        )

    # A pays at Stripe, but the payment's webhook is held back (a slow network, say), and A
    # never comes back to the shop, whose return page would ask Stripe at once (the phone
    # lost its signal on the way back).
    stripe_webhooks("checkout.session.expired", "refund.created", "refund.updated")
    try:
        code_a = hold_the_trek(page, day, "Ana Tarde", "ana.late@example.com")
        page.get_by_role("button", name="Pay by card").click()
        expect(page.get_by_label("Amount due")).to_be_visible()
        session_id = page.url.rstrip("/").rsplit("/", 1)[1]
        emulators.control_action("stripe", f"/_emulator/stripe/sessions/{session_id}/pay")
    finally:
        stripe_webhooks()

    # Meanwhile A's hold ended (staff released it), and B took every seat and paid.
    staff = browser.new_context(base_url=base_url, locale="en-US").new_page()
    sign_in(staff, "demo-manager")
    staff.get_by_role("link", name="Reservations").click()
    staff.get_by_label("Code, name or e-mail").fill(code_a)
    staff.get_by_role("link", name=code_a).click()
    staff.get_by_role("button", name="Cancel and free the seats").click()
    expect(staff.get_by_test_id("status")).to_have_text("Cancelled")

    other = browser.new_context(base_url=base_url, locale="en-US").new_page()
    code_b = hold_the_trek(other, day, "Bruno Temprano", "bruno.early@example.com")
    other.get_by_role("button", name="Pay by card").click()
    other.get_by_role("button", name="Pay", exact=True).click()
    expect(other).to_have_url(CONFIRMED_PAGE, timeout=20_000)  # its webhook, on a busy machine

    # A's webhook arrives at last, signed as Stripe signs it.
    completed = next(
        event
        for event in client.v1.events.list(params={"type": "checkout.session.completed"}).data
        if event.data.object["id"] == session_id
    ).to_dict()
    body = json.dumps(completed)
    signature = stripe.WebhookSignature.generate_signature_header(
        body, account["webhook_secrets"][0]
    )
    delivery = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhooks/stripe/",
        data=body.encode(),
        headers={
            "Host": f"{DEMO_HOST}:{port}",
            "Content-Type": "application/json",
            "Stripe-Signature": signature,
        },
    )
    with urllib.request.urlopen(delivery, timeout=10) as response:
        assert response.status == 200

    # A's page says it plainly.
    page.goto(f"/reservations/{code_a}/")
    told = page.get_by_test_id("late-payment")
    expect(told.get_by_role("heading")).to_have_text("Your payment came after the seats were gone")
    expect(told).to_contain_text(re.compile(f"We received your payment of {AMOUNT}"))
    expect(told).to_contain_text(
        re.compile(f"A full refund of {AMOUNT} has been issued through Stripe.")
    )
    expect(told).to_contain_text("5 to 10 business days")

    # ... and so does A's e-mail.
    text = email_text(aws, "ana.late@example.com", "refunded in full")
    assert re.search(f"We received your payment of {EMAILED_AMOUNT}", text), text
    assert "no longer available" in text and "has been issued through Stripe" in text, text

    # Stripe shows the refund; B's booking and the seats are untouched.
    payment_intent = completed["data"]["object"]["payment_intent"]

    def refunds_settled():
        found = client.v1.refunds.list(params={"payment_intent": payment_intent}).data
        return found if found and all(r.status != "pending" for r in found) else None

    refunds = poll(refunds_settled)  # Stripe settles a refund a moment after making it
    assert [(refund.amount, refund.status) for refund in refunds] == [(48_000_000, "succeeded")]
    other.goto(f"/reservations/{code_b}/")
    expect(other.get_by_test_id("status")).to_have_text("Paid")
    staff.get_by_role("link", name=re.compile("09:00")).click()
    expect(staff.get_by_test_id("seats")).to_have_text(
        re.compile(r"^8 taken here \+ 0 sold on the panel, of 8$")
    )
