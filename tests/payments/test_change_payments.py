"""The money of a booking change, end to end: the official SDKs talking to the provider
emulators, their webhooks delivered over HTTP to the served app, refunds through the outbox."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from booking.changes import change_quote, reservation_changes_expire_overdue
from booking.models import Reservation, ReservationChange, Slot
from payments.models import Anomaly, PaymentIntent, Refund
from payments.services.changes import booking_change
from tenants.models import Role
from tests.factories import SYSTEM, staff

pytestmark = pytest.mark.xdist_group("races")
S = PaymentIntent.Status


def paid_by_card(paying, seats: int) -> Reservation:
    reservation = paying.reservation(seats=seats)
    checkout = paying.pay(reservation, "stripe:card")
    paying.emulators.control_action("stripe", f"/_emulator/stripe/sessions/{session(checkout)}/pay")
    paying.wait_for(lambda: reservation.events.filter(kind="email_sent").exists())
    return paying.fresh(reservation)


def session(checkout_url: str) -> str:
    return checkout_url.rsplit("/", 1)[1]


def change(paying, reservation, to_slot, adults: int) -> ReservationChange:
    with tenant_context(paying.committed.operator):
        reservation = Reservation.objects.get(pk=reservation.pk)
        adult = to_slot.activity.rates.get(code="adult")
        quote = change_quote(
            reservation=reservation, to_slot=to_slot, quantities={adult.pk: adults}
        )
        return booking_change(quote=quote, actor=staff(Role.OWNER, "owner@alpha"))


def booking_as_it_is(paying, reservation) -> tuple:
    with tenant_context(paying.committed.operator):
        reservation = Reservation.objects.get(pk=reservation.pk)
        lines = [(line.rate_id, line.quantity) for line in reservation.lines.all()]
        return reservation.slot_id, reservation.status, reservation.total_amount, lines


def pay_difference(paying, reservation, pending: ReservationChange) -> str:
    response = paying.client.post(
        f"/reservations/{reservation.code}/changes/{pending.pk}/pay/", {"pay": "stripe:card"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return session(response["Location"])


def test_a_cheaper_change_refunds_the_difference_through_the_provider(paying):
    reservation = paid_by_card(paying, 3)
    mail.outbox.clear()

    done = change(paying, reservation, paying.fresh(reservation).slot, adults=2)

    assert done.status == "applied"
    refund = paying.wait_for(lambda: Refund.objects.filter(status="succeeded").first())
    assert refund.amount == 10_000_00 and refund.reason == f"change {done.pk}"
    intent = paying.fresh(refund.intent)
    assert (intent.status, intent.amount_refunded) == (S.PARTIALLY_REFUNDED, 10_000_00)
    assert booking_as_it_is(paying, reservation)[1:3] == ("paid", 20_000_00)
    assert paying.fresh(paying.fresh(reservation).slot).taken == 2
    paying.wait_for(lambda: len(mail.outbox) == 1)
    assert "was changed" in mail.outbox[0].subject


def test_a_dearer_move_is_applied_when_the_traveller_pays_the_difference(paying):
    reservation = paid_by_card(paying, 2)
    source = paying.fresh(reservation).slot
    target = paying.committed.slot(capacity=4, starts_at=timezone.now() + timedelta(days=7))
    before = booking_as_it_is(paying, reservation)
    mail.outbox.clear()

    pending = change(paying, reservation, target, adults=3)

    assert pending.status == "pending" and pending.difference == 10_000_00
    assert booking_as_it_is(paying, reservation) == before
    assert (paying.fresh(source).taken, paying.fresh(target).taken) == (2, 3)
    paying.wait_for(lambda: len(mail.outbox) == 1)
    assert f"/reservations/{reservation.code}/" in mail.outbox[0].body
    page = paying.client.get(f"/reservations/{reservation.code}/").content.decode()
    assert "waiting for payment" in page and "10,000.00" in page, page[page.find("<main") :][:3000]

    difference = pay_difference(paying, reservation, pending)
    paying.emulators.control_action("stripe", f"/_emulator/stripe/sessions/{difference}/pay")

    paying.wait_for(lambda: ReservationChange.objects.get(pk=pending.pk).status == "applied")
    slot_id, status, total, lines = booking_as_it_is(paying, reservation)
    assert (slot_id, status, total, [q for _, q in lines]) == (target.pk, "paid", 30_000_00, [3])
    assert (paying.fresh(source).taken, paying.fresh(target).taken) == (0, 3)
    with tenant_context(paying.committed.operator):
        intents = list(PaymentIntent.objects.filter(reservation_id=reservation.pk).order_by("id"))
        assert [(i.status, i.amount) for i in intents] == [
            (S.SUCCEEDED, 20_000_00),
            (S.SUCCEEDED, 10_000_00),
        ]
        assert not Anomaly.objects.exists()
    paying.wait_for(lambda: len(mail.outbox) == 2)


def test_an_expired_payment_of_the_difference_leaves_the_booking_exactly_as_it_was(paying):
    reservation = paid_by_card(paying, 2)
    source = paying.fresh(reservation).slot
    target = paying.committed.slot(capacity=4, starts_at=timezone.now() + timedelta(days=7))
    before = booking_as_it_is(paying, reservation)
    pending = change(paying, reservation, target, adults=3)
    difference = pay_difference(paying, reservation, pending)

    paying.emulators.control_action("stripe", f"/_emulator/stripe/sessions/{difference}/expire")

    paying.wait_for(lambda: ReservationChange.objects.get(pk=pending.pk).status == "released")
    assert booking_as_it_is(paying, reservation) == before
    assert (paying.fresh(source).taken, paying.fresh(target).taken) == (2, 0)
    with tenant_context(paying.committed.operator):
        assert PaymentIntent.objects.get(change_id=pending.pk).status == S.EXPIRED
        assert not Refund.objects.exists()


def test_a_difference_paid_after_the_change_expired_is_refunded_and_raised(paying):
    reservation = paid_by_card(paying, 2)
    target = paying.committed.slot(capacity=4, starts_at=timezone.now() + timedelta(days=7))
    before = booking_as_it_is(paying, reservation)
    pending = change(paying, reservation, target, adults=3)
    difference = pay_difference(paying, reservation, pending)
    with tenant_context(paying.committed.operator):
        later = timezone.now() + timedelta(days=2)
        assert reservation_changes_expire_overdue(actor=SYSTEM, now=later) == 1
    assert paying.fresh(target).taken == 0

    paying.emulators.control_action("stripe", f"/_emulator/stripe/sessions/{difference}/pay")

    late = paying.wait_for(
        lambda: PaymentIntent.objects.filter(change_id=pending.pk, status=S.REFUNDED).first()
    )
    assert late.amount_refunded == 10_000_00
    assert booking_as_it_is(paying, reservation) == before
    assert paying.fresh(target).taken == 0
    with tenant_context(paying.committed.operator):
        anomaly = Anomaly.objects.get()
        assert (anomaly.kind, anomaly.intent_id) == ("change_not_applied", late.pk)
        assert Slot.objects.get(pk=before[0]).taken == 2
