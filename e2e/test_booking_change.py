"""Staff change a booking in Chromium: the owner moves a traveller's paid booking to another
departure with one more passenger, previews the difference, and confirms; the traveller pays
the difference on the Stripe emulator's hosted checkout from the booking's own page, which
follows the change until the provider's webhook applies it."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.test_panel import sign_in_as_owner
from e2e.test_payments import hold_two_adults

pytestmark = pytest.mark.e2e


def amount(figure: str) -> re.Pattern:
    """An amount in pesos as the pages write it in English (with or without a space)."""
    return re.compile(rf"^ARS\s?{re.escape(figure)}$")


def test_staff_move_a_booking_and_the_traveller_pays_the_difference(
    page: Page, browser: Browser, base_url: str, operator_today: date
):
    day = operator_today + timedelta(days=8)
    traveller = browser.new_context(base_url=base_url, locale="en-US").new_page()
    code = hold_two_adults(traveller, f"/activities/beagle-channel/?day={day}", "move@example.com")
    traveller.get_by_role("button", name="Pay by card").click()
    traveller.get_by_role("button", name="Pay", exact=True).click()
    expect(traveller.get_by_role("heading", name="Booking confirmed")).to_be_visible()

    sign_in_as_owner(page)
    page.goto(f"/backoffice/reservations/{code}/")
    page.get_by_role("link", name="Change booking").click()

    # The departure a day later, picked from the Beagle channel's group, with three adults.
    later = page.locator("#id_slot optgroup[label='Navegación por el Canal Beagle'] option")
    target = later.filter(
        has_text=f"{(day + timedelta(days=1)):%b} {(day + timedelta(days=1)).day}, 10:00"
    )
    # The picker shows the counts of the chosen departure's activity (htmx): wait for them
    # before typing, or they would be swapped in over what was typed.
    chosen = target.get_attribute("value")
    page.get_by_label("Departure").select_option(chosen)
    expect(page.locator("#change")).to_have_attribute("data-chosen", chosen)
    page.get_by_label("Adulto").fill("3")
    page.get_by_role("button", name="Preview the price").click()
    preview = page.get_by_test_id("change-preview")
    expect(preview).to_contain_text("The traveller pays")
    expect(page.get_by_test_id("difference")).to_have_text(amount("85,000.00"))
    page.get_by_role("button", name="Confirm the change").click()
    expect(
        page.get_by_text("The change waits for the traveller to pay the difference")
    ).to_be_visible()
    expect(page.get_by_test_id("pending-change")).to_contain_text("3 seats held until")
    expect(page.get_by_test_id("status")).to_have_text("Paid")

    # The traveller's page shows the change and the way to pay its difference.
    traveller.goto(f"/reservations/{code}/")
    pending = traveller.get_by_test_id("pending-change")
    expect(pending).to_contain_text("A change to your booking is waiting for payment")
    expect(traveller.get_by_test_id("difference")).to_have_text(amount("85,000.00"))
    expect(traveller.get_by_test_id("total")).to_have_text(amount("170,000.00"))
    pending.get_by_role("button", name="Pay by card").click()
    expect(traveller.get_by_label("Amount due")).to_have_text("ARS 85,000.00")
    traveller.get_by_role("button", name="Pay", exact=True).click()

    # Back on the booking's page: it follows the change (polling) until the provider's
    # webhook has applied it, then shows the booking as it is now.
    expect(traveller.get_by_test_id("total")).to_have_text(amount("255,000.00"), timeout=15_000)
    expect(traveller.get_by_test_id("pending-change")).to_have_count(0)

    page.reload()
    expect(page.get_by_test_id("pending-change")).to_have_count(0)
    expect(page.locator(".lines").first).to_contain_text("3 × Adult")
    expect(page.locator(".timeline").first).to_contain_text("Booking changed")
