"""Clear times, prices and limits on the served demo (issue 11, point 5): the live total says
how many seats are left before the traveller submits, and the hold refuses the same in the
same words; an empty month says so; times carry their time zone and prices follow the
language, in Argentina (Spanish, English) and Brazil (Portuguese)."""

import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.conftest import BRAZIL_HOST

pytestmark = pytest.mark.e2e

ONLY_LEFT = re.compile(r"^Only \d+ seats left on this departure\.$")


def months_after(day: date, count: int) -> date:
    month = day.replace(day=1)
    for _ in range(count):
        month = (month + timedelta(days=32)).replace(day=1)
    return month


def test_the_live_total_says_how_many_seats_are_left_and_the_hold_agrees(
    page: Page, operator_today: date
):
    day = operator_today + timedelta(days=5)
    page.goto(f"/activities/glaciar-martial/?day={day}")
    expect(page.get_by_text(re.compile(r"^Times in Ushuaia, UTC−3\.$"))).to_be_visible()
    page.locator(".departure").first.get_by_role("link", name="Book").click()
    expect(page.locator(".lead time")).to_contain_text("(Ushuaia, UTC−3)")

    left = int(re.search(r"(\d+) seats? left", page.locator(".lead").inner_text())[1])
    counts = page.locator(".count-row input")
    counts.first.fill(str(left))
    expect(page.get_by_test_id("total")).to_contain_text("ARS")
    counts.last.fill("1")
    limit = page.get_by_test_id("seats-limit")
    expect(limit).to_have_text(f"Only {left} seats left on this departure.")
    expect(page.get_by_test_id("total")).to_have_count(0)

    page.get_by_label("Full name").fill("Ana Pérez")
    page.get_by_label("E-mail").fill("ana@example.com")
    page.get_by_role("button", name="Hold my seats").last.click()
    expect(page.get_by_role("alert")).to_have_text(f"Only {left} seats left on this departure.")


def test_an_empty_month_says_so(page: Page, operator_today: date):
    empty = months_after(operator_today, 4)  # the demo schedules two months ahead
    page.goto(f"/activities/glaciar-martial/?month={empty:%Y-%m}")
    expect(page.get_by_test_id("empty-month")).to_have_text(f"No departures in {empty:%B %Y}.")
    page.goto("/activities/glaciar-martial/")  # this month, with departures
    expect(page.locator(".calendar .available").first).to_be_visible()
    expect(page.get_by_test_id("empty-month")).to_have_count(0)


def test_the_brazilian_operator_reads_in_portuguese_with_reais(
    browser: Browser, base_url: str, operator_today: date
):
    port = urlsplit(base_url).port
    context = browser.new_context(base_url=f"http://{BRAZIL_HOST}:{port}", locale="pt-BR")
    page = context.new_page()
    page.goto("/")
    card = page.locator(".card").first
    expect(card.locator(".price")).to_have_text(re.compile(r"^R\$\s[\d.]+,\d{2}$"))
    expect(card.locator("time")).to_have_text(
        re.compile(r"^[A-Z][a-z]{2}, \d{1,2} [a-zç]{3}, \d\d:\d\d \(.+, UTC−\d\)$")
    )
    month = page.locator(".month-title")
    page.locator(".card a.button").first.click()
    expect(month).to_have_text(re.compile(r"^[A-Z][a-zç]+ de \d{4}$"))
    context.close()
