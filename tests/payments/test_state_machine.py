"""The payment intent's state machine, and the one transition path shared by webhooks and
reconciliation."""

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking.errors import IllegalTransition
from booking.models import Reservation
from outbox.models import OutboxMessage
from payments.models import Anomaly, PaymentIntent
from payments.providers.base import PaymentState
from payments.services.transitions import intent_apply_state
from tests.factories import provider

S = PaymentIntent.Status
TERMINAL = {S.FAILED, S.CANCELLED, S.EXPIRED, S.REFUNDED}


@pytest.mark.parametrize("terminal", sorted(TERMINAL))
@pytest.mark.parametrize("target", list(S))
def test_terminal_states_never_move(terminal, target):
    intent = PaymentIntent(status=terminal)
    if target == terminal:
        assert intent.transition_to(target) is False
    else:
        with pytest.raises(IllegalTransition):
            intent.transition_to(target)


def test_failed_never_becomes_succeeded():
    intent = PaymentIntent(status=S.FAILED)
    assert not intent.can_transition_to(S.SUCCEEDED)
    with pytest.raises(IllegalTransition):
        intent.transition_to(S.SUCCEEDED)


def test_refund_never_exceeds_the_amount_in_the_database(make_intent):
    intent = make_intent(status=S.SUCCEEDED)
    with pytest.raises(IntegrityError, match="intent_refund_lte_amount"), transaction.atomic():
        PaymentIntent.objects.filter(pk=intent.pk).update(amount_refunded=intent.amount + 1)


states = st.builds(
    PaymentState,
    status=st.sampled_from(list(S)),
    payment_id=st.just("pi_1"),
    amount=st.none(),
    amount_refunded=st.integers(min_value=0, max_value=2_000_000),
    declined=st.booleans(),
)


# Each example runs in its own savepoint, rolled back at its end, so the function-scoped
# fixture's reservation starts every example held.
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=st.lists(states, min_size=1, max_size=8))
def test_random_provider_states_never_reach_a_forbidden_state(make_intent, sequence):
    """Whatever the provider says, in whatever order: every move is in the table, failed
    never becomes succeeded, and the reservation is paid only if the intent itself moved to
    succeeded."""
    with transaction.atomic():
        intent = make_intent(status=S.PENDING)
        history = [intent.status]
        for state in sequence:
            intent_apply_state(intent, state, actor=provider("test"))
            intent.refresh_from_db()
            if intent.status != history[-1]:
                assert intent.status in PaymentIntent.TRANSITIONS[history[-1]]
            history.append(intent.status)
        reservation = Reservation.objects.get(pk=intent.reservation_id)
        assert (reservation.status in (Reservation.Status.PAID, Reservation.Status.REFUNDED)) == (
            S.SUCCEEDED in history
        )
        for terminal in TERMINAL & set(history):
            assert set(history[history.index(terminal) :]) == {terminal}
        if Anomaly.objects.filter(intent=intent, kind=Anomaly.Kind.SUCCESS_ON_CLOSED_INTENT):
            assert reservation.status == Reservation.Status.HELD
        transaction.set_rollback(True)


def test_a_success_pays_the_reservation_and_writes_the_confirmation_to_the_outbox(make_intent):
    intent = make_intent()
    outcome = intent_apply_state(
        intent,
        PaymentState(status=S.SUCCEEDED, payment_id="pi_9"),
        actor=provider("stripe webhook"),
    )
    intent.refresh_from_db()
    reservation = intent.reservation
    reservation.refresh_from_db()
    assert outcome == "applied"
    assert intent.status == S.SUCCEEDED and intent.provider_payment_id == "pi_9"
    assert reservation.status == Reservation.Status.PAID
    assert reservation.hold_expires_at is None
    message = OutboxMessage.objects.get()
    assert message.topic == "email.reservation_confirmed"
    assert message.payload == {"reservation_id": reservation.pk}


def test_a_success_for_a_failed_intent_is_an_anomaly_and_pays_nothing(make_intent):
    intent = make_intent(status=S.FAILED)
    outcome = intent_apply_state(
        intent, PaymentState(status=S.SUCCEEDED), actor=provider("stripe webhook")
    )
    intent.refresh_from_db()
    intent.reservation.refresh_from_db()
    assert outcome == "anomaly"
    assert intent.status == S.FAILED
    assert intent.reservation.status == Reservation.Status.HELD
    anomaly = Anomaly.objects.get()
    assert anomaly.kind == Anomaly.Kind.SUCCESS_ON_CLOSED_INTENT
    assert anomaly.reservation == intent.reservation
    assert not OutboxMessage.objects.exists()


def test_a_paid_amount_that_differs_is_an_anomaly(make_intent):
    intent = make_intent()
    outcome = intent_apply_state(
        intent,
        PaymentState(status=S.SUCCEEDED, amount=1, currency=intent.currency),
        actor=provider("stripe webhook"),
    )
    intent.refresh_from_db()
    assert outcome == "anomaly"
    assert intent.status == S.PENDING
    assert Anomaly.objects.get().kind == Anomaly.Kind.AMOUNT_MISMATCH


def test_a_declined_card_in_a_hosted_checkout_leaves_the_attempt_open(make_intent):
    intent = make_intent()
    intent_apply_state(
        intent, PaymentState(status=S.FAILED, declined=True), actor=provider("webhook")
    )
    intent.refresh_from_db()
    assert intent.status == S.PENDING
    assert intent.declined_at is not None
    assert intent.reservation.events.filter(kind="payment_declined").exists()


def test_a_rejected_pix_fails_the_attempt(make_intent):
    intent = make_intent(method="pix", provider="mercadopago")
    intent_apply_state(
        intent, PaymentState(status=S.FAILED, declined=True), actor=provider("webhook")
    )
    intent.refresh_from_db()
    assert intent.status == S.FAILED
