"""A webhook whose application fails is kept as failed, never half-applied, and is applied
again by the provider's redelivery or by staff."""

import pytest
from django.test import Client

from booking.errors import IllegalTransition
from booking.models import Reservation
from payments.models import PaymentIntent, WebhookEvent
from payments.services import webhooks
from payments.services.webhooks import webhook_reprocess
from tests.factories import ALPHA_HOST, checkout_session, post_stripe, staff, stripe_event


@pytest.fixture
def broken_once(monkeypatch):
    calls = []
    apply = webhooks.intent_apply_facts

    def fail_first(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")
        return apply(*args, **kwargs)

    monkeypatch.setattr(webhooks, "intent_apply_facts", fail_first)
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

    event = webhook_reprocess(event_pk=recorded.pk, actor=staff(email="owner@alpha"))

    assert event.outcome == "applied"
    reservation = Reservation.objects.get(pk=intent.reservation_id)
    assert reservation.status == "paid"
    assert reservation.events.get(kind="webhook_reprocessed").actor == "owner@alpha"
    with pytest.raises(IllegalTransition):
        webhook_reprocess(event_pk=recorded.pk, actor=staff(email="owner@alpha"))


def test_only_the_event_key_makes_a_duplicate_another_integrity_error_is_a_failure(
    operator_secrets, make_intent, monkeypatch
):
    """A duplicate is told by the unique constraint's name in PostgreSQL's diagnostics; any
    other constraint that stops the application is a failure, kept for redelivery."""
    from django.db.models import F

    def breaks_a_check_constraint(intent, *args, **kwargs):
        PaymentIntent.objects.filter(pk=intent.pk).update(amount_refunded=F("amount") + 1)

    monkeypatch.setattr(webhooks, "intent_apply_facts", breaks_a_check_constraint)
    intent = make_intent()
    client = Client(HTTP_HOST=ALPHA_HOST, raise_request_exception=False)
    event = stripe_event("checkout.session.completed", checkout_session(intent))

    assert post_stripe(client, event).status_code == 500
    recorded = WebhookEvent.objects.get()
    assert recorded.outcome == "failed" and "intent_refund_lte_amount" in recorded.note
    monkeypatch.undo()
    assert post_stripe(client, event).json() == {
        "received": True,
        "duplicate": False,
        "outcome": "applied",
    }
