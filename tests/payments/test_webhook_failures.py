"""A webhook whose application fails is kept as failed, never half-applied, and is applied
again by the provider's redelivery or by staff."""

import pytest
from django.test import Client

from booking.models import Reservation
from payments import services
from payments.models import PaymentIntent, WebhookEvent
from payments.services import webhook_reprocess
from tests.conftest import ALPHA_HOST
from tests.payments.conftest import checkout_session, post_stripe, stripe_event


@pytest.fixture
def broken_once(monkeypatch):
    calls = []
    apply = services._apply_facts

    def fail_first(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")
        return apply(*args, **kwargs)

    monkeypatch.setattr(services, "_apply_facts", fail_first)
    return calls


def test_a_failed_application_is_recorded_and_the_redelivery_applies_it(
    operator_secrets, make_intent, broken_once
):
    intent = make_intent()
    client = Client(HTTP_HOST=ALPHA_HOST, raise_request_exception=False)
    event = stripe_event("checkout.session.completed", checkout_session(intent))

    assert post_stripe(client, event).status_code == 500
    recorded = WebhookEvent.objects.get()
    assert recorded.outcome == "failed" and "database hiccup" in recorded.note
    intent.refresh_from_db()
    assert intent.status == PaymentIntent.Status.PENDING
    assert Reservation.objects.get(pk=intent.reservation_id).status == "held"

    assert post_stripe(client, event).status_code == 200
    recorded.refresh_from_db()
    assert recorded.outcome == "applied"
    assert Reservation.objects.get(pk=intent.reservation_id).status == "paid"
    assert post_stripe(client, event).json()["duplicate"] is True


def test_staff_can_process_a_failed_event_again(operator_secrets, make_intent, broken_once):
    intent = make_intent()
    client = Client(HTTP_HOST=ALPHA_HOST, raise_request_exception=False)
    post_stripe(client, stripe_event("checkout.session.completed", checkout_session(intent)))
    recorded = WebhookEvent.objects.get()

    event = webhook_reprocess(event_pk=recorded.pk, actor="owner@alpha")

    assert event.outcome == "applied"
    reservation = Reservation.objects.get(pk=intent.reservation_id)
    assert reservation.status == "paid"
    assert reservation.events.get(kind="webhook_reprocessed").actor == "owner@alpha"
    with pytest.raises(services.IllegalTransition):
        webhook_reprocess(event_pk=recorded.pk, actor="owner@alpha")
