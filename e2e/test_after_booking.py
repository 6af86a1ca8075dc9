"""After paying, in Chromium: the confirmation page's calendar file (downloaded and read), its
Google Calendar, map, contact and shop links; the confirmation e-mail as moto's SES received it,
its links absolute on the demo's site (scheme and port) and followed in the browser, the .ics
attached; and an owner who verifies the operator's own sender address at SES (settings page)
gets the next e-mails sent from it."""

import re
from datetime import date, datetime, time, timedelta
from email import message_from_bytes, policy
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import BRAZIL_HOST, DEMO_TIME_ZONE
from e2e.test_booking import RESERVATION_PAGE
from e2e.test_payments import CONFIRMED_PAGE, emails_sent_to, hold_two_adults

pytestmark = pytest.mark.e2e

SHOP = "Patagonia Demo Tours"
# The provider's webhook confirms the payment; on a loaded machine it may take a few seconds.
CONFIRMED_WITHIN_MS = 20_000


def utc(day: date, local_time: str) -> str:
    """`local_time` on `day` in the demo operator's zone, as an iCalendar UTC instant."""
    moment = datetime.combine(day, time.fromisoformat(local_time), tzinfo=ZoneInfo(DEMO_TIME_ZONE))
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")


def ics_properties(text: str) -> dict[str, str]:
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    unfolded = text.replace("\r\n ", "")
    return dict(line.split(":", 1) for line in unfolded.split("\r\n") if ":" in line)


def raw_email(aws: str, address: str, code: str):
    (sent,) = emails_sent_to(aws, address, code)
    return message_from_bytes(sent["raw_data"].encode(), policy=policy.default)


def test_the_confirmation_page_and_email_take_the_traveller_onwards(
    page: Page, operator_today: date, aws: str, base_url: str
):
    day = operator_today + timedelta(days=5)
    code = hold_two_adults(page, f"/activities/beagle-channel/?day={day}", "onwards@example.com")
    page.get_by_role("button", name="Pay by card").click()
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page).to_have_url(CONFIRMED_PAGE, timeout=CONFIRMED_WITHIN_MS)
    expect(page.get_by_role("heading", name="Before you go")).to_be_visible()

    # The calendar file, downloaded as a traveller does.
    with page.expect_download() as download:
        page.get_by_role("link", name="Calendar file (.ics)").click()
    assert download.value.suggested_filename == f"{code}.ics"
    with open(download.value.path(), encoding="utf-8", newline="") as file:
        event = ics_properties(file.read())
    assert event["DTSTART"] == utc(day, "10:00")
    assert event["URL"] == f"{base_url}/reservations/{code}/"
    assert code in event["DESCRIPTION"]
    assert event["LOCATION"]

    google = urlsplit(page.get_by_role("link", name="Google Calendar").get_attribute("href"))
    assert google.netloc == "calendar.google.com"
    assert parse_qs(google.query)["dates"][0].startswith(f"{utc(day, '10:00')}/")
    map_link = page.get_by_role("link", name="See the meeting point on the map")
    map_link = map_link.get_attribute("href")
    assert map_link.startswith("https://www.google.com/maps/search/?api=1&query=")
    expect(page.get_by_role("link", name="hola@patagonia-demo-tours.example")).to_have_attribute(
        "href", "mailto:hola@patagonia-demo-tours.example"
    )
    expect(page.get_by_role("link", name="+54 9 2901 555-0100")).to_have_attribute(
        "href", "tel:+5492901555" + "0100"
    )
    page.get_by_role("link", name=f"More activities at {SHOP}").click()
    expect(page).to_have_url(f"{base_url}/")

    # The e-mail: every link of ours absolute on the demo's site, followed in the browser.
    email = raw_email(aws, "onwards@example.com", code)
    html = email.get_body(preferencelist=("html",)).get_content()
    text = email.get_body(preferencelist=("plain",)).get_content()
    ours = [link for link in re.findall(r'href="([^"]+)"', html) if "google.com" not in link]
    ours = [link for link in ours if not link.startswith(("mailto:", "tel:"))]
    assert ours and all(link.startswith(f"{base_url}/") for link in ours), ours
    assert f"{base_url}/reservations/{code}/calendar.ics" in text
    assert "example.com/" not in html + text
    (ics,) = list(email.iter_attachments())
    assert ics.get_filename() == f"{code}.ics"
    assert ics_properties(ics.get_content())["DTSTART"] == utc(day, "10:00")

    page.goto(f"{base_url}/reservations/{code}/")
    expect(page).to_have_url(RESERVATION_PAGE)
    expect(page.get_by_test_id("status")).to_have_text("Paid")


def test_an_owner_verifies_the_sender_address_and_the_emails_come_from_it(
    page: Page, operator_today: date, aws: str, base_url: str
):
    brazil = f"http://{BRAZIL_HOST}:{urlsplit(base_url).port}"
    page.goto(f"{brazil}/backoffice/")  # the demo owner is an owner of both demo operators
    page.get_by_label("Login").fill("demo-owner")
    page.get_by_label("Password").fill("any password works here")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("Owner")
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_test_id("sender-in-use")).to_contain_text("the platform's address")

    page.get_by_label("Send the e-mails from").fill("reservas@patagonia-demo-brasil.example")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("is verified: your e-mails are sent from it.")).to_be_visible()
    expect(page.get_by_test_id("sender-in-use")).to_contain_text(
        "In use: your own address, reservas@patagonia-demo-brasil.example"
    )
    expect(page.get_by_text("Sender address verified")).to_be_visible()  # the audit log

    day = operator_today + timedelta(days=5)
    code = hold_two_adults(
        page, f"{brazil}/activities/beagle-channel/?day={day}", "remetente@example.com"
    )
    page.get_by_role("button", name="Pay with Pix").click()
    with page.expect_popup() as bank:
        page.get_by_role("link", name="Open the payment page").click()
    bank.value.get_by_role("button", name="Pix paid").click()
    expect(page).to_have_url(CONFIRMED_PAGE, timeout=CONFIRMED_WITHIN_MS)

    email = raw_email(aws, "remetente@example.com", code)
    assert email["From"].addresses[0].addr_spec == "reservas@patagonia-demo-brasil.example"
    assert email["Reply-To"].addresses[0].addr_spec == "ola@patagonia-demo-brasil.example"
