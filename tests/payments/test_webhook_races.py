"""Concurrent deliveries of one webhook, with real threads and connections."""

import pytest
from django.core import mail
from django.test import Client
from django_tenants.utils import tenant_context

from booking.models import Reservation
from outbox.delivery import outbox_deliver
from outbox.models import OutboxMessage
from payments.models import WebhookEvent
from tests.factories import (
    ALPHA_HOST,
    checkout_session,
    hold,
    post_stripe,
    stripe_event,
    stripe_intent,
)

pytestmark = pytest.mark.xdist_group("races")


def test_fifty_concurrent_deliveries_of_one_event_apply_once_and_send_one_email(
    committed, operator_secrets
):
    slot = committed.slot(capacity=4)
    with tenant_context(committed.operator):
        reservation = hold(slot, 2)
        intent = stripe_intent(reservation, "cs_test_storm")
        event = stripe_event("checkout.session.completed", checkout_session(intent))
    mail.outbox.clear()

    responses = committed.run_concurrently(
        50, lambda i: post_stripe(Client(HTTP_HOST=ALPHA_HOST), event).status_code
    )

    assert responses == [200] * 50
    with tenant_context(committed.operator):
        assert WebhookEvent.objects.count() == 1
        assert Reservation.objects.get(pk=reservation.pk).status == "paid"
        message = OutboxMessage.objects.get()
        assert message.delivered_at is not None and message.attempts == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ana@example.com"]
    assert reservation.code in mail.outbox[0].subject


def test_an_outbox_message_delivered_by_several_workers_at_once_is_delivered_once(
    committed, operator_secrets
):
    slot = committed.slot(capacity=4)
    with tenant_context(committed.operator):
        reservation = hold(slot, 1)
        # Written directly (not emitted), so no worker picked it up on commit.
        message = OutboxMessage.objects.create(
            topic="email.reservation_confirmed", payload={"reservation_id": reservation.pk}
        )
    mail.outbox.clear()

    delivered = committed.run_concurrently(8, lambda i: outbox_deliver(message_id=message.pk))

    assert delivered.count(True) == 1
    assert delivered.count(False) == 7
    assert len(mail.outbox) == 1
