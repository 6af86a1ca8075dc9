"""axe-core (vendored from npm in e2e/vendor/) checks every public page in Chromium, at phone and
desktop width, in Spanish and in English: no `serious` or `critical` violation is allowed.

TO CHECK ANOTHER PUBLIC PAGE, ADD ONE ROW TO `PAGES` below: its name and a function from the
bookings built once for this module (`Bookings`) to its address. A page that needs a booking in
another state gets a field in `Bookings`, filled in `make_bookings()`. Every row is checked at both
widths in both languages; nothing else needs to change.

The bookings are made as a traveller makes them, in the browser, on days no other browser test
books, so their seats do not move other tests' figures.
"""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.conftest import BRAZIL_HOST
from e2e.test_booking import RESERVATION_PAGE, departure_at, enter_passengers, fill_contact
from e2e.test_payments import CONFIRMED_PAGE, hold_two_adults

pytestmark = pytest.mark.e2e

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
BLOCKING = {"serious", "critical"}
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
LANGUAGES = {"es": "es-AR", "en": "en-US"}
FIRST_DAY = 20  # days after today: the other browser tests book nearer ones


@dataclass(frozen=True)
class Bookings:
    """Addresses of pages that only exist once a traveller has booked or paid."""

    day: date
    booking_form: str
    held_with_passengers_form: str
    held_with_ways_to_pay: str
    payment_return: str
    pix: str
    paid: str


PAGES: dict[str, Callable[[Bookings], str]] = {
    "catalogue": lambda b: "/",
    "activity page with the calendar": lambda b: f"/activities/beagle-channel/?day={b.day}",
    "booking form": lambda b: b.booking_form,
    "reservation held, passengers form": lambda b: b.held_with_passengers_form,
    "reservation held, ways to pay": lambda b: b.held_with_ways_to_pay,
    "reservation paid": lambda b: b.paid,
    "payment return": lambda b: b.payment_return,
    "Pix": lambda b: b.pix,
    "confirmation": lambda b: b.paid + "confirmed/",
    "change booking": lambda b: b.paid + "change/",
    "find my booking": lambda b: "/my-booking/",
    "404": lambda b: "/no-such-page/",
    "400": lambda b: "/?q=%00",
}
STATUS = {"404": 404, "400": 400}


def _hold(page: Page, day: date, adults: int, email: str) -> str:
    page.goto(f"/activities/beagle-channel/?day={day}")
    departure_at(page, "10:00").get_by_role("link", name="Book").click()
    page.get_by_label("Adult").fill(str(adults))
    fill_contact(page, "Ana Accesible", email)
    page.get_by_role("button", name="Hold my seats").click()
    expect(page).to_have_url(RESERVATION_PAGE)
    return urlsplit(page.url).path


@pytest.fixture(scope="module", name="bookings")
def make_bookings(browser: Browser, base_url: str, operator_today: date) -> Bookings:
    day = operator_today + timedelta(days=FIRST_DAY)
    context = browser.new_context(base_url=base_url, locale="en-US")
    page = context.new_page()

    page.goto(f"/activities/beagle-channel/?day={day}")
    departure_at(page, "10:00").get_by_role("link", name="Book").click()
    booking_form = urlsplit(page.url).path

    held_with_passengers_form = _hold(page, day, 1, "a11y-form@example.com")
    held_with_ways_to_pay = _hold(page, day, 1, "a11y-pay@example.com")
    enter_passengers(page, "Adult 1")

    # A card payment begun and not finished: its return page waits for the provider.
    payment_return = _hold(page, day, 1, "a11y-return@example.com") + "return/"
    enter_passengers(page, "Adult 1")
    page.get_by_role("button", name="Pay by card").click()
    expect(page.get_by_role("button", name="Pay", exact=True)).to_be_visible()

    code = hold_two_adults(page, f"/activities/beagle-channel/?day={day}", "a11y-paid@example.com")
    page.get_by_role("button", name="Pay by card").click()
    page.get_by_role("button", name="Pay", exact=True).click()
    # The return page waits for the provider's webhook, slower on a loaded machine.
    expect(page).to_have_url(CONFIRMED_PAGE, timeout=20_000)

    port = urlsplit(base_url).port
    hold_two_adults(
        page,
        f"http://{BRAZIL_HOST}:{port}/activities/beagle-channel/?day={day}",
        "a11y-pix@example.com",
    )
    page.get_by_role("button", name="Pay with Pix").click()
    expect(page.get_by_role("heading", name="Pay with Pix")).to_be_visible()
    pix = page.url
    context.close()
    return Bookings(
        day=day,
        booking_form=booking_form,
        held_with_passengers_form=held_with_passengers_form,
        held_with_ways_to_pay=held_with_ways_to_pay,
        payment_return=payment_return,
        pix=pix,
        paid=f"/reservations/{code}/",
    )


@contextmanager
def page_in(browser: Browser, base_url: str, **context_options) -> Iterator[Page]:
    """A page in a browser context of its own (its size, its language...), closed after."""
    context = browser.new_context(base_url=base_url, **context_options)
    try:
        yield context.new_page()
    finally:
        context.close()


def axe_violations(page: Page) -> list[dict]:
    """axe-core's violations on the page as it is now. The script is evaluated through the
    browser's debugging protocol, which the Content-Security-Policy does not govern."""
    page.evaluate(AXE)
    return page.evaluate("async () => (await axe.run(document)).violations")


def describe(violations: list[dict]) -> str:
    return "\n".join(
        f"{v['impact']}: {v['id']} ({v['help']}) at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in violations
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", PAGES)
def test_public_page_has_no_serious_accessibility_violation(
    browser: Browser, base_url: str, bookings: Bookings, name: str, width: str, language: str
):
    with page_in(browser, base_url, viewport=WIDTHS[width], locale=LANGUAGES[language]) as page:
        response = page.goto(PAGES[name](bookings))
        assert response.status == STATUS.get(name, 200)
        expect(page.locator("html")).to_have_attribute("lang", re.compile(rf"^{language}"))
        blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert not blocking, describe(blocking)
