"""A traveller in Chromium is told exactly what happened to their payment: a checkout
cancelled on the provider's page, a declined card, a decline followed by a payment, and a
return before the provider's webhook. No spinner shows unless a confirmation is really
awaited; the ways to pay are offered again wherever nothing is under way."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from e2e.test_booking import RESERVATION_PAGE
from e2e.test_payments import hold_two_adults, pay_by_card
from emulators.testing import Emulators

pytestmark = pytest.mark.e2e

RETURN_PAGE = re.compile(r"/reservations/[A-Z2-9]{12}/return/")
WEBHOOK_DELAY_SECONDS = 4


def beagle_day(operator_today: date, days: int) -> str:
    return f"/activities/beagle-channel/?day={operator_today + timedelta(days=days)}"


def expect_no_spinner(page: Page) -> None:
    expect(page.locator(".spinner")).to_have_count(0)


def expect_ways_to_pay(page: Page) -> None:
    expect(page.get_by_role("button", name="Pay by card")).to_be_visible()
    expect(page.get_by_role("button", name="Pay with Mercado Pago")).to_be_visible()


def test_a_checkout_cancelled_on_the_provider_s_page_says_so(page: Page, operator_today: date):
    hold_two_adults(page, beagle_day(operator_today, 12), "cancela@example.com")
    page.get_by_role("button", name="Pay by card").click()
    expect(page.get_by_label("Amount due")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()

    expect(page).to_have_url(RETURN_PAGE)
    expect(page.get_by_role("heading", name="You did not finish paying")).to_be_visible()
    expect(page.get_by_text("Nothing was charged.", exact=False).first).to_be_visible()
    expect_no_spinner(page)
    expect_ways_to_pay(page)

    # The reservation page tells the same.
    page.get_by_role("link", name="See your reservation").click()
    expect(page).to_have_url(RESERVATION_PAGE)
    expect(page.get_by_test_id("status")).to_have_text("Held")
    expect(page.get_by_role("heading", name="You did not finish paying")).to_be_visible()
    expect_no_spinner(page)
    expect_ways_to_pay(page)


def test_a_declined_card_shows_one_message_and_the_ways_to_pay(page: Page, operator_today: date):
    hold_two_adults(page, beagle_day(operator_today, 12), "rechazo@example.com")
    page.get_by_role("button", name="Pay by card").click()
    page.get_by_role("button", name="Decline", exact=True).click()
    expect(page.get_by_text("Your card was declined.")).to_be_visible()
    page.get_by_role("link", name="Back to the shop").click()

    expect(page).to_have_url(RETURN_PAGE)
    expect(page.get_by_role("alert")).to_have_count(1)
    expect(page.get_by_role("alert")).to_contain_text("Your payment was declined")
    expect(page.get_by_text("Nothing was charged. You can try another card")).to_be_visible()
    expect(page.get_by_role("heading", name="You did not finish paying")).to_have_count(0)
    expect_no_spinner(page)
    expect_ways_to_pay(page)


def test_declined_then_paid_another_way(page: Page, operator_today: date):
    code = hold_two_adults(page, beagle_day(operator_today, 13), "otravez@example.com")
    page.get_by_role("button", name="Pay with Mercado Pago").click()
    page.get_by_role("button", name="Decline", exact=True).click()

    # Mercado Pago sends the traveller back by the failure link, its own query string added.
    expect(page).to_have_url(re.compile(r"/return/\?cancelled=1&.*status=rejected"))
    expect(page.get_by_role("alert")).to_contain_text("Your payment was declined")
    expect_no_spinner(page)

    pay_by_card(page, code)


@pytest.fixture
def webhooks_held_back(emulators: Emulators):
    """Stripe's webhooks arrive WEBHOOK_DELAY_SECONDS late; afterwards, those held back are
    waited for (later tests must not meet them) and the delay is lifted."""
    before = len(emulators.deliveries("stripe"))
    emulators.behaviour("stripe", delay_seconds=WEBHOOK_DELAY_SECONDS)
    yield before
    try:
        emulators.wait_for_deliveries(
            "stripe", lambda rows: len(rows) > before, timeout=WEBHOOK_DELAY_SECONDS + 10
        )
    finally:
        emulators.behaviour("stripe", delay_seconds=0)


def test_a_return_before_the_webhook_shows_the_payment_confirmed(
    page: Page, operator_today: date, emulators: Emulators, webhooks_held_back: int
):
    code = hold_two_adults(page, beagle_day(operator_today, 13), "antes@example.com")
    # Stripe's own API, asked when the traveller lands, says it is paid.
    pay_by_card(page, code)
    assert len(emulators.deliveries("stripe")) == webhooks_held_back, "the webhook came first"
