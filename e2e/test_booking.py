"""A traveller books on the served demo operator in Chromium: the calendar fragment, the live
total, the hold, a departure that sells out under a traveller's open form, and the same booking
without JavaScript.

The browser asks for English, so buttons and headings are the source strings; rate and activity
names are the operator's own data, in Spanish. Each test books its own departure, so the tests
do not depend on each other's seats.
"""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import BrowserContext, Page, Response, expect

pytestmark = pytest.mark.e2e

BEAGLE = "Beagle Channel boat trip"  # the demo's English text
GLACIER_SLUG = "glaciar-martial"
RESERVATION_PAGE = re.compile(r"/reservations/[A-Z2-9]{12}/$")
BOOKING_PAGE = re.compile(r"/departures/\d+/book/$")


def naming(day: date, text: str = "") -> re.Pattern:
    """A page's English name for `day` followed by `text`: weekday, month and day number as
    whole words in any order, since the date format is translatable ("Thursday, November 26")."""
    words = "".join(rf"(?=.*\b{word}\b)" for word in (f"{day:%A}", f"{day:%B}", day.day))
    return re.compile(rf"^{words}.*{re.escape(text)}$")


def show_month_of(page: Page, day: date, today: date) -> None:
    """The calendar opens on the current month: move on when the day falls in the next one."""
    if (day.year, day.month) != (today.year, today.month):
        page.get_by_role("link", name="Next month").click()
    month = re.compile(rf"(?=.*\b{day:%B}\b)(?=.*\b{day.year}\b)")
    expect(page.get_by_role("heading", name=month)).to_be_visible()


def departure_at(page: Page, time: str):
    return page.get_by_role("listitem").filter(has_text=time)


def fill_contact(page: Page, name: str, email: str) -> None:
    page.get_by_label("Full name").fill(name)
    page.get_by_label("E-mail").fill(email)


def enter_passengers(page: Page, *seats: str) -> None:
    """The step after the hold on the Beagle channel, whose catamaran sails with the coast
    guard's list: each seat's passenger (named by its rate and number) with a document."""
    for number, seat in enumerate(seats, start=1):
        passenger = page.get_by_role("group", name=seat, exact=True)
        passenger.get_by_label("Full name").fill(f"Pasajero {number}")
        passenger.get_by_label("Document number").fill(f"30.000.00{number}")
        passenger.get_by_label("Nationality").select_option("AR")
    page.get_by_role("button", name="Save and continue to payment").click()
    expect(page.get_by_text("Passenger details saved.")).to_be_visible()


def test_traveller_holds_seats_watching_the_live_total(page: Page, operator_today: date):
    day = operator_today + timedelta(days=1)
    page.goto("/")
    page.get_by_role("link", name=BEAGLE).click()
    expect(page.get_by_role("heading", level=1, name=BEAGLE)).to_be_visible()
    show_month_of(page, day, operator_today)

    def is_day_fragment(response: Response) -> bool:
        return (
            f"day={day.isoformat()}" in response.url
            and response.request.headers.get("hx-request") == "true"
        )

    day_link = page.get_by_role("link", name=naming(day, ": available"))
    with page.expect_response(is_day_fragment) as fragment:
        day_link.click()
    assert fragment.value.ok
    expect(page.get_by_role("heading", name=naming(day))).to_contain_text("Departures on")
    expect(day_link).to_have_attribute("aria-current", "date")
    expect(page).to_have_url(re.compile(rf"day={day.isoformat()}"))

    departure = departure_at(page, "10:00")
    # 40 seats, 3 of them sold at the activity panel's desk (emulators/octo_demo.py).
    expect(departure).to_contain_text("37 seats left")
    departure.get_by_role("link", name="Book").click()

    expect(page).to_have_url(BOOKING_PAGE)
    total = page.get_by_test_id("total")
    expect(page.get_by_text("Choose passengers to see the total.")).to_be_visible()
    page.get_by_label("Adult").fill("2")
    expect(total).to_have_text("ARS 170,000.00")
    page.get_by_label("Child (3-11)").fill("1")
    expect(total).to_have_text("ARS 212,500.00")
    expect(page.get_by_role("row", name="1 × Child (3-11)")).to_contain_text("ARS 42,500.00")

    fill_contact(page, "Ana Pérez", "ana@example.com")
    page.get_by_role("button", name="Hold my seats").click()

    expect(page).to_have_url(RESERVATION_PAGE)
    expect(page.get_by_role("heading", name="Seats held")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Held")
    expect(page.get_by_role("row", name="2 × Adult")).to_contain_text("ARS 170,000.00")
    expect(page.get_by_role("row", name="1 × Child (3-11)")).to_contain_text("ARS 42,500.00")
    expect(page.get_by_test_id("total")).to_have_text("ARS 212,500.00")

    # Who travels comes before the ways to pay.
    expect(page.get_by_role("heading", name="Who is travelling")).to_be_visible()
    expect(page.get_by_role("button", name="Pay by card")).to_have_count(0)
    enter_passengers(page, "Adult 1", "Adult 2", "Child (3-11) 1")
    expect(page.get_by_role("listitem").filter(has_text="Pasajero 3")).to_be_visible()
    expect(page.get_by_role("button", name="Pay by card")).to_be_visible()

    # In the operator's language the amount is written the Spanish way.
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change").click()
    expect(page.get_by_test_id("total")).to_have_text("ARS 212.500,00")


def test_sold_out_departure_cannot_be_booked(page: Page, new_context, operator_today: date):
    day = operator_today + timedelta(days=2)
    day_page = f"/activities/{GLACIER_SLUG}/?day={day.isoformat()}"

    # A second traveller opens the booking form while all eight seats are still free...
    late: BrowserContext = new_context()
    late_page = late.new_page()
    late_page.goto(day_page)
    departure_at(late_page, "09:00").get_by_role("link", name="Book").click()
    expect(late_page.get_by_text("8 seats left")).to_be_visible()
    late_page.get_by_label("Adult").fill("1")
    fill_contact(late_page, "Bruno Late", "bruno@example.com")

    # ...and the first one takes them all.
    page.goto(day_page)
    departure = departure_at(page, "09:00")
    expect(departure).to_contain_text("8 seats left")
    departure.get_by_role("link", name="Book").click()
    page.get_by_label("Adult").fill("8")
    expect(page.get_by_test_id("total")).to_have_text("ARS 480,000.00")
    fill_contact(page, "Carla Grupo", "carla@example.com")
    page.get_by_role("button", name="Hold my seats").click()
    expect(page).to_have_url(RESERVATION_PAGE)
    expect(page.get_by_test_id("status")).to_have_text("Held")

    page.goto(day_page)
    expect(page.get_by_text(naming(day, ": sold out"))).to_be_visible()
    expect(page.get_by_role("link", name=naming(day))).to_have_count(0)
    departure = departure_at(page, "09:00")
    expect(departure).to_contain_text("Sold out")
    expect(departure.get_by_role("link")).to_have_count(0)

    late_page.get_by_role("button", name="Hold my seats").click()
    expect(late_page.get_by_role("alert")).to_have_text("This departure is sold out.")
    expect(late_page).to_have_url(BOOKING_PAGE)
    expect(late_page.get_by_text("0 seats left")).to_be_visible()


def test_booking_works_without_javascript(new_context, operator_today: date):
    page = new_context(java_script_enabled=False).new_page()
    day = operator_today + timedelta(days=3)
    page.goto("/")
    page.get_by_role("link", name=BEAGLE).click()
    show_month_of(page, day, operator_today)
    page.get_by_role("link", name=naming(day, ": available")).click()
    expect(page).to_have_url(re.compile(rf"day={day.isoformat()}"))
    departure_at(page, "15:00").get_by_role("link", name="Book").click()

    page.get_by_label("Adult").fill("1")
    page.get_by_label("Senior").fill("1")
    page.get_by_role("button", name="Update total").click()
    expect(page.get_by_test_id("total")).to_have_text("ARS 153,000.00")

    fill_contact(page, "Diego Sin Script", "diego@example.com")
    page.get_by_role("button", name="Hold my seats").click()
    expect(page).to_have_url(RESERVATION_PAGE)
    expect(page.get_by_test_id("status")).to_have_text("Held")
    expect(page.get_by_test_id("total")).to_have_text("ARS 153,000.00")
    enter_passengers(page, "Adult 1", "Senior 1")
    expect(page.get_by_role("button", name="Pay by card")).to_be_visible()
