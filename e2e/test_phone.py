"""The traveller's pages on a phone (390 px wide, 320 px for the narrowest): passenger steppers
that work without JavaScript and are big enough to tap, no page wider than the screen, the
booking page's one column (two from 60rem), and the Pix page's hold countdown.

Every page of e2e/test_accessibility.py's `PAGES` table is checked for horizontal scroll too:
a page added there is checked here without more work.
"""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from e2e.test_accessibility import (  # noqa: F401 (make_bookings: a fixture)
    PAGES,
    Bookings,
    make_bookings,
    page_in,
)
from e2e.test_booking import RESERVATION_PAGE, departure_at, fill_contact

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
NARROWEST = {"width": 320, "height": 640}
DESKTOP = {"width": 1280, "height": 900}
TAP_TARGET = 44  # px, WCAG 2.5.5 and Apple's guidelines
DAY = 21  # days after today: no other browser test books this day
# Whether the select is wide enough for its longest choice beside its arrow (about 20 px).
WHOLE_CHOICES = """select => {
  const style = getComputedStyle(select);
  const context = document.createElement("canvas").getContext("2d");
  context.font = style.font;
  const longest = Math.max(...[...select.options].map((o) => context.measureText(o.text).width));
  const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
  return longest + padding + 20 <= select.clientWidth;
}"""


def open_booking_form(page: Page, day: date, time: str) -> None:
    page.goto(f"/activities/beagle-channel/?day={day}")
    departure_at(page, time).get_by_role("link", name="Book").click()


def box(locator: Locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not displayed"
    return found


def test_steppers_change_counts_and_book_without_javascript(
    browser: Browser, base_url: str, operator_today: date
):
    options = {"viewport": PHONE, "locale": "en-US", "java_script_enabled": False}
    with page_in(browser, base_url, **options) as page:
        open_booking_form(page, operator_today + timedelta(days=DAY), "15:00")
        adults = page.get_by_label("Adult")
        more_adults = page.get_by_role("button", name="Adult, more")
        fewer_adults = page.get_by_role("button", name="Adult, fewer")
        for button in (more_adults, fewer_adults):
            size = box(button)
            assert size["width"] >= TAP_TARGET and size["height"] >= TAP_TARGET, size

        # Each press posts the form; the page comes back with the count moved and priced.
        fewer_adults.click()
        expect(adults).to_have_value("0")  # never below none
        more_adults.click()
        expect(adults).to_have_value("1")
        more_adults.click()
        expect(adults).to_have_value("2")
        page.get_by_role("button", name="Senior, more").click()
        expect(page.get_by_label("Senior")).to_have_value("1")
        fill_contact(page, "Sol Sin Script", "sol@example.com")  # kept across presses
        page.get_by_role("button", name="Adult, fewer").click()
        expect(adults).to_have_value("1")
        expect(page.get_by_label("Full name")).to_have_value("Sol Sin Script")
        expect(page.get_by_test_id("total")).to_have_text("ARS 153,000.00")

        page.get_by_role("button", name="Hold my seats").click()
        expect(page).to_have_url(RESERVATION_PAGE)
        expect(page.get_by_test_id("status")).to_have_text("Held")
        expect(page.get_by_test_id("total")).to_have_text("ARS 153,000.00")


def test_steppers_move_the_count_in_the_page_and_the_live_total_follows(
    page: Page, operator_today: date
):
    page.set_viewport_size(PHONE)
    open_booking_form(page, operator_today + timedelta(days=DAY), "10:00")
    page.get_by_role("button", name="Child (3-11), more").click()
    page.get_by_role("button", name="Child (3-11), more").click()
    expect(page.get_by_label("Child (3-11)")).to_have_value("2")
    expect(page.get_by_test_id("total")).to_have_text("ARS 85,000.00")
    page.get_by_role("button", name="Child (3-11), fewer").click()
    expect(page.get_by_test_id("total")).to_have_text("ARS 42,500.00")
    expect(page).to_have_url(re.compile(r"/book/$"))  # no page was posted


@pytest.mark.parametrize("name", PAGES)
def test_no_public_page_scrolls_sideways_at_320_px(
    browser: Browser, base_url: str, bookings: Bookings, name: str
):
    with page_in(browser, base_url, viewport=NARROWEST, locale="es-AR") as page:
        page.goto(PAGES[name](bookings))
        widths = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        # The language picker shows its whole choice, not a cut one.
        picker = page.get_by_label("Idioma")
        if picker.count():
            assert picker.evaluate(WHOLE_CHOICES), "the language picker cuts a language's name"
    scroll_width, client_width = widths
    assert scroll_width <= client_width, f"{name} is {scroll_width} px wide at 320 px"


@pytest.mark.parametrize("name", ["activity page with the calendar", "booking form", "Pix"])
def test_the_heading_is_clear_of_the_header_on_a_phone(
    browser: Browser, base_url: str, bookings: Bookings, name: str
):
    with page_in(browser, base_url, viewport=PHONE, locale="en-US") as page:
        page.goto(PAGES[name](bookings))
        header = box(page.get_by_role("banner"))
        heading = box(page.get_by_role("heading", level=1))
    assert heading["y"] >= header["y"] + header["height"]


def test_booking_page_has_the_summary_beside_the_form_on_a_desktop_and_below_on_a_phone(
    page: Page, operator_today: date
):
    page.set_viewport_size(DESKTOP)
    open_booking_form(page, operator_today + timedelta(days=DAY), "10:00")
    fields = page.get_by_role("group", name="Passengers")
    summary = page.get_by_role("complementary", name="Your booking")
    submit = page.get_by_role("button", name="Hold my seats")
    expect(summary).to_contain_text("Beagle Channel boat trip")
    expect(summary.get_by_test_id("cancellation-policy")).to_be_visible()
    expect(summary.get_by_text("Choose passengers to see the total.")).to_be_visible()
    left, right = box(fields), box(summary)
    assert right["x"] >= left["x"] + left["width"], (left, right)  # side by side
    assert right["y"] < left["y"] + left["height"]

    page.set_viewport_size(PHONE)
    left, below, button = box(fields), box(summary), box(submit)
    assert below["x"] < left["x"] + left["width"]  # one column
    assert left["y"] + left["height"] <= below["y"] <= button["y"]
    # The total is just above the button that holds the seats.
    assert button["y"] - (below["y"] + below["height"]) < 120


def test_pix_page_counts_the_hold_down(browser: Browser, base_url: str, bookings: Bookings):
    with page_in(browser, base_url, viewport=PHONE, locale="en-US") as page:
        page.goto(bookings.pix)
        countdown = page.get_by_test_id("countdown")
        expect(countdown).to_have_text(re.compile(r"^\d+:\d\d left$"))
        first = countdown.inner_text()
        expect(countdown).not_to_have_text(first, timeout=10_000)
        then = countdown.inner_text()

    def seconds(text: str) -> int:
        minutes, secs = re.match(r"^(\d+):(\d\d)", text).groups()
        return int(minutes) * 60 + int(secs)

    assert 0 < seconds(then) < seconds(first)
