"""Stripe webhooks: verified first, deduplicated by event id, applied in one transaction."""

import json
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from booking.models import Reservation, Slot
from booking.services import reservations_expire_overdue
from outbox.models import OutboxMessage
from payments.models import Anomaly, PaymentIntent, Refund, WebhookEvent, WebhookRejection
from tests.factories import ALPHA_HOST, SYSTEM, checkout_session, hold, post_stripe, stripe_event

S = PaymentIntent.Status


@pytest.fixture
def hook(operator_secrets) -> Client:
    return Client(HTTP_HOST=ALPHA_HOST)


def assert_nothing_applied(intent):
    intent.refresh_from_db()
    intent.reservation.refresh_from_db()
    assert intent.status == S.PENDING
    assert intent.reservation.status == Reservation.Status.HELD
    assert not WebhookEvent.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_a_verified_completed_session_pays_the_reservation(hook, make_intent):
    intent = make_intent()
    response = post_stripe(
        hook, stripe_event("checkout.session.completed", checkout_session(intent))
    )
    assert response.status_code == 200
    intent.refresh_from_db()
    assert intent.status == S.SUCCEEDED
    assert intent.provider_payment_id == "pi_test_1"
    reservation = Reservation.objects.get(pk=intent.reservation_id)
    assert reservation.status == Reservation.Status.PAID
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.intent, event.event_type) == (
        "applied",
        intent,
        "checkout.session.completed",
    )
    assert OutboxMessage.objects.get().topic == "email.reservation_confirmed"
    assert list(reservation.events.values_list("kind", flat=True)) == ["held", "paid"]


def test_a_duplicate_answers_2xx_and_changes_nothing(hook, make_intent):
    intent = make_intent()
    event = stripe_event("checkout.session.completed", checkout_session(intent))
    post_stripe(hook, event)
    again = post_stripe(hook, event)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert WebhookEvent.objects.count() == 1
    assert OutboxMessage.objects.count() == 1


def test_the_old_secret_is_accepted_during_rotation(hook, make_intent):
    intent = make_intent()
    event = stripe_event("checkout.session.completed", checkout_session(intent))
    assert post_stripe(hook, event, secret="whsec_alpha_old").status_code == 200
    intent.refresh_from_db()
    assert intent.status == S.SUCCEEDED


@pytest.mark.parametrize(
    "tamper",
    ["forged", "stale", "altered", "other_operator", "unsigned", "garbage_header"],
)
def test_bad_signatures_get_400_and_apply_nothing(hook, make_intent, tamper):
    intent = make_intent()
    event = stripe_event("checkout.session.completed", checkout_session(intent))
    if tamper == "forged":
        response = post_stripe(hook, event, secret="whsec_attacker")
    elif tamper == "stale":
        response = post_stripe(hook, event, timestamp=int(time.time()) - 301)
    elif tamper == "altered":
        import stripe

        body = json.dumps(event)
        header = stripe.WebhookSignature.generate_signature_header(body, "whsec_alpha_new")
        response = post_stripe(hook, body.replace('"paid"', '"unpaid"'), header=header)
    elif tamper == "other_operator":
        response = post_stripe(hook, event, secret="whsec_beta")
    elif tamper == "unsigned":
        response = post_stripe(hook, event, header="")
    else:
        response = post_stripe(hook, event, header="t=abc,v1=zz")
    assert response.status_code == 400
    assert_nothing_applied(intent)
    rejection = WebhookRejection.objects.get()
    assert rejection.provider == "stripe"
    assert "checkout.session.completed" in rejection.body_excerpt


def test_unknown_event_types_are_recorded_and_answered_2xx(hook, make_intent):
    make_intent()
    response = post_stripe(hook, stripe_event("customer.created", {"id": "cus_1"}))
    assert response.status_code == 200
    assert WebhookEvent.objects.get().outcome == "ignored"


def test_an_event_for_no_intent_of_this_operator_is_recorded_as_unmatched(hook, make_intent):
    intent = make_intent()
    obj = checkout_session(intent) | {"id": "cs_other", "metadata": {}}
    assert post_stripe(hook, stripe_event("checkout.session.completed", obj)).status_code == 200
    assert WebhookEvent.objects.get().outcome == "unmatched"
    intent.refresh_from_db()
    assert intent.status == S.PENDING


def test_pix_events_out_of_order_end_paid(hook, make_intent):
    intent = make_intent(method="pix")
    succeeded = stripe_event("checkout.session.async_payment_succeeded", checkout_session(intent))
    completed_unpaid = stripe_event(
        "checkout.session.completed", checkout_session(intent, payment_status="unpaid")
    )
    post_stripe(hook, succeeded)
    post_stripe(hook, completed_unpaid)
    intent.refresh_from_db()
    assert intent.status == S.SUCCEEDED
    assert Reservation.objects.get(pk=intent.reservation_id).status == "paid"
    assert [e.outcome for e in WebhookEvent.objects.order_by("id")] == ["applied", "ignored"]


def test_an_async_failure_then_a_late_success_is_an_anomaly(hook, make_intent):
    intent = make_intent(method="pix")
    post_stripe(
        hook,
        stripe_event(
            "checkout.session.async_payment_failed",
            checkout_session(intent, payment_status="unpaid"),
        ),
    )
    post_stripe(
        hook, stripe_event("checkout.session.async_payment_succeeded", checkout_session(intent))
    )
    intent.refresh_from_db()
    assert intent.status == S.FAILED
    assert Reservation.objects.get(pk=intent.reservation_id).status == "held"
    assert Anomaly.objects.get().kind == "success_on_closed_intent"


def test_a_declined_card_is_matched_through_the_session_stripe_names(hook, stripe_api, make_intent):
    """A PaymentIntent is created when the traveller pays, so the intent does not know its id
    yet: Stripe is asked which Checkout Session it belongs to."""
    intent = make_intent()
    payment_intent = stripe_api.decline(stripe_api.session_for(intent))

    response = post_stripe(hook, stripe_event("payment_intent.payment_failed", payment_intent))

    assert response.json()["outcome"] == "applied"
    intent.refresh_from_db()
    assert intent.status == S.PENDING
    assert intent.declined_at is not None
    assert intent.provider_payment_id == payment_intent["id"]


def test_a_decline_for_a_payment_of_no_session_of_ours_touches_nothing(
    hook, stripe_api, make_intent
):
    intent = make_intent()
    stripe_api.session_for(intent)
    elsewhere = {
        "id": "pi_from_another_shop",
        "object": "payment_intent",
        "metadata": {"intent_id": str(intent.pk)},
        "last_payment_error": {"message": "Your card was declined."},
    }

    response = post_stripe(hook, stripe_event("payment_intent.payment_failed", elsewhere))

    assert response.json()["outcome"] == "unmatched"
    intent.refresh_from_db()
    assert intent.declined_at is None and intent.provider_payment_id == ""
    assert not intent.reservation.events.filter(kind="payment_declined").exists()


def test_an_event_for_a_session_not_ours_never_raises_an_anomaly_on_the_intent_it_names(
    hook, make_intent
):
    intent = make_intent()
    foreign = checkout_session(intent, amount=100) | {"id": "cs_from_another_shop"}

    response = post_stripe(hook, stripe_event("checkout.session.completed", foreign))

    assert response.json()["outcome"] == "unmatched"
    assert not Anomaly.objects.exists()
    intent.refresh_from_db()
    assert intent.status == S.PENDING
    assert WebhookEvent.objects.get().intent is None


def test_an_event_whose_metadata_disagrees_with_its_session_touches_neither_intent(
    hook, make_intent, make_slot
):
    mine = make_intent()
    other = make_intent(hold(make_slot(capacity=4), 1))
    obj = checkout_session(mine) | {"metadata": {"intent_id": str(other.pk)}}

    response = post_stripe(hook, stripe_event("checkout.session.completed", obj))

    assert response.json()["outcome"] == "unmatched"
    event = WebhookEvent.objects.get()
    assert event.intent is None
    assert str(mine.pk) in event.note and str(other.pk) in event.note
    for intent in (mine, other):
        intent.refresh_from_db()
        assert intent.status == S.PENDING
        assert Reservation.objects.get(pk=intent.reservation_id).status == "held"
    assert not Anomaly.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_a_refund_event_is_matched_by_its_payment_intent_not_by_its_metadata(
    hook, make_intent, make_slot
):
    refunds = {}
    for name in ("mine", "other"):
        reservation = None if name == "mine" else hold(make_slot(capacity=4), 1)
        intent = make_intent(reservation, status=S.SUCCEEDED, provider_payment_id=f"pi_{name}")
        refunds[name] = Refund.objects.create(intent=intent, amount=100, requested_by="owner")
    refund_event = {
        "id": "re_1",
        "object": "refund",
        "payment_intent": "pi_mine",
        "status": "succeeded",
        "metadata": {
            "intent_id": str(refunds["other"].intent_id),
            "refund_id": str(refunds["other"].pk),
        },
    }

    response = post_stripe(hook, stripe_event("refund.updated", refund_event))

    assert response.json()["outcome"] == "unmatched"
    for refund in refunds.values():
        refund.refresh_from_db()
        assert refund.status == Refund.Status.REQUESTED
        assert PaymentIntent.objects.get(pk=refund.intent_id).amount_refunded == 0


def test_an_expired_session_closes_the_attempt(hook, make_intent):
    intent = make_intent()
    post_stripe(
        hook,
        stripe_event(
            "checkout.session.expired",
            checkout_session(intent, status="expired", payment_status="unpaid"),
        ),
    )
    intent.refresh_from_db()
    assert intent.status == S.EXPIRED
    assert Reservation.objects.get(pk=intent.reservation_id).status == "held"


def test_a_late_payment_takes_the_seats_again_when_they_are_free(hook, make_intent):
    intent = make_intent()
    reservations_expire_overdue(actor=SYSTEM, now=timezone.now() + timedelta(hours=1))
    slot = Slot.objects.get(pk=intent.reservation.slot_id)
    assert slot.taken == 0

    post_stripe(hook, stripe_event("checkout.session.completed", checkout_session(intent)))

    reservation = Reservation.objects.get(pk=intent.reservation_id)
    slot.refresh_from_db()
    assert reservation.status == Reservation.Status.PAID
    assert slot.taken == 2
    assert "seats_retaken" in reservation.events.values_list("kind", flat=True)
    assert not Anomaly.objects.exists()


def test_a_late_payment_without_seats_is_refunded_and_shown_to_staff(hook, make_intent):
    intent = make_intent()
    reservations_expire_overdue(actor=SYSTEM, now=timezone.now() + timedelta(hours=1))
    slot = Slot.objects.get(pk=intent.reservation.slot_id)
    hold(slot, 4, scope="someone-else")

    response = post_stripe(
        hook, stripe_event("checkout.session.completed", checkout_session(intent))
    )

    assert response.status_code == 200
    reservation = Reservation.objects.get(pk=intent.reservation_id)
    slot.refresh_from_db()
    assert reservation.status == Reservation.Status.EXPIRED
    assert slot.taken == 4
    intent.refresh_from_db()
    assert intent.status == S.SUCCEEDED  # the money was taken: it is given back at once
    anomaly = Anomaly.objects.get()
    assert anomaly.kind == "paid_without_seats"
    assert anomaly.resolved_by == "automatic refund"  # tests/payments/test_late_money.py
    assert WebhookEvent.objects.get().outcome == "anomaly"
    assert sorted(OutboxMessage.objects.values_list("topic", flat=True)) == [
        "email.late_payment_refunded",
        "payments.checkout_end",
        "payments.refund_send",
    ]


def test_a_paid_amount_that_differs_is_not_paid(hook, make_intent):
    intent = make_intent()
    post_stripe(
        hook, stripe_event("checkout.session.completed", checkout_session(intent, amount=100))
    )
    intent.refresh_from_db()
    assert intent.status == S.PENDING
    assert Anomaly.objects.get().kind == "amount_mismatch"
