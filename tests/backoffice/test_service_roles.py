"""The services check the acting staff member's role too (not only the pages), and that they
are staff of the operator whose schema is in use."""

import pytest
from django.core.exceptions import PermissionDenied

from booking.catalogue import rate_set_price, slot_set_capacity, slot_set_open
from booking.services import reservation_cancel, reservation_resend_confirmation
from payments.models import Anomaly, PaymentIntent, WebhookEvent
from payments.services.anomalies import anomaly_resolve
from payments.services.reconciliation import payment_reconcile
from payments.services.refunds import refund_request
from payments.services.webhooks import webhook_reprocess
from tenants.actors import Actor
from tenants.models import Operator, Role
from tenants.services import membership_grant
from tests.factories import SYSTEM, hold


@pytest.fixture
def member(alpha):
    def make(role, operator=None):
        return membership_grant(
            actor=SYSTEM,
            operator=operator or alpha,
            sub=f"svc-{role}-{operator}",
            email=f"{role}@svc.example",
            role=role,
        )

    return make


@pytest.fixture
def objects(make_slot):
    slot = make_slot(capacity=5)
    reservation = hold(slot, 1)
    intent = PaymentIntent.objects.create(
        reservation=reservation,
        provider="stripe",
        method="card",
        status="succeeded",
        amount=100,
        currency="ARS",
        provider_payment_id="pi_x",
    )
    event = WebhookEvent.objects.create(
        provider="stripe", event_id="e", event_type="t", raw_body="{}", outcome="failed"
    )
    anomaly = Anomaly.objects.create(kind="amount_mismatch", reservation=reservation, details="x")
    return slot, reservation, intent, event, anomaly


def calls(objects, staff):
    slot, reservation, intent, event, anomaly = objects
    rate = slot.activity.rates.first()
    return {
        Role.MANAGER: [
            lambda: slot_set_capacity(slot_id=slot.pk, capacity=9, actor=Actor.staff(staff)),
            lambda: slot_set_open(slot_id=slot.pk, is_open=False, actor=Actor.staff(staff)),
            lambda: rate_set_price(
                rate_id=rate.pk,
                amount=1,
                min_per_booking=0,
                max_per_booking=3,
                actor=Actor.staff(staff),
            ),
            lambda: reservation_cancel(reservation_id=reservation.pk, actor=Actor.staff(staff)),
            lambda: payment_reconcile(intent_id=intent.pk, actor=Actor.staff(staff)),
            lambda: webhook_reprocess(event_pk=event.pk, actor=Actor.staff(staff)),
            lambda: anomaly_resolve(anomaly_id=anomaly.pk, actor=Actor.staff(staff)),
        ],
        Role.OWNER: [
            lambda: refund_request(intent_id=intent.pk, amount=10, actor=Actor.staff(staff)),
        ],
    }


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER])
def test_services_refuse_staff_below_the_role(member, objects, role):
    staff = member(role)
    for least, actions in calls(objects, staff).items():
        if staff.grants(least):
            continue
        for action in actions:
            with pytest.raises(PermissionDenied):
                action()
    slot = objects[0]
    slot.refresh_from_db()
    assert (slot.capacity, slot.is_open) == (5, True)


def test_services_refuse_staff_of_another_operator(member, objects):
    owner_elsewhere = member(Role.OWNER, Operator.objects.get(schema_name="beta"))
    for actions in calls(objects, owner_elsewhere).values():
        for action in actions:
            with pytest.raises(PermissionDenied, match="not staff of alpha"):
                action()


def test_agents_may_resend_confirmations(member, objects):
    _, reservation, *_ = objects
    reservation.status = "paid"
    reservation.save()
    reservation_resend_confirmation(
        reservation_id=reservation.pk, actor=Actor.staff(member(Role.AGENT))
    )
    assert reservation.events.filter(kind="confirmation_resent").exists()
