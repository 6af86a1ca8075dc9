"""Panel sync in Chromium (issue 9, acceptance 5): the owner connects the demo operator to its
activity panel and tests the connection, a manager maps the product left unmapped, the desk
bookings of the panel show on the manifest, and a traveller's booking here shows in the
panel's own list (asked of the emulator's control API, as the panel's desk would see it)."""

import time
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from e2e.test_payments import hold_two_adults
from emulators.octo_demo import DEMO_SUPPLIER_ID
from emulators.octo_testing import OctoPanel

pytestmark = pytest.mark.e2e

PANEL_PENGUINS = "Pingüinera de Isla Martillo"  # the panel's product
PENGUINS = "Martillo Island penguin colony"  # our activity, read in English
PANEL_WAIT_SECONDS = 15


def sign_in_as_owner(page: Page) -> None:
    page.goto("/backoffice/")
    page.get_by_label("Login").fill("demo-owner")
    page.get_by_label("Password").fill("any password works here")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("Owner")


def reload_until_visible(page: Page, locator: Locator) -> None:
    """What the Huey worker writes after a commit appears on a page only once reloaded: reload
    until it is there (each look waits on the page, web-first)."""
    deadline = time.monotonic() + PANEL_WAIT_SECONDS
    while True:
        try:
            expect(locator).to_be_visible(timeout=500)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def penguin_day(today: date) -> date:
    """The demo panel's penguin tour with a desk booking: the first day from the day after
    tomorrow that is not a Monday (emulators/octo_demo.py)."""
    return next(
        today + timedelta(days=n) for n in range(2, 9) if (today + timedelta(days=n)).weekday()
    )


def panel_booking(panel: OctoPanel, code: str) -> dict | None:
    """The panel's booking that names our reservation (its resellerReference), if any yet."""
    deadline = time.monotonic() + PANEL_WAIT_SECONDS
    while True:
        found = [b for b in panel.bookings(DEMO_SUPPLIER_ID) if b["resellerReference"] == code]
        if found or time.monotonic() > deadline:
            return found[0] if found else None
        time.sleep(0.2)


def test_staff_connect_the_panel_map_a_product_and_see_its_desk_bookings_and_ours_reach_it(
    page: Page, browser: Browser, base_url: str, operator_today: date, demo_panel: OctoPanel
):
    sign_in_as_owner(page)

    # The owner connects (the address the demo set, saved again) and tests the connection.
    page.get_by_role("link", name="Panel", exact=True).click()
    expect(page.get_by_label("Panel address (OCTO API)")).to_have_value(demo_panel.api_url)
    page.get_by_label("Sync with the panel").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Panel connection saved.")).to_be_visible()
    page.get_by_role("button", name="Test connection").click()
    result = page.get_by_test_id("test-result")
    expect(result).to_contain_text("Connected to Patagonia Demo Tours.")
    expect(result).to_contain_text("The panel sells 3 products:")
    expect(result.get_by_role("listitem").filter(has_text=PANEL_PENGUINS)).to_contain_text(
        "not mapped"
    )

    # A product left unmapped is mapped to our activity of the same name (in Spanish),
    # suggested first.
    result.get_by_role("link", name="Map the panel's products").click()
    card = page.get_by_test_id("unmapped-product").filter(has_text=PANEL_PENGUINS)
    card.get_by_label("Sell it as").select_option(label=PENGUINS)
    card.get_by_role("button", name="Map", exact=True).click()
    expect(page.get_by_text(f"{PANEL_PENGUINS} is sold as {PENGUINS}")).to_be_visible()
    expect(page.get_by_test_id("unmapped-product")).to_have_count(0)

    # Its departures and desk bookings are pulled at once: the agency's booking at the panel
    # is on the manifest, marked with its channel, and the seats add up both sides.
    day = penguin_day(operator_today)
    page.goto(f"/backoffice/departures/?from={day}")
    # The list starts on that day: its first penguin departure is that day's.
    page.get_by_role("row").filter(has_text=PENGUINS).first.get_by_role("link").click()
    page.get_by_role("link", name="Manifest").click()
    desk = page.get_by_test_id("desk-booking").filter(has_text="Agencia Canal Fueguino")
    reload_until_visible(page, desk)
    expect(desk).to_contain_text("AGENCIA-CANAL-552")
    expect(desk).to_contain_text("Panel")
    expect(page.get_by_test_id("seats")).to_have_text("0 taken here + 5 sold on the panel, of 20")

    # A traveller books here: the booking is in the panel's list, under our reservation.
    traveller = browser.new_context(base_url=base_url, locale="en-US").new_page()
    code = hold_two_adults(
        traveller,
        f"/activities/beagle-channel/?day={operator_today + timedelta(days=9)}",
        "panel@example.com",
    )
    booking = panel_booking(demo_panel, code)
    assert booking is not None, f"{code} never reached the panel"
    assert (booking["channel"], booking["status"]) == ("api", "ON_HOLD")
    assert len(booking["unitItems"]) == 2

    # Staff see the panel's word on the reservation.
    page.goto(f"/backoffice/reservations/{code}/")
    reload_until_visible(
        page, page.get_by_test_id("panel-status").filter(has_text="On hold at the panel")
    )
    expect(page.locator(".timeline")).to_contain_text("On hold at the panel")
