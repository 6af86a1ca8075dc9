"""A manager reads the season's reports in Chromium: a traveller pays, the reports page draws
the day's booking and revenue as charts, with their data table, and the report's JSON link
answers JSON."""

from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.test_backoffice import sign_in
from e2e.test_payments import hold_two_adults

pytestmark = pytest.mark.e2e


def test_a_manager_sees_the_charts_and_their_json(
    page: Page, browser: Browser, base_url: str, operator_today: date
):
    traveller = browser.new_context(base_url=base_url, locale="en-US").new_page()
    day = operator_today + timedelta(days=9)
    hold_two_adults(traveller, f"/activities/beagle-channel/?day={day}", "charts@example.com")
    traveller.get_by_role("button", name="Pay by card").click()
    traveller.get_by_role("button", name="Pay", exact=True).click()
    expect(traveller.get_by_role("heading", name="Booking confirmed")).to_be_visible()

    sign_in(page, "demo-manager")
    page.get_by_role("link", name="Reports").first.click()
    page.get_by_role("combobox", name="Period").select_option(label="This week")
    page.get_by_role("button", name="Show").click()

    expect(page.get_by_role("img", name="Bookings per day")).to_be_visible()
    expect(page.get_by_role("img", name="Revenue per day (ARS)")).to_be_visible()
    expect(page.get_by_role("img", name="Occupancy per week")).to_be_visible()
    bookings = page.locator("#bookings")
    bookings.get_by_text("Data table").click()
    expect(bookings.get_by_role("table")).to_be_visible()

    # Fetched by the page itself: Chromium resolves *.localhost, this process does not.
    href = bookings.get_by_role("link", name="JSON").get_attribute("href")
    body = page.evaluate("href => fetch(href).then(r => r.ok ? r.json() : r.status)", href)
    assert list(body["reports"]) == ["bookings"]
    assert body["reports"]["bookings"]["totals"]["bookings"]["paid"] >= 1
    assert body["reports"]["bookings"]["totals"]["revenue"]["ARS"] > 0
