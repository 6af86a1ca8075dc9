"""The confirmation e-mail's links and sender: links open the operator's site as its travellers
reach it (OPERATOR_SITE_URL), and the mail shows the operator's name and replies to its own
address, sent from the platform's address that SES has verified."""

import json
import os
import subprocess
import sys
import urllib.request
from email import message_from_string, policy
from email.headerregistry import Address

import boto3
import pytest
from django.core import mail

from outbox.delivery import outbox_deliver
from outbox.models import OutboxMessage
from tests.factories import ALPHA_HOST, hold


def confirm(reservation) -> None:
    message = OutboxMessage.objects.create(
        topic="email.reservation_confirmed", payload={"reservation_id": reservation.pk}
    )
    mail.outbox.clear()
    assert outbox_deliver(message_id=message.pk) is True


@pytest.mark.parametrize(
    ("pattern", "site"),
    [
        ("https://{domain}", f"https://{ALPHA_HOST}"),  # the default: production
        ("http://{domain}:8000", f"http://{ALPHA_HOST}:8000"),  # what the demo sets
    ],
)
def test_the_confirmation_links_to_the_operators_site(settings, make_slot, pattern, site):
    settings.OPERATOR_SITE_URL = pattern
    reservation = hold(make_slot(), 1)

    confirm(reservation)

    (email,) = mail.outbox
    link = f"{site}/reservations/{reservation.code}/"
    assert link in email.body.split()
    (html, _) = email.alternatives[0]
    assert f'href="{link}"' in html


def test_by_default_operators_sites_are_https_on_the_usual_port():
    env = {k: v for k, v in os.environ.items() if k != "OPERATOR_SITE_URL"}
    code = "from project import settings; print(settings.OPERATOR_SITE_URL)"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "https://{domain}"


def test_the_confirmation_shows_the_operator_and_replies_go_to_its_address(
    settings, alpha, make_slot
):
    settings.DEFAULT_FROM_EMAIL = "reservas@andes-booking.example"
    alpha.brand_name = "Navegación Alpha"
    alpha.contact_email = "hola@alpha.example"
    alpha.save()
    reservation = hold(make_slot(), 1)

    confirm(reservation)

    (email,) = mail.outbox
    parsed = message_from_string(email.message().as_string(), policy=policy.default)
    (sender,) = parsed["From"].addresses
    assert sender == Address("Navegación Alpha", addr_spec="reservas@andes-booking.example")
    assert [str(a.addr_spec) for a in parsed["Reply-To"].addresses] == ["hola@alpha.example"]


def test_without_an_address_of_its_own_the_operator_gets_no_reply_to(settings, alpha, make_slot):
    alpha.contact_email = ""
    alpha.save()
    reservation = hold(make_slot(), 1)

    confirm(reservation)

    (email,) = mail.outbox
    assert email.reply_to == []
    assert "Reply-To" not in email.message()


def test_ses_takes_the_operators_name_on_the_verified_address(aws, settings, alpha, make_slot):
    """SES refuses a From that is not one of the account's verified identities: the operator's
    own address could not be the From without verifying its domain at SES."""
    settings.EMAIL_BACKEND = "django_ses.SESBackend"
    settings.AWS_SES_REGION_ENDPOINT_URL = aws
    settings.AWS_SES_ACCESS_KEY_ID = "testing"
    settings.AWS_SES_SECRET_ACCESS_KEY = "testing"
    settings.DEFAULT_FROM_EMAIL = "reservas@verified.example"
    boto3.client("ses").verify_email_identity(EmailAddress="reservas@verified.example")
    alpha.brand_name = "Navegación Alpha"
    alpha.contact_email = "hola@alpha.example"
    alpha.save()
    reservation = hold(make_slot(), 1)

    confirm(reservation)

    with urllib.request.urlopen(f"{aws}/moto-api/data.json") as response:
        sent = json.load(response)["ses"]["RawMessage"]
    (raw,) = [m["raw_data"] for m in sent if reservation.code in m["raw_data"]]
    parsed = message_from_string(raw, policy=policy.default)
    assert parsed["From"].addresses[0].display_name == "Navegación Alpha"
    assert parsed["From"].addresses[0].addr_spec == "reservas@verified.example"
    assert parsed["Reply-To"].addresses[0].addr_spec == "hola@alpha.example"


def test_the_confirmation_carries_the_code_as_an_inline_qr_image(make_slot):
    from email import message_from_bytes

    from booking.qr import code_qr_png

    reservation = hold(make_slot(), 1)
    confirm(reservation)
    (sent,) = mail.outbox
    parsed = message_from_bytes(sent.message().as_bytes(), policy=policy.default)
    # mixed [related [alternative [text, html], image], the .ics file]
    assert parsed.get_content_type() == "multipart/mixed"
    related = parsed.get_payload()[0]
    assert related.get_content_type() == "multipart/related"
    assert related.get_payload()[0].get_content_type() == "multipart/alternative"
    (image,) = [part for part in related.walk() if part.get_content_type() == "image/png"]
    cid = image["Content-ID"].strip("<>")
    assert image.get_content_disposition() == "inline"
    assert image.get_content() == code_qr_png(reservation.code)
    html = parsed.get_body(preferencelist=("html",)).get_content()
    assert f'src="cid:{cid}"' in html and "data:image" not in html
    assert cid.startswith(f"qr-{reservation.code}@")
