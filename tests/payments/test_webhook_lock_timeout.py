"""A webhook that cannot take its intent's lock within the lock timeout (another transaction
holds it) answers 503 with Retry-After, so the provider delivers it again; the event is kept
as failed meanwhile, and the redelivery applies it once."""

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from booking.models import Reservation
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


def test_a_webhook_for_an_intent_locked_elsewhere_answers_503_and_its_redelivery_applies(
    committed, operator_secrets, row_locked_elsewhere
):
    """The provider is told to retry (503 with Retry-After); the event is kept as failed, and
    the redelivery, once the lock is free, applies it."""
    slot = committed.slot(capacity=4)
    with tenant_context(committed.operator):
        reservation = hold(slot, 2)
        intent = stripe_intent(reservation, "cs_test_locked")
        event = stripe_event("checkout.session.completed", checkout_session(intent))
    provider = Client(HTTP_HOST=ALPHA_HOST, raise_request_exception=False)
    with row_locked_elsewhere("payments_paymentintent", intent.pk):
        refused = post_stripe(provider, event)

    assert refused.status_code == 503
    assert refused["Retry-After"] == "2"
    with tenant_context(committed.operator):
        assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.FAILED
        assert Reservation.objects.get(pk=reservation.pk).status == Reservation.Status.HELD

    assert post_stripe(provider, event).status_code == 200
    with tenant_context(committed.operator):
        assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.APPLIED
        assert Reservation.objects.get(pk=reservation.pk).status == Reservation.Status.PAID
