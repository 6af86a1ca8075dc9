"""Check-in at the pier in Chromium: a paid traveller's confirmation carries a QR code; staff
on a phone-sized page (390 px) find the booking by its typed code and mark it arrived, and a
second staff member's page shows it without reloading. Where the browser can read QR codes
(BarcodeDetector, stood in for here: there is no camera), the scan opens the booking."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.test_payments import hold_two_adults

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
# What the poll every 3 s needs to reach the second page, with room for a slow machine.
LIVE = 10_000

# The camera and the QR reader, as a phone's browser gives them: the reader "sees" `code`.
FAKE_SCANNER = """
window.BarcodeDetector = class {
  async detect() { return [{ rawValue: %r }]; }
};
navigator.mediaDevices.getUserMedia = async () => {
  const canvas = document.createElement("canvas");
  canvas.getContext("2d").fillRect(0, 0, 8, 8);
  return canvas.captureStream();
};
"""


def staff_page(browser: Browser, base_url: str, login: str, role: str, **context) -> Page:
    page = browser.new_context(base_url=base_url, **{"locale": "en-US", **context}).new_page()
    page.goto("/backoffice/")
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password").fill("any password works here")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_contain_text(role)
    return page


def test_staff_check_a_booking_in_by_its_code_on_a_phone_and_a_colleague_sees_it_live(
    page: Page, browser: Browser, base_url: str, operator_today: date
):
    day = operator_today + timedelta(days=11)
    code = hold_two_adults(page, f"/activities/beagle-channel/?day={day}", "pier@example.com")
    page.get_by_role("button", name="Pay by card").click()
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
    expect(page.get_by_role("img", name="QR code of your booking")).to_be_visible()

    phone = staff_page(browser, base_url, "demo-agent", "Agent", viewport=PHONE)
    phone.goto(f"/backoffice/reservations/?q={code}")
    phone.get_by_role("link", name=code).click()
    phone.get_by_role("link", name=re.compile("10:00")).click()
    phone.get_by_role("link", name="Check-in").click()
    expect(phone.get_by_role("heading", name="Check-in")).to_be_visible()
    checkin_url = phone.url

    colleague = staff_page(browser, base_url, "demo-manager", "Manager")
    colleague.goto(checkin_url)
    theirs = colleague.get_by_test_id(f"checkin-{code}")
    expect(theirs.get_by_test_id("attendance")).to_have_text("Not checked in yet")

    phone.get_by_label("Name or booking code").fill(code.lower())
    card = phone.get_by_test_id(f"checkin-{code}")
    expect(
        phone.get_by_role("listitem").filter(has=phone.get_by_role("button", name="Arrived"))
    ).to_have_count(1)
    expect(card).to_contain_text("Pasajero 1")
    card.get_by_role("button", name="Arrived").click()
    expect(card.get_by_test_id("attendance")).to_contain_text("Arrived")
    expect(card.get_by_test_id("attendance")).to_contain_text("ana.agent@example.com")
    # Nothing on the phone's page is wider than the phone.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    expect(theirs.get_by_test_id("attendance")).to_contain_text("Arrived", timeout=LIVE)
    expect(colleague.get_by_test_id("arrived-count")).to_have_text(
        re.compile(r"^2 of "), timeout=LIVE
    )

    # The colleague's phone reads the confirmation's QR code: the booking opens, and undo works.
    scanner = staff_page(browser, base_url, "demo-owner", "Owner", viewport=PHONE)
    scanner.add_init_script(FAKE_SCANNER % code)
    scanner.goto(checkin_url)
    scanner.get_by_role("button", name="Scan QR code").click()
    expect(scanner.get_by_label("Name or booking code")).to_have_value(code)
    opened = scanner.get_by_test_id(f"checkin-{code}")
    expect(scanner.locator(".checkin-card")).to_have_count(1)
    opened.get_by_role("button", name="Undo").click()
    expect(opened.get_by_test_id("attendance")).to_have_text("Not checked in yet")
    expect(theirs.get_by_test_id("attendance")).to_have_text("Not checked in yet", timeout=LIVE)
