"""The operator's settings page (owners): contact e-mail and phone, the sender address and its
verification at SES (moto's server here), each change in the audit log; the page says which
sender is in use, and the confirmation e-mail goes out from it."""

import json
import re
import urllib.request
from email import message_from_string, policy

import boto3
import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditEntry
from outbox.delivery import outbox_deliver
from outbox.models import OutboxMessage
from tenants.models import Operator, Role
from tenants.operator_settings import (
    SesUnavailable,
    operator_sender_verify,
    operator_settings_update,
)
from tests.factories import hold, paid_by_card
from tests.factories import staff as staff_actor

URL = "/backoffice/settings/"


def form(**values) -> dict:
    return {
        "contact_email": "hola@alpha.example",
        "contact_phone": "+54 9 2901 555-0100",
        "sender_email": "",
        "payment_minutes": "30",
        "save": "1",
    } | values


def fresh() -> Operator:
    return Operator.objects.get(schema_name="alpha")


@pytest.fixture
def ses(aws, settings):
    """E-mail through SES at moto's server, the platform's address verified there."""
    settings.EMAIL_BACKEND = "django_ses.SESBackend"
    settings.AWS_SES_REGION_ENDPOINT_URL = aws
    settings.AWS_SES_ACCESS_KEY_ID = "testing"
    settings.AWS_SES_SECRET_ACCESS_KEY = "testing"
    settings.DEFAULT_FROM_EMAIL = "reservas@platform.example"
    boto3.client("ses").verify_email_identity(EmailAddress="reservas@platform.example")
    return aws


@pytest.mark.parametrize(
    ("role", "status"), [(Role.AGENT, 403), (Role.MANAGER, 403), (Role.OWNER, 200)]
)
def test_only_owners_see_and_change_the_settings(staff, alpha, role, status):
    client = staff(role)
    assert client.get(URL).status_code == status
    assert client.post(URL, form()).status_code in (status, 302)
    assert (fresh().contact_phone == "+54 9 2901 555-0100") is (role == Role.OWNER)
    nav = client.get("/backoffice/").content.decode()
    assert (f'href="{URL}"' in nav) is (role == Role.OWNER)


def test_an_owner_saves_the_contact_and_the_audit_log_says_what_changed(staff, alpha):
    client = staff(Role.OWNER)

    response = client.post(URL, form(contact_phone="  +54 9 2901   555-0100 "))

    assert response.status_code == 302
    operator = fresh()
    assert (operator.contact_email, operator.contact_phone) == (
        "hola@alpha.example",
        "+54 9 2901 555-0100",
    )
    (entry,) = AuditEntry.objects.filter(action="settings_changed")
    assert entry.actor == "owner@alpha.example"
    assert entry.data["changes"]["contact_phone"] == {"old": "", "new": "+54 9 2901 555-0100"}
    page = client.get(URL).content.decode()
    assert "Settings changed" in page and "phone for travellers: (none) → +54 9 2901" in page

    client.post(URL, form(contact_phone="+54 9 2901 555-0100"))
    assert AuditEntry.objects.filter(action="settings_changed").count() == 1  # nothing new


def test_an_owner_sets_the_minutes_to_pay_within_their_bounds(staff, alpha):
    client = staff(Role.OWNER)
    assert client.post(URL, form(payment_minutes="45")).status_code == 302
    assert fresh().payment_minutes == 45
    (entry,) = AuditEntry.objects.filter(action="settings_changed")
    assert entry.data["changes"]["payment_minutes"] == {"old": 30, "new": 45}
    for refused in ("4", "61", "", "ten"):
        response = client.post(URL, form(payment_minutes=refused))
        assert response.status_code == 400, refused
    assert fresh().payment_minutes == 45
    page = client.get(URL).content.decode()
    (field,) = re.findall(r'<input [^>]*name="payment_minutes"[^>]*>', page)
    for attribute in ('value="45"', 'min="5"', 'max="60"', 'inputmode="numeric"'):
        assert attribute in field


def test_a_bad_address_is_refused_with_the_form_again(staff, alpha):
    response = staff(Role.OWNER).post(URL, form(sender_email="not an address"))
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert fresh().sender_email == ""


def test_a_new_sender_address_is_not_in_use_until_verified_again(settings, alpha):
    settings.DEFAULT_FROM_EMAIL = "reservas@platform.example"
    alpha.sender_email = "reservas@alpha.example"
    alpha.sender_verified_at = timezone.now()
    alpha.save()
    assert alpha.sends_as_itself

    operator_settings_update(
        operator=alpha, actor=staff_actor(), values={"sender_email": "otro@alpha.example"}
    )

    operator = fresh()
    assert operator.sender_email == "otro@alpha.example"
    assert operator.sender_verified_at is None and not operator.sends_as_itself
    assert operator.email_from() == "Alpha Expeditions <reservas@platform.example>"


def test_only_owners_may_change_settings_or_verify(alpha):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        operator_settings_update(
            operator=alpha, actor=staff_actor(Role.MANAGER), values={"contact_phone": "1"}
        )
    with pytest.raises(PermissionDenied):
        operator_sender_verify(operator=alpha, actor=staff_actor(Role.MANAGER))


def test_the_page_says_the_platforms_address_is_in_use_until_the_sender_is_verified(
    settings, staff, alpha
):
    settings.DEFAULT_FROM_EMAIL = "reservas@platform.example"
    client = staff(Role.OWNER)
    client.post(URL, form(sender_email="reservas@alpha.example"))

    page = client.get(URL).content.decode()
    in_use = "In use: the platform's address with your name, Alpha Expeditions"
    assert f"{in_use} &lt;reservas@platform.example&gt;." in page
    assert "Replies go to hola@alpha.example." in page
    assert "reservas@alpha.example is not verified yet." in page
    assert 'name="verify"' in page


def test_verifying_at_ses_makes_the_operators_address_the_sender(ses, staff, alpha, make_slot):
    client = staff(Role.OWNER)
    client.post(URL, form(sender_email="reservas@verify-me.example"))

    response = client.post(URL, {"verify": "1"}, follow=True)

    assert "reservas@verify-me.example is verified" in response.content.decode()
    assert "In use: your own address, reservas@verify-me.example" in response.content.decode()
    operator = fresh()
    assert operator.sends_as_itself
    assert AuditEntry.objects.filter(
        action="sender_verified", target="reservas@verify-me.example"
    ).exists()

    # SES accepts the operator's address as the From: the confirmation goes out from it.
    reservation = paid_by_card(hold(make_slot(), 1))
    message = OutboxMessage.objects.create(
        topic="email.reservation_confirmed", payload={"reservation_id": reservation.pk}
    )
    assert outbox_deliver(message_id=message.pk) is True
    with urllib.request.urlopen(f"{ses}/moto-api/data.json") as answer:
        sent = json.load(answer)["ses"]["RawMessage"]
    (raw,) = [m["raw_data"] for m in sent if reservation.code in m["raw_data"]]
    parsed = message_from_string(raw, policy=policy.default)
    assert str(parsed["From"]) == "Alpha Expeditions <reservas@verify-me.example>"
    assert [a.addr_spec for a in parsed["Reply-To"].addresses] == ["hola@alpha.example"]


def test_an_address_on_a_verified_domain_is_verified_without_asking_the_address(ses, alpha):
    boto3.client("ses").verify_domain_identity(Domain="verified-domain.example")
    alpha.sender_email = "hola@verified-domain.example"
    alpha.save()

    check = operator_sender_verify(operator=alpha, actor=staff_actor())

    assert check.verified and not check.verification_sent
    identities = boto3.client("ses").list_identities()["Identities"]
    assert "hola@verified-domain.example" not in identities  # no verification e-mail asked


def test_ses_not_answering_changes_nothing_and_says_so(settings, staff, alpha):
    settings.AWS_SES_REGION_ENDPOINT_URL = "http://127.0.0.1:9"  # a closed port: no SES
    alpha.sender_email = "reservas@alpha.example"
    alpha.save()
    with pytest.raises(SesUnavailable):
        operator_sender_verify(operator=alpha, actor=staff_actor())

    response = staff(Role.OWNER).post(URL, {"verify": "1"}, follow=True)

    assert response.status_code == 200
    assert "Amazon SES did not answer" in response.content.decode()
    assert fresh().sender_verified_at is None
    assert not AuditEntry.objects.filter(action__startswith="sender_").exists()
    assert mail.outbox == []


def test_verify_without_a_sender_address_asks_for_one(staff, alpha):
    response = staff(Role.OWNER).post(URL, {"verify": "1"}, follow=True)
    assert "Enter the sender address first" in response.content.decode()


def test_htmx_gets_a_refresh_after_saving(staff, alpha):
    response = staff(Role.OWNER).post(URL, form(), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Refresh"] == "true"
