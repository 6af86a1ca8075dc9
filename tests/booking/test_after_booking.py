"""After booking: the departure as a calendar event (an RFC 5545 .ics file, on the booking's
code and attached to the confirmation e-mail, and a Google Calendar link), the meeting point
on a map, the operator's contact and its shop; every link in the e-mail absolute on the
operator's site, and the e-mail sent from the operator's own address once SES verified it."""

import re
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone, translation

from booking.calendar_links import (
    ICS_LINE_OCTETS,
    after_booking,
    ics_text,
    map_url,
    reservation_event,
)
from outbox.delivery import outbox_deliver
from outbox.models import OutboxMessage
from tests.factories import ALPHA_HOST, hold, paid_by_card

USHUAIA = ZoneInfo("America/Argentina/Ushuaia")
# 10:00 in Ushuaia (UTC-3, no daylight saving) is 13:00 UTC; the trip lasts 3 h 30 min.
DEPARTURE = datetime(2027, 1, 15, 10, 0, tzinfo=USHUAIA)
STARTS_UTC, ENDS_UTC = "20270115T130000Z", "20270115T163000Z"


@pytest.fixture
def beagle(make_activity):
    return make_activity(
        slug="beagle",
        name={"es": "Navegación Canal Beagle", "en": "Beagle Channel cruise"},
        meeting_point={
            "es": "Muelle Turístico, Av. Maipú 505; Ushuaia",
            "en": "Tourist Pier, Av. Maipú 505; Ushuaia",
        },
        duration=timedelta(hours=3, minutes=30),
    )


@pytest.fixture
def paid_booking(alpha, beagle, make_slot):
    """A booking made in English and paid, on a departure at 10:00 in Ushuaia."""

    def make(language: str = "en"):
        reservation = hold(make_slot(beagle, starts_at=DEPARTURE), 2)
        reservation.language = language
        reservation.save(update_fields=["language"])
        return paid_by_card(reservation)

    return make


def parse_ics(text: str) -> tuple[dict[str, str], list[str]]:
    """A strict reading of one VEVENT: CRLF line ends, lines of 75 octets at most, continued
    lines unfolded; returns the event's properties (name without parameters -> raw value) and
    the component lines in order."""
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    physical = text[:-2].split("\r\n")
    assert all(len(line.encode()) <= ICS_LINE_OCTETS for line in physical)
    logical: list[str] = []
    for line in physical:
        if line.startswith(" "):
            logical[-1] += line[1:]
        else:
            assert re.match(r"^[A-Z-]+[;:]", line), line
            logical.append(line)
    assert logical[:2] == ["BEGIN:VCALENDAR", "VERSION:2.0"]
    assert logical[-1] == "END:VCALENDAR"
    start, end = logical.index("BEGIN:VEVENT"), logical.index("END:VEVENT")
    properties = {}
    for line in logical[start + 1 : end]:
        name, value = line.split(":", 1)
        properties[name.split(";", 1)[0]] = value
    return properties, logical


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


def test_the_ics_file_has_the_departure_in_utc_in_the_travellers_language(settings, paid_booking):
    settings.OPERATOR_SITE_URL = "https://{domain}"
    reservation = paid_booking("en")
    with translation.override("es"):  # whatever the language active now
        event = reservation_event(
            reservation, operator=reservation_operator(), site=f"https://{ALPHA_HOST}"
        )
        text = ics_text(event, stamp=datetime(2027, 1, 2, 3, 4, 5, tzinfo=USHUAIA))

    properties, lines = parse_ics(text)
    assert "PRODID:-//Andes Booking//Booking confirmation//EN" in lines
    assert properties["DTSTART"] == STARTS_UTC
    assert properties["DTEND"] == ENDS_UTC
    assert properties["DTSTAMP"] == "20270102T060405Z"
    assert properties["UID"] == f"{reservation.uuid}@{ALPHA_HOST}"
    assert unescape(properties["SUMMARY"]) == "Beagle Channel cruise · Alpha Expeditions"
    assert unescape(properties["LOCATION"]) == "Tourist Pier, Av. Maipú 505; Ushuaia"
    assert properties["LOCATION"] == "Tourist Pier\\, Av. Maipú 505\\; Ushuaia"
    link = f"https://{ALPHA_HOST}/reservations/{reservation.code}/"
    assert unescape(properties["DESCRIPTION"]) == (
        f"Booking code: {reservation.code}\nYour booking: {link}"
    )
    assert properties["URL"] == link


def test_the_ics_file_speaks_spanish_to_a_spanish_booking(paid_booking):
    reservation = paid_booking("es")
    event = reservation_event(reservation, operator=reservation_operator(), site="https://x")
    properties, _ = parse_ics(ics_text(event))
    assert unescape(properties["SUMMARY"]) == "Navegación Canal Beagle · Alpha Expeditions"
    assert unescape(properties["LOCATION"]).startswith("Muelle Turístico")
    assert unescape(properties["DESCRIPTION"]).startswith(f"Código de reserva: {reservation.code}")


def test_long_lines_are_folded_between_characters_never_inside_one(paid_booking, beagle):
    beagle.set_texts("meeting_point", {"es": "Muelle ñandú " * 15, "en": "Ñ" * 100})
    beagle.save()
    reservation = paid_booking("en")
    event = reservation_event(reservation, operator=reservation_operator(), site="https://x")

    properties, _ = parse_ics(ics_text(event))  # every line within 75 octets, UTF-8 intact

    assert properties["LOCATION"] == "Ñ" * 100


def test_the_calendar_file_is_served_on_the_code_of_a_paid_booking(
    settings, alpha_client, paid_booking
):
    settings.OPERATOR_SITE_URL = "http://{domain}:8000"
    reservation = paid_booking("en")

    response = alpha_client.get(f"/reservations/{reservation.code}/calendar.ics")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{reservation.code}.ics"'
    properties, _ = parse_ics(response.content.decode())
    assert (properties["DTSTART"], properties["DTEND"]) == (STARTS_UTC, ENDS_UTC)
    assert properties["URL"] == f"http://{ALPHA_HOST}:8000/reservations/{reservation.code}/"


def test_a_booking_not_paid_has_no_calendar_file(alpha_client, make_slot):
    reservation = hold(make_slot(), 1)
    assert alpha_client.get(f"/reservations/{reservation.code}/calendar.ics").status_code == 404
    assert alpha_client.get("/reservations/NOSUCHCODE/calendar.ics").status_code == 404
    assert alpha_client.post(f"/reservations/{reservation.code}/calendar.ics").status_code == 405


def test_the_google_calendar_link_carries_the_departure_in_utc(paid_booking):
    reservation = paid_booking("en")
    links = after_booking(reservation, operator=reservation_operator(), site="https://x")

    url = urlsplit(links.google_calendar_url)
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://calendar.google.com/calendar/render"
    assert query["action"] == ["TEMPLATE"]
    assert query["dates"] == [f"{STARTS_UTC}/{ENDS_UTC}"]
    assert query["text"] == ["Beagle Channel cruise · Alpha Expeditions"]
    assert query["location"] == ["Tourist Pier, Av. Maipú 505; Ushuaia"]
    assert reservation.code in query["details"][0]
    assert query["ctz"] == ["America/Argentina/Ushuaia"]


def test_the_map_link_searches_the_meeting_point():
    url = map_url("Muelle Turístico, Av. Maipú 505")
    assert url == (
        "https://www.google.com/maps/search/?api=1&query=Muelle%20Tur%C3%ADstico%2C%20Av.%20Maip%C3%BA%20505"
    )
    assert map_url("  ") == ""


def reservation_operator():
    from django.db import connection

    return connection.tenant


# The confirmation e-mail


def confirmation_email(reservation):
    message = OutboxMessage.objects.create(
        topic="email.reservation_confirmed", payload={"reservation_id": reservation.pk}
    )
    mail.outbox.clear()
    assert outbox_deliver(message_id=message.pk) is True
    (sent,) = mail.outbox
    return sent


def links_in(email) -> tuple[list[str], list[str]]:
    """The links of the HTML part (href and src) and the URLs of the text part."""
    (html, _) = email.alternatives[0]
    return re.findall(r'(?:href|src)="([^"]+)"', html), re.findall(r"\w+://\S+", email.body)


@pytest.mark.parametrize(
    ("pattern", "site"),
    [
        ("https://{domain}", f"https://{ALPHA_HOST}"),  # production's default
        ("http://{domain}:8000", f"http://{ALPHA_HOST}:8000"),  # the demo's
    ],
)
def test_every_link_in_the_confirmation_is_absolute_on_the_operators_site(
    settings, alpha, paid_booking, pattern, site
):
    settings.OPERATOR_SITE_URL = pattern
    alpha.contact_email = "hola@alpha.example"
    alpha.contact_phone = "+54 9 2901 555-0100"
    alpha.save()
    reservation = paid_booking("en")

    email = confirmation_email(reservation)

    html_links, text_links = links_in(email)
    ours = [f"{site}/reservations/{reservation.code}/", f"{site}/"]
    ours.append(f"{site}/reservations/{reservation.code}/calendar.ics")
    for link in ours:
        assert link in html_links and link in text_links
    outside = ("https://calendar.google.com/", "https://www.google.com/maps/")
    for link in html_links:
        assert link.startswith((site + "/", *outside, "mailto:", "tel:", "cid:")), link
    for link in text_links:
        assert link.startswith((site + "/", *outside)), link
    assert "mailto:hola@alpha.example" in html_links
    assert "tel:+54929015550100" in html_links
    assert "example.com" not in email.body + email.alternatives[0][0]


def test_the_confirmation_carries_the_calendar_file_beside_the_inline_qr_code(paid_booking):
    reservation = paid_booking("en")

    email = confirmation_email(reservation)

    parsed = message_from_bytes(email.message().as_bytes(), policy=policy.default)
    (ics,) = list(parsed.iter_attachments())
    assert ics.get_content_type() == "text/calendar"
    assert ics.get_filename() == f"{reservation.code}.ics"
    properties, _ = parse_ics(ics.get_content())
    assert (properties["DTSTART"], properties["DTEND"]) == (STARTS_UTC, ENDS_UTC)
    (html,) = [p for p in parsed.walk() if p.get_content_type() == "text/html"]
    assert "Beagle Channel cruise" in html.get_content()


def test_the_confirmation_reads_in_the_travellers_language(alpha, paid_booking):
    alpha.contact_email = "hola@alpha.example"
    alpha.save()
    email = confirmation_email(paid_booking("pt-br"))
    assert "Adicione à sua agenda" in email.body
    assert "Dúvidas? Fale com Alpha Expeditions:" in email.body


# The sender


def sender_of(email) -> tuple[str, list[str]]:
    parsed = message_from_bytes(email.message().as_bytes(), policy=policy.default)
    reply_to = [a.addr_spec for a in parsed["Reply-To"].addresses] if parsed["Reply-To"] else []
    return str(parsed["From"]), reply_to


def test_a_verified_sender_address_is_the_from_and_replies_go_to_the_contact(
    settings, alpha, paid_booking
):
    settings.DEFAULT_FROM_EMAIL = "reservas@andes-booking.example"
    alpha.contact_email = "hola@alpha.example"
    alpha.sender_email = "reservas@alpha.example"
    alpha.sender_verified_at = timezone.now()
    alpha.save()

    sender, reply_to = sender_of(confirmation_email(paid_booking()))

    assert sender == "Alpha Expeditions <reservas@alpha.example>"
    assert reply_to == ["hola@alpha.example"]


def test_a_sender_address_not_verified_falls_back_to_the_platforms(settings, alpha, paid_booking):
    settings.DEFAULT_FROM_EMAIL = "Andes Booking <reservas@andes-booking.example>"
    alpha.contact_email = "hola@alpha.example"
    alpha.sender_email = "reservas@alpha.example"
    alpha.sender_verified_at = None
    alpha.save()

    sender, reply_to = sender_of(confirmation_email(paid_booking()))

    assert sender == "Alpha Expeditions <reservas@andes-booking.example>"
    assert reply_to == ["hola@alpha.example"]


def test_a_verified_sender_that_is_the_contact_too_needs_no_reply_to(alpha, paid_booking):
    alpha.contact_email = alpha.sender_email = "hola@alpha.example"
    alpha.sender_verified_at = timezone.now()
    alpha.save()

    sender, reply_to = sender_of(confirmation_email(paid_booking()))

    assert sender == "Alpha Expeditions <hola@alpha.example>"
    assert reply_to == []


# The confirmation page


def test_the_confirmation_page_has_the_calendar_map_contact_and_shop(
    alpha, alpha_client, paid_booking
):
    alpha.contact_email = "hola@alpha.example"
    alpha.contact_phone = "+54 9 2901 555-0100"
    alpha.save()
    reservation = paid_booking("en")

    page = alpha_client.get(f"/reservations/{reservation.code}/confirmed/").content.decode()

    assert f'href="/reservations/{reservation.code}/calendar.ics"' in page
    assert "https://calendar.google.com/calendar/render?action=TEMPLATE&amp;" in page
    assert f"dates={STARTS_UTC}%2F{ENDS_UTC}" in page
    assert "https://www.google.com/maps/search/?api=1&amp;query=Tourist%20Pier" in page
    assert 'href="mailto:hola@alpha.example"' in page
    assert 'href="tel:+5492901555010' in page
    assert 'href="/"' in page
    assert 'class="qr-code"' in page


def test_without_a_contact_the_page_and_email_say_nothing_of_one(alpha_client, paid_booking):
    reservation = paid_booking("en")
    page = alpha_client.get(f"/reservations/{reservation.code}/confirmed/").content.decode()
    assert "Questions?" not in page and "mailto:" not in page
    assert "Questions?" not in confirmation_email(reservation).body
