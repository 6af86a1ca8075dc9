"""What staff do in the backoffice, and what it records."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEntry
from booking.models import Reservation, ReservationEvent, Slot
from outbox.models import OutboxMessage
from payments.models import PaymentIntent, WebhookEvent
from tenants.models import Role
from tests.factories import hold
from tests.html_forms import form_with


def test_recurring_departures_are_created_in_one_go_and_audited(staff, make_activity):
    activity = make_activity()
    today = timezone.localdate()
    data = {
        "activity": activity.pk,
        "first_day": today + timedelta(days=1),
        "last_day": today + timedelta(days=7),
        "weekdays": [0, 2, 4],
        "times": "09:00, 15:30",
        "capacity": "12",
    }
    response = staff(Role.MANAGER).post("/backoffice/departures/new/", data)
    assert response.status_code == 302
    slots = Slot.objects.filter(activity=activity)
    assert slots.count() == 3 * 2  # a week holds each weekday once
    assert {s.capacity for s in slots} == {12}
    assert {
        timezone.localtime(s.starts_at, timezone.get_fixed_timezone(-180)).strftime("%H:%M")
        for s in slots
    } == {"09:00", "15:30"}
    entry = AuditEntry.objects.get(action="departures_created")
    assert entry.actor == "manager@alpha.example" and entry.data["created"] == 6
    again = staff(Role.MANAGER).post("/backoffice/departures/new/", data)
    assert again.status_code == 302 and slots.count() == 6  # existing ones are left alone


def test_bad_recurring_input_re_renders_with_messages_and_creates_nothing(staff, make_activity):
    activity = make_activity()
    today = timezone.localdate()
    response = staff(Role.MANAGER).post(
        "/backoffice/departures/new/",
        {
            "activity": activity.pk,
            "first_day": today,
            "last_day": today - timedelta(days=1),
            "weekdays": [],
            "times": "9h",
            "capacity": "0",
        },
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "“9h” is not a time like 09:30." in body
    assert "The range must end after it starts." in body
    assert not Slot.objects.filter(activity=activity).exists()


def test_capacity_never_goes_below_the_seats_taken(staff, make_slot):
    slot = make_slot(capacity=10)
    hold(slot, 4)
    client = staff(Role.MANAGER)
    url = f"/backoffice/departures/{slot.pk}/"
    form = form_with(client.get(url).content.decode(), button="Change capacity")
    refused = client.post(url, form.submission("Change capacity", capacity="3"))
    assert refused.status_code == 409
    assert "Capacity cannot go below the 4 seats already taken." in refused.content.decode()
    slot.refresh_from_db()
    assert slot.capacity == 10
    assert client.post(url, form.submission("Change capacity", capacity="4")).status_code == 302
    slot.refresh_from_db()
    assert slot.capacity == 4 and slot.seats_left == 0


def test_close_and_reopen(staff, make_slot):
    slot = make_slot()
    client = staff(Role.MANAGER)
    client.post(f"/backoffice/departures/{slot.pk}/", {"close": "1"})
    slot.refresh_from_db()
    assert not slot.is_open
    client.post(f"/backoffice/departures/{slot.pk}/", {"reopen": "1"})
    slot.refresh_from_db()
    assert slot.is_open
    by_manager = AuditEntry.objects.filter(actor="manager@alpha.example")
    assert list(by_manager.values_list("action", flat=True)) == ["opened", "closed"]


def test_cancelling_a_held_reservation_gives_the_seats_back(staff, make_slot):
    slot = make_slot(capacity=6)
    reservation = hold(slot, 3)
    response = staff(Role.MANAGER).post(
        f"/backoffice/reservations/{reservation.code}/", {"cancel": "1"}
    )
    assert response.status_code == 302
    slot.refresh_from_db()
    reservation.refresh_from_db()
    assert slot.taken == 0 and reservation.status == "cancelled"
    assert reservation.events.last().actor == "manager@alpha.example"


def test_a_refund_larger_than_what_was_paid_is_refused(staff, make_slot):
    reservation = hold(make_slot(), 2)
    intent = PaymentIntent.objects.create(
        reservation=reservation,
        provider="stripe",
        method="card",
        status="succeeded",
        amount=reservation.total_amount,
        currency="ARS",
        provider_payment_id="pi_1",
    )
    response = staff(Role.OWNER).post(
        f"/backoffice/reservations/{reservation.code}/",
        {"refund": intent.pk, "amount": "999999999"},
        follow=True,
    )
    assert "nothing left to refund for that amount" in response.content.decode()
    assert not intent.refunds.exists()


def test_resending_the_confirmation_goes_through_the_outbox(staff, make_slot):
    reservation = hold(make_slot(), 1)
    Reservation.objects.filter(pk=reservation.pk).update(status="paid")
    mail.outbox.clear()
    staff(Role.AGENT).post(f"/backoffice/reservations/{reservation.code}/", {"resend": "1"})
    message = OutboxMessage.objects.get()
    assert message.topic == "email.reservation_confirmed"
    event = ReservationEvent.objects.get(kind="confirmation_resent")
    assert event.actor == "agent@alpha.example"


def test_reservation_page_shows_the_whole_story(staff, make_slot):
    reservation = hold(make_slot(), 2)
    intent = PaymentIntent.objects.create(
        reservation=reservation,
        provider="stripe",
        method="card",
        amount=reservation.total_amount,
        currency="ARS",
        provider_reference="cs_test_story",
    )
    WebhookEvent.objects.create(
        provider="stripe",
        event_id="evt_story",
        intent=intent,
        event_type="checkout.session.completed",
        raw_body="{}",
        outcome="applied",
    )
    body = staff(Role.AGENT).get(f"/backoffice/reservations/{reservation.code}/").content.decode()
    for expected in ("held", "cs_test_story", "checkout.session.completed", "Ana Viajera"):
        assert expected in body
    assert "Reconcile now" not in body  # agents read only
    manager_view = staff(Role.MANAGER).get(f"/backoffice/reservations/{reservation.code}/")
    assert "Reconcile now" in manager_view.content.decode()


def test_search_and_filters(staff, make_slot, make_activity):
    slot = make_slot(capacity=20)
    ana = hold(slot, 1)
    bruno = hold(slot, 2)
    Reservation.objects.filter(pk=bruno.pk).update(
        contact_name="Bruno Díaz", contact_email="bruno@x.example"
    )
    client = staff(Role.AGENT)
    by_name = client.get("/backoffice/reservations/?q=bruno").content.decode()
    assert bruno.code in by_name and ana.code not in by_name
    by_code = client.get(f"/backoffice/reservations/?q={ana.code.lower()}").content.decode()
    assert ana.code in by_code and bruno.code not in by_code
    fragment = client.get("/backoffice/reservations/?status=cancelled", HTTP_HX_REQUEST="true")
    assert fragment.content.decode().lstrip().startswith('<section id="results">')
    assert ana.code not in fragment.content.decode()
    day = timezone.localtime(slot.starts_at, timezone.get_fixed_timezone(-180)).date()
    by_day = client.get(f"/backoffice/reservations/?day={day}").content.decode()
    assert ana.code in by_day and bruno.code in by_day


def test_export_is_json_for_a_date_range(staff, make_slot):
    slot = make_slot()
    reservation = hold(slot, 2)
    Reservation.objects.filter(pk=reservation.pk).update(contact_name='=HYPERLINK("x")')
    day = timezone.localtime(slot.starts_at, timezone.get_fixed_timezone(-180)).date()
    response = staff(Role.AGENT).get(f"/backoffice/reservations/export/?from={day}&to={day}")
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    (row,) = data["reservations"]
    assert row["code"] == reservation.code
    assert row["contact"]["name"] == '=HYPERLINK("x")'  # data, not a formula: it is JSON
    assert row["lines"] == [{"rate": "Adult", "quantity": 2, "unit_amount": 10_000_00}]
    too_long = staff(Role.AGENT).get(
        f"/backoffice/reservations/export/?from={day}&to={day + timedelta(days=200)}"
    )
    assert too_long.status_code == 400


def test_webhook_log_filters_and_shows_the_raw_payload(staff):
    WebhookEvent.objects.create(
        provider="stripe",
        event_id="evt_a",
        event_type="charge.refunded",
        raw_body='{"id": "evt_a", "secret_field": 1}',
        outcome="ignored",
    )
    WebhookEvent.objects.create(
        provider="mercadopago",
        event_id="99",
        event_type="payment.updated",
        raw_body="{}",
        outcome="failed",
        note="RuntimeError: boom",
    )
    client = staff(Role.AGENT)
    failed = client.get("/backoffice/webhooks/?outcome=failed").content.decode()
    assert "payment.updated" in failed and "charge.refunded" not in failed
    by_provider = client.get("/backoffice/webhooks/?provider=stripe").content.decode()
    assert "charge.refunded" in by_provider and "payment.updated" not in by_provider
    event = WebhookEvent.objects.get(event_id="evt_a")
    detail = client.get(f"/backoffice/webhooks/{event.pk}/").content.decode()
    assert "&quot;secret_field&quot;: 1" in detail


def list_queries(client, url) -> int:
    client.get(url)  # warm: session, translations
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [
        "/backoffice/",
        "/backoffice/reservations/",
        "/backoffice/departures/",
        "/backoffice/departures/?view=calendar",
        "/backoffice/webhooks/",
        "/backoffice/anomalies/",
        "/backoffice/activities/",
    ],
)
def test_list_pages_run_a_fixed_number_of_queries(staff, make_activity, make_slot, url):
    client = staff(Role.MANAGER)
    counts = []
    for rows in (5, 50):
        for index in range(rows - Reservation.objects.count()):
            activity = make_activity(slug=f"trip-{index % 7}")
            slot = make_slot(activity, starts_at=timezone.now() + timedelta(hours=3, minutes=index))
            reservation = hold(slot, 1, scope=f"c{index}")
            WebhookEvent.objects.create(
                provider="stripe",
                event_id=f"evt_{rows}_{index}",
                event_type="x",
                raw_body="{}",
                outcome="applied",
                intent=PaymentIntent.objects.create(
                    reservation=reservation,
                    provider="stripe",
                    method="card",
                    amount=1,
                    currency="ARS",
                ),
            )
        counts.append(list_queries(client, url))
    assert counts[0] == counts[1], counts


def test_resolving_an_anomaly_records_who(staff, make_slot):
    from payments.models import Anomaly

    reservation = hold(make_slot(), 1)
    anomaly = Anomaly.objects.create(
        kind="paid_without_seats", reservation=reservation, details="late"
    )
    page = staff(Role.MANAGER).get("/backoffice/anomalies/").content.decode()
    assert "Paid, but the seats were gone" in page
    staff(Role.MANAGER).post("/backoffice/anomalies/", {"resolve": anomaly.pk})
    anomaly.refresh_from_db()
    assert anomaly.resolved_by == "manager@alpha.example" and anomaly.resolved_at
    assert reservation.events.get(kind="anomaly_resolved").actor == "manager@alpha.example"


def test_owners_give_and_remove_access_and_it_is_audited(staff):
    from tenants.models import Membership

    owner = staff(Role.OWNER)
    owner.post(
        "/backoffice/team/",
        {"grant": "1", "sub": "new-agent", "email": "n@alpha.example", "role": "agent"},
    )
    membership = Membership.objects.get(user__sub="new-agent")
    assert membership.role == "agent"
    owner.post("/backoffice/team/", {"remove": membership.pk})
    assert not Membership.objects.filter(user__sub="new-agent").exists()
    me = Membership.objects.get(user__sub="alpha-owner")
    owner.post("/backoffice/team/", {"remove": me.pk})
    assert Membership.objects.filter(pk=me.pk).exists()
    by_owner = AuditEntry.objects.filter(actor="owner@alpha.example")
    assert list(by_owner.values_list("action", "target")) == [
        ("member_removed", "n@alpha.example"),
        ("member_granted", "n@alpha.example"),
    ]
