"""A traveller pays in Chromium: on the Stripe emulator's hosted checkout by card, and by
Pix through Mercado Pago on our own page. The reservation is confirmed only by the provider's
word: its webhook, or its API asked when the traveller comes back; the pages wait for it by
polling. Cancels and declines: test_payment_states.py."""

import json
import re
import time
import urllib.request
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import BRAZIL_HOST
from e2e.test_booking import RESERVATION_PAGE, departure_at, enter_passengers, fill_contact

pytestmark = pytest.mark.e2e

CONFIRMED_PAGE = re.compile(r"/reservations/[A-Z2-9]{12}/confirmed/$")


def hold_two_adults(page: Page, url: str, email: str) -> str:
    """Two adults on the 10:00 Beagle channel departure of `url`'s day, their passengers
    entered: the page offers the ways to pay. Returns the reservation's code."""
    page.goto(url)
    departure_at(page, "10:00").get_by_role("link", name="Book").click()
    page.get_by_label("Adult").fill("2")
    fill_contact(page, "Bruno Pagador", email)
    page.get_by_role("button", name="Hold my seats").click()
    expect(page).to_have_url(RESERVATION_PAGE)
    enter_passengers(page, "Adult 1", "Adult 2")
    return page.url.rstrip("/").rsplit("/", 1)[1]


def pay_by_card(page: Page, code: str) -> None:
    """On the Stripe emulator's hosted checkout: the traveller lands on the confirmation of
    reservation `code`."""
    page.get_by_role("button", name="Pay by card").click()
    expect(page.get_by_label("Amount due")).to_have_text("ARS 170,000.00")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page).to_have_url(CONFIRMED_PAGE)
    expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
    expect(page.get_by_test_id("code")).to_have_text(code)


def emails_sent_to(aws: str, address: str, code: str, timeout: float = 15.0) -> list[dict]:
    """The confirmation as moto's SES received it (the Huey worker sends it after commit)."""
    deadline = time.monotonic() + timeout
    while True:
        with urllib.request.urlopen(f"{aws}/moto-api/data.json") as response:
            sent = json.load(response)["ses"]["RawMessage"]
        found = [m for m in sent if address in m["destinations"] and code in m["raw_data"]]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_card_payment_on_the_hosted_checkout_ends_confirmed_with_the_email_sent(
    page: Page, operator_today: date, aws: str
):
    day = operator_today + timedelta(days=3)
    code = hold_two_adults(page, f"/activities/beagle-channel/?day={day}", "bruno@example.com")

    pay_by_card(page, code)
    expect(page.get_by_test_id("total")).to_have_text("ARS 170,000.00")
    assert emails_sent_to(aws, "bruno@example.com", code), "no confirmation e-mail went out"


def test_pix_qr_page_confirms_when_the_pix_arrives(page: Page, operator_today: date, base_url: str):
    port = urlsplit(base_url).port
    day = operator_today + timedelta(days=3)
    code = hold_two_adults(
        page,
        f"http://{BRAZIL_HOST}:{port}/activities/beagle-channel/?day={day}",
        "pix@example.com",
    )

    page.get_by_role("button", name="Pay with Pix").click()
    expect(page.get_by_role("heading", name="Pay with Pix")).to_be_visible()
    expect(page.get_by_role("img", name="Pix QR code")).to_be_visible()
    expect(page.get_by_label("Pix copy and paste code")).to_have_value(re.compile(r"^000201"))
    expect(page.get_by_text("Waiting for your Pix")).to_be_visible()
    expect(page.locator(".spinner")).to_have_count(0)  # the payer has yet to pay

    # The traveller pays in their bank app: here, the provider's payment page.
    with page.expect_popup() as bank:
        page.get_by_role("link", name="Open the payment page").click()
    bank.value.get_by_role("button", name="Pix paid").click()

    expect(page).to_have_url(CONFIRMED_PAGE)
    expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
    expect(page.get_by_test_id("code")).to_have_text(code)
