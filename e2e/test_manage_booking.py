"""Manage my booking in Chromium: a traveller pays a booking by card, then, on another device,
finds it by its code and e-mail, cancels it within the free period, and gets everything
back: the refund is made at the Stripe emulator, the page follows it, and an e-mail says so."""

import json
import time
from datetime import date, timedelta

import boto3
import pytest
import stripe
from playwright.sync_api import Browser, Page, expect

from e2e.test_payments import emails_sent_to, hold_two_adults

pytestmark = pytest.mark.e2e


def stripe_refunds(emulators, schema: str = "demo") -> list:
    """The refunds the demo operator's Stripe account made, as Stripe's API lists them."""
    secret = boto3.client("secretsmanager").get_secret_value(
        SecretId=f"andes-booking/operators/{schema}"
    )
    key = json.loads(secret["SecretString"])["stripe"]["secret_key"]
    client = stripe.StripeClient(key, base_addresses={"api": emulators.stripe_url})
    return list(client.v1.refunds.list(params={"limit": 100}).data)


def cancellation_email(aws: str, address: str, code: str) -> dict | None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for sent in emails_sent_to(aws, address, code, timeout=1):
            if "is cancelled" in sent["raw_data"]:
                return sent
        time.sleep(0.2)
    return None


def test_find_a_booking_by_code_and_email_and_cancel_it_for_a_full_refund(
    page: Page, browser: Browser, base_url: str, operator_today: date, aws: str, emulators
):
    day = operator_today + timedelta(days=11)
    code = hold_two_adults(page, f"/activities/beagle-channel/?day={day}", "carla@example.com")
    expect(page.get_by_test_id("cancellation-policy")).to_contain_text(
        "Free cancellation until 24 hours before departure"
    )
    page.get_by_role("button", name="Pay by card").click()
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()

    # Another device: the shop's footer leads to "Find my booking".
    phone = browser.new_context(base_url=base_url, locale="en-US").new_page()
    phone.goto("/")
    phone.get_by_role("link", name="Find my booking").click()
    phone.get_by_label("Reservation code").fill(f"{code[:4].lower()} {code[4:]}")
    phone.get_by_label("E-mail used for the booking").fill("wrong@example.com")
    phone.get_by_role("button", name="Find my booking").click()
    expect(phone.get_by_role("alert")).to_have_text(
        "There is no booking with that code and e-mail."
    )
    phone.get_by_label("E-mail used for the booking").fill("Carla@Example.com")
    phone.get_by_role("button", name="Find my booking").click()

    expect(phone).to_have_url(f"{base_url}/reservations/{code}/")
    expect(phone.get_by_test_id("status")).to_have_text("Paid")
    offer = phone.get_by_test_id("cancel-offer")
    expect(offer.get_by_test_id("refund-now")).to_contain_text("you get ARS 170,000.00 back")
    offer.get_by_role("link", name="Cancel my booking").click()

    confirmation = phone.get_by_test_id("cancel-confirmation")
    expect(confirmation.get_by_test_id("refund-now")).to_contain_text("you get ARS 170,000.00 back")
    phone.get_by_role("button", name="Yes, cancel my booking").click()

    expect(
        phone.get_by_text("Your booking is cancelled. Your refund is on its way.")
    ).to_be_visible()
    expect(phone.get_by_test_id("status")).to_have_text("Cancelled")
    # The provider confirms the refund (its webhook): the page, polling, says the money is back.
    expect(phone.get_by_test_id("cancellation")).to_contain_text(
        "Your refund of ARS 170,000.00 was given back to the payment you made.", timeout=15_000
    )

    refunds = [r for r in stripe_refunds(emulators) if r.amount == 17_000_000]
    assert refunds and refunds[0].status == "succeeded"
    assert cancellation_email(aws, "carla@example.com", code), "no cancellation e-mail went out"
