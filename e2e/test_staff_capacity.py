"""A manager changes a departure's capacity in Chromium and sees the number typed, on the
departure and in the list (the form once posted `capacity=25&capacity=1` and saved 1)."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from e2e.test_backoffice import sign_in

pytestmark = pytest.mark.e2e


def test_a_manager_changes_a_departures_capacity(page: Page, operator_today: date):
    sign_in(page, "demo-manager")
    # A departure of its own, at an hour the activity panel does not sell: the panel's pull
    # (the master of the capacity of the departures it sells) leaves it alone.
    day = operator_today + timedelta(days=75)
    page.get_by_role("link", name="Departures").click()
    page.get_by_role("link", name="Create recurring departures").click()
    page.get_by_label("Activity").select_option(label="Martial Glacier trek")
    page.get_by_label("From").fill(day.isoformat())
    page.get_by_label("Until").fill(day.isoformat())
    page.get_by_label(day.strftime("%A")).check()
    page.get_by_label("Departure times").fill("17:45")
    page.get_by_label("Seats per departure").fill("12")
    page.get_by_role("button", name="Create departures").click()
    expect(page.get_by_text("1 departure created.")).to_be_visible()

    page.get_by_role("link", name="17:45").click()
    expect(page.get_by_test_id("seats")).to_contain_text(re.compile(r"\bof 12\b"))
    page.get_by_label("Seats", exact=True).fill("25")
    page.get_by_role("button", name="Change capacity").click()

    expect(page.get_by_text("Capacity changed.")).to_be_visible()
    expect(page.get_by_test_id("seats")).to_contain_text(re.compile(r"\bof 25\b"))
    expect(page.get_by_label("Seats", exact=True)).to_have_value("25")
    page.goto(f"/backoffice/departures/?from={day}")
    expect(page.get_by_role("row", name=re.compile("17:45"))).to_contain_text("25 / 25")
