"""The periodic tasks, run as Huey runs them: by schema name, inside schema_context."""

from datetime import timedelta

from django.core import mail
from django.utils import timezone

from booking.models import Reservation
from booking.tasks import expire_holds, expire_holds_of
from outbox.models import OutboxMessage
from outbox.tasks import sweep_outbox
from payments.models import PaymentIntent
from payments.tasks import reconcile_operator
from tenants.models import Operator
from tests.factories import hold


def test_expiry_task_releases_overdue_holds_of_its_operator(alpha, make_slot):
    slot = make_slot()
    overdue = hold(slot, 2, now=timezone.now() - timedelta(minutes=20))
    fresh = hold(slot, 1)
    assert expire_holds_of.call_local("alpha") == 1
    overdue.refresh_from_db()
    fresh.refresh_from_db()
    slot.refresh_from_db()
    assert (overdue.status, fresh.status, slot.taken) == ("expired", "held", 1)


def test_the_periodic_tasks_visit_every_operator_but_the_public_schema(alpha):
    assert set(Operator.objects.schema_names()) >= {"alpha", "beta"}
    assert "public" not in Operator.objects.schema_names()
    expire_holds.call_local()  # enqueues per operator; Huey runs them at once in tests
    sweep_outbox.call_local()


def test_the_sweep_delivers_messages_whose_enqueue_was_lost(alpha, make_slot):
    reservation = hold(make_slot(), 1)
    Reservation.objects.filter(pk=reservation.pk).update(status="paid")
    message = OutboxMessage.objects.create(
        topic="email.reservation_confirmed", payload={"reservation_id": reservation.pk}
    )
    mail.outbox.clear()
    sweep_outbox.call_local()
    message.refresh_from_db()
    assert message.delivered_at is not None
    assert len(mail.outbox) == 1


def test_reconciliation_task_leaves_fresh_intents_alone(alpha, make_slot):
    reservation = hold(make_slot(), 1)
    PaymentIntent.objects.create(
        reservation=reservation,
        provider="stripe",
        method="card",
        status="pending",
        amount=1,
        currency="ARS",
        provider_reference="cs_fresh",
    )
    assert reconcile_operator.call_local("alpha") == 0
