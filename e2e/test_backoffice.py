"""Operator staff in Chromium: sign in at the OIDC provider, create a week of departures,
find a traveller's paid reservation and its timeline, cancel another and see the seats come
back."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.test_payments import hold_two_adults

pytestmark = pytest.mark.e2e


def sign_in(page: Page, login: str) -> None:
    page.goto("/backoffice/")
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password").fill("any password works here")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("Manager")


def test_staff_create_departures_find_a_paid_booking_and_cancel_another(
    page: Page, browser: Browser, base_url: str, operator_today: date
):
    day = operator_today + timedelta(days=6)
    traveller = browser.new_context(base_url=base_url, locale="en-US").new_page()
    paid_code = hold_two_adults(
        traveller, f"/activities/beagle-channel/?day={day}", "paid@example.com"
    )
    traveller.get_by_role("button", name="Pay by card").click()
    traveller.get_by_role("button", name="Pay", exact=True).click()
    expect(traveller.get_by_role("heading", name="Booking confirmed")).to_be_visible()
    held_code = hold_two_adults(
        traveller, f"/activities/beagle-channel/?day={day}", "held@example.com"
    )

    sign_in(page, "demo-manager")

    # A week of new departures, far enough out to be new.
    page.get_by_role("link", name="Departures", exact=True).click()
    page.get_by_role("link", name="Create recurring departures").click()
    first = operator_today + timedelta(days=70)
    page.get_by_label("Activity").select_option(label="Martial Glacier trek")
    page.get_by_label("From").fill(first.isoformat())
    page.get_by_label("Until").fill((first + timedelta(days=6)).isoformat())
    for weekday in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        page.get_by_label(weekday).check()
    page.get_by_label("Departure times").fill("11:00")
    page.get_by_label("Seats per departure").fill("10")
    page.get_by_role("button", name="Create departures").click()
    expect(page.get_by_text("7 departures created.")).to_be_visible()
    expect(page.get_by_role("link", name="11:00")).to_have_count(7)

    # The paid reservation and its story.
    page.get_by_role("link", name="Reservations").click()
    page.get_by_label("Code, name or e-mail").fill("paid@example.com")
    page.get_by_role("link", name=paid_code).click()
    expect(page.get_by_test_id("status")).to_have_text("Paid")
    timeline = page.locator(".timeline").first
    for label in ("Seats held", "Payment started", "Paid", "E-mail sent"):
        expect(timeline.get_by_text(label, exact=True).first).to_be_visible()
    expect(timeline).not_to_contain_text("payment_started")
    expect(page.get_by_text("checkout.session.completed")).to_be_visible()

    # Cancel the other one: its two seats come back.
    page.get_by_role("link", name="Reservations").click()
    page.get_by_label("Code, name or e-mail").fill(held_code)
    page.get_by_role("link", name=held_code).click()
    page.get_by_role("link", name=re.compile("10:00")).click()
    expect(page.get_by_test_id("seats")).to_have_text("4 taken here + 0 sold on the panel, of 40")
    page.go_back()
    page.get_by_role("button", name="Cancel and free the seats").click()
    expect(page.get_by_text("Reservation cancelled; its seats are free again.")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Cancelled")
    page.get_by_role("link", name=re.compile("10:00")).click()
    expect(page.get_by_test_id("seats")).to_have_text("2 taken here + 0 sold on the panel, of 40")
