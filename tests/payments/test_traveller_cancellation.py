"""The traveller cancels their paid booking within the activity's policy: the seats go back at
once under the departure's lock, what the policy gives back is refunded through the outbox
(across the payments that paid the booking), and an e-mail says so."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from booking.cancellation import (
    DepartureStarted,
    NotCancellable,
    Refundable,
    cancellation_terms,
    share,
)
from booking.changes import ChangePending, change_quote, reservation_change
from booking.models import Reservation, ReservationEvent, Slot
from outbox.models import OutboxMessage
from payments.models import Anomaly, PaymentIntent, Refund, WebhookEvent
from payments.providers.base import PaymentState
from payments.services.cancellation import (
    CANCELLED_EMAIL,
    RefundChanged,
    booking_cancel,
    cancellation_quote,
    send_cancellation,
)
from payments.services.refunds import REFUND_SEND
from payments.services.transitions import intent_apply_state
from tenants.services import membership_grant
from tests.factories import (
    ALPHA_HOST,
    BETA_HOST,
    SYSTEM,
    hold,
    local,
    paid,
    provider,
    refunded,
    staff,
    traveller,
)

HOURS = 24


def with_policy(activity):
    """Free until 24 h before, then half back."""
    activity.free_cancellation_hours = HOURS
    activity.late_refund_percent = 50
    activity.save()


@pytest.fixture
def policy(make_activity, make_slot):
    """The boat trip with the policy; its departure 10:00 in three days, Ushuaia time."""
    with timezone.override("America/Argentina/Ushuaia"):
        activity = make_activity()
        with_policy(activity)
        return make_slot(activity, capacity=6, starts_at=local(3, 10))


@pytest.fixture
def booking(policy):
    """Two adults (ARS 20.000,00) paid by card."""
    reservation = hold(policy, 2)
    paid(reservation)
    return Reservation.objects.select_related("slot__activity").get(pk=reservation.pk)


def cancel(reservation, *, at=None, expected=None, email="ana@example.com", scope="elsewhere"):
    return booking_cancel(
        reservation_id=reservation.pk,
        actor=traveller(scope),
        email=email,
        expected_refund=expected,
        now=at,
    )


def free_until(slot):
    return slot.starts_at - timedelta(hours=HOURS)


# The policy's arithmetic


def test_free_until_exactly_the_hours_before_in_the_operators_time(policy):
    activity = policy.activity
    with timezone.override("America/Argentina/Ushuaia"):
        assert timezone.localtime(free_until(policy)) == local(2, 10)

    def terms(at):
        return cancellation_terms(
            activity=activity, starts_at=policy.starts_at, price=20_000_00, currency="ARS", now=at
        )

    exactly = terms(free_until(policy))
    assert (exactly.refundable, exactly.refund_of(20_000_00)) == (Refundable.FREE, 20_000_00)
    late = terms(free_until(policy) + timedelta(minutes=1))
    assert (late.refundable, late.percent, late.refund_of(20_000_00)) == (
        Refundable.LATE,
        50,
        10_000_00,
    )


def test_no_free_period_and_no_refund(policy):
    activity = policy.activity
    activity.free_cancellation_hours, activity.late_refund_percent = None, 0
    now = timezone.now()
    terms = cancellation_terms(
        activity=activity, starts_at=policy.starts_at, price=500, currency="ARS", now=now
    )
    assert (terms.refundable, terms.free_until, terms.refund_of(500)) == (Refundable.NONE, None, 0)
    activity.late_refund_percent = 30
    terms = cancellation_terms(
        activity=activity, starts_at=policy.starts_at, price=500, currency="ARS", now=now
    )
    assert (terms.refundable, terms.refund_of(500)) == (Refundable.LATE, 150)


def test_shares_are_whole_minor_units_clp_has_none(policy):
    assert share(25_001, 50) == 12_501  # CLP: pesos are the minor unit; halves go up
    assert share(25_001, 33) == 8_250
    assert share(17_000_000, 50) == 8_500_000  # ARS 170.000,00
    policy.activity.free_cancellation_hours = None
    terms = cancellation_terms(
        activity=policy.activity,
        starts_at=policy.starts_at,
        price=25_001,
        currency="CLP",
        now=timezone.now(),
    )
    assert (terms.retained, terms.refund_of(25_001)) == (12_500, 12_501)


def test_a_refund_already_given_counts_toward_the_policy(booking):
    intent = booking.payment_intents.get()
    refunded(intent, 6_000_00)  # staff gave 6.000 back as a goodwill gesture
    late = free_until(booking.slot) + timedelta(hours=1)

    quote = cancellation_quote(booking, late)

    assert quote.refund == 4_000_00  # half of 20.000 kept at most: 14.000 held, 4.000 back


# Cancelling


def test_within_the_free_period_everything_goes_back_and_the_seats_at_once(booking):
    slot_taken = Slot.objects.get(pk=booking.slot_id).taken

    done = cancel(booking, expected=20_000_00)

    assert done.refund == 20_000_00
    assert Reservation.objects.get(pk=booking.pk).status == Reservation.Status.CANCELLED
    assert Slot.objects.get(pk=booking.slot_id).taken == slot_taken - 2
    refund = Refund.objects.get()
    assert (refund.amount, refund.status, refund.intent_id) == (
        20_000_00,
        Refund.Status.REQUESTED,
        booking.payment_intents.get().pk,
    )
    topics = list(OutboxMessage.objects.values_list("topic", "payload"))
    assert (REFUND_SEND, {"refund_id": refund.pk}) in topics
    assert (CANCELLED_EMAIL, {"reservation_id": booking.pk, "refund": 20_000_00}) in topics
    event = booking.events.get(kind=ReservationEvent.Kind.CANCELLED)
    assert (event.actor, event.data["refund"], event.data["seats"]) == ("traveller", 20_000_00, 2)


def test_after_the_free_period_the_policys_share(booking):
    done = cancel(booking, at=free_until(booking.slot) + timedelta(minutes=1))

    assert done.refund == 10_000_00
    assert list(Refund.objects.values_list("amount", flat=True)) == [10_000_00]


def test_no_refund_policy_still_cancels_with_nothing_back(booking):
    booking.slot.activity.free_cancellation_hours = None
    booking.slot.activity.late_refund_percent = 0
    booking.slot.activity.save()

    done = cancel(booking, expected=0)

    assert done.refund == 0 and not Refund.objects.exists()
    assert Reservation.objects.get(pk=booking.pk).status == Reservation.Status.CANCELLED
    assert OutboxMessage.objects.filter(topic=CANCELLED_EMAIL, payload__refund=0).exists()


def test_a_booking_paid_in_two_payments_is_refunded_latest_first(booking):
    """A change's difference was paid by a second payment: 20.000 + 10.000 held."""
    first = booking.payment_intents.get()
    second = PaymentIntent.objects.create(
        reservation=booking,
        provider="stripe",
        method="card",
        status=PaymentIntent.Status.SUCCEEDED,
        amount=10_000_00,
        currency="ARS",
        provider_payment_id="pi_difference",
    )
    Reservation.objects.filter(pk=booking.pk).update(total_amount=30_000_00)

    done = cancel(booking, at=free_until(booking.slot) + timedelta(hours=2))

    assert done.refund == 15_000_00
    by_intent = dict(Refund.objects.values_list("intent_id", "amount"))
    assert by_intent == {second.pk: 10_000_00, first.pk: 5_000_00}


def test_when_the_figure_shown_is_no_longer_true_nothing_changes(booking):
    shown = cancellation_quote(booking, free_until(booking.slot)).refund

    with pytest.raises(RefundChanged):
        cancel(booking, at=free_until(booking.slot) + timedelta(minutes=1), expected=shown)

    assert Reservation.objects.get(pk=booking.pk).status == Reservation.Status.PAID
    assert (
        not Refund.objects.exists()
        and not OutboxMessage.objects.filter(topic=CANCELLED_EMAIL).exists()
    )


def test_a_held_booking_is_not_cancelled_through_this_path(policy):
    held = hold(policy, 1)
    with pytest.raises(NotCancellable):
        cancel(held, scope="client-1")
    assert Reservation.objects.get(pk=held.pk).status == Reservation.Status.HELD


def test_a_departure_that_started_cannot_be_cancelled(booking):
    with pytest.raises(DepartureStarted):
        cancel(booking, at=booking.slot.starts_at)


def test_a_booking_with_a_pending_change_cannot_be_cancelled(booking, make_slot):
    target = make_slot(
        booking.slot.activity, capacity=6, starts_at=booking.slot.starts_at + timedelta(days=1)
    )
    adult = target.activity.rates.get(code="adult")
    quote = change_quote(reservation=booking, to_slot=target, quantities={adult.pk: 3})
    reservation_change(quote=quote, actor=staff())

    with pytest.raises(ChangePending):
        cancel(booking)


def test_without_the_bookings_email_or_browser_nobody_cancels(booking):
    with pytest.raises(PermissionDenied):
        cancel(booking, email="eve@example.com")
    assert cancel(booking, email="", scope="client-1").refund == 20_000_00  # its own browser


# The pages


@pytest.fixture
def browser() -> Client:
    return Client(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE="en")


def found(browser, reservation, email="ana@example.com"):
    response = browser.post(
        "/my-booking/", {"code": reservation.code, "email": email}, REMOTE_ADDR="203.0.113.8"
    )
    assert response.status_code == 302
    return browser


def test_the_booking_page_says_what_cancelling_gives_back_now(browser, booking):
    page = browser.get(f"/reservations/{booking.code}/").content.decode()
    assert "Free cancellation until 24 hours before departure" in page
    assert "you get ARS\xa020,000.00 back" in page
    assert f"/reservations/{booking.code}/cancel/" in page


def test_cancel_from_another_browser_after_finding_the_booking(browser, booking):
    confirmation = found(browser, booking).get(f"/reservations/{booking.code}/cancel/")
    assert confirmation.status_code == 200
    page = confirmation.content.decode()
    assert "you get ARS\xa020,000.00 back" in page and 'name="refund" value="2000000"' in page

    response = browser.post(
        f"/reservations/{booking.code}/cancel/", {"confirm": "1", "refund": "2000000"}, follow=True
    )

    page = response.content.decode()
    assert Reservation.objects.get(pk=booking.pk).status == Reservation.Status.CANCELLED
    assert "Your booking is cancelled. Your refund is on its way." in page
    assert "Your refund of ARS\xa020,000.00 is on its way" in page
    assert Refund.objects.count() == 1


def test_a_browser_that_did_not_prove_the_email_is_sent_to_find_it(browser, booking):
    response = browser.get(f"/reservations/{booking.code}/cancel/")
    assert response.status_code == 302
    page = f"/reservations/{booking.code}/cancel/"
    assert (
        response["Location"] == f"/my-booking/?code={booking.code}&next={page.replace('/', '%2F')}"
    )
    found = browser.post(response["Location"], {"code": booking.code, "email": "ana@example.com"})
    assert found["Location"] == page  # back where the traveller was going
    other = Client(HTTP_HOST=ALPHA_HOST)
    response = other.post(f"/reservations/{booking.code}/cancel/", {"confirm": "1"})
    assert response.status_code == 302 and response["Location"].startswith("/my-booking/")
    assert Reservation.objects.get(pk=booking.pk).status == Reservation.Status.PAID


def test_a_stale_figure_shows_the_new_one(browser, booking):
    found(browser, booking)
    response = browser.post(
        f"/reservations/{booking.code}/cancel/", {"confirm": "1", "refund": "999"}
    )
    assert response.status_code == 409
    assert "has changed since this page was shown" in response.content.decode()
    assert Reservation.objects.get(pk=booking.pk).status == Reservation.Status.PAID


def test_a_held_booking_has_no_cancellation_page(browser, policy):
    held = hold(policy, 1)
    found(browser, held)
    response = browser.post(f"/reservations/{held.code}/cancel/", {"confirm": "1", "refund": "0"})
    assert response.status_code == 302
    assert Reservation.objects.get(pk=held.pk).status == Reservation.Status.HELD
    page = browser.get(f"/reservations/{held.code}/").content.decode()
    assert "Free cancellation until 24 hours before departure" in page  # before paying
    assert "Cancel my booking" not in page


def test_another_operators_site_does_not_know_the_booking(booking):
    beta = Client(HTTP_HOST=BETA_HOST, HTTP_ACCEPT_LANGUAGE="en")
    assert beta.get(f"/reservations/{booking.code}/cancel/").status_code == 404
    assert beta.post(f"/reservations/{booking.code}/cancel/", {"confirm": "1"}).status_code == 404


# Races: committed rows, real threads

race = pytest.mark.xdist_group("races")


@race
def test_a_double_submit_releases_the_seats_and_queues_the_refund_once(committed):
    slot = committed.slot(capacity=6, starts_at=timezone.now() + timedelta(days=5))
    with tenant_context(committed.operator):
        with_policy(slot.activity)
        reservation = hold(slot, 2)
        paid(reservation)

    def submit(index: int):
        return booking_cancel(
            reservation_id=reservation.pk,
            actor=traveller(f"tab-{index}"),
            email="ana@example.com",
            expected_refund=None,
        ).refund

    outcomes = committed.run_concurrently(2, submit)

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["NotCancellable", "int"]
    assert committed.reload(slot).taken == 0
    with tenant_context(committed.operator):
        assert Refund.objects.filter(intent__reservation=reservation).count() == 1
        assert OutboxMessage.objects.filter(topic=CANCELLED_EMAIL).count() == 1
        assert reservation.events.filter(kind="cancelled").count() == 1


def test_the_email_says_it_in_the_travellers_language(booking):
    cancel(booking)
    message = OutboxMessage.objects.get(topic=CANCELLED_EMAIL)
    mail.outbox.clear()

    send_cancellation(message)
    send_cancellation(message)  # delivered twice by the outbox: sent once

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["ana@example.com"]
    assert email.subject.startswith(f"Su reserva {booking.code} está cancelada")
    assert "Le devolvemos ARS\xa020.000,00" in email.body
    html = email.alternatives[0][0]
    assert "Su reserva está cancelada" in html and "20.000,00" in html


@race
def test_the_providers_refund_confirmation_leaves_the_cancelled_booking_as_it_is(paying):
    reservation = paying.reservation(seats=2)
    with tenant_context(paying.committed.operator):
        with_policy(reservation.slot.activity)
    checkout = paying.pay(reservation, "stripe:card")
    session = checkout.rsplit("/", 1)[1]
    paying.emulators.control_action("stripe", f"/_emulator/stripe/sessions/{session}/pay")
    paying.wait_for(lambda: reservation.events.filter(kind="email_sent").exists())
    mail.outbox.clear()

    # The browser that booked needs no e-mail step.
    response = paying.client.post(
        f"/reservations/{reservation.code}/cancel/", {"confirm": "1", "refund": "2000000"}
    )

    assert response.status_code == 302
    refund = paying.wait_for(lambda: Refund.objects.filter(status="succeeded").first())
    assert refund.amount == 20_000_00
    with tenant_context(paying.committed.operator):
        intent = PaymentIntent.objects.get(pk=refund.intent_id)
        assert (intent.status, intent.amount_refunded) == ("refunded", 20_000_00)
        assert Reservation.objects.get(pk=reservation.pk).status == "cancelled"
        assert Slot.objects.get(pk=reservation.slot_id).taken == 0
        assert reservation.events.filter(kind="refund_confirmed").exists()
        assert not reservation.events.filter(kind="refunded").exists()
        refunds = WebhookEvent.objects.filter(event_type__startswith="refund.")
        assert set(refunds.values_list("outcome", flat=True)) <= {"applied", "ignored"}
        assert refunds.filter(outcome="applied").exists()
    paying.wait_for(lambda: len(mail.outbox) == 1)
    assert "is cancelled" in mail.outbox[0].subject, [m.subject for m in mail.outbox]
    assert "ARS\xa020,000.00" in mail.outbox[0].body
    page = paying.client.get(f"/reservations/{reservation.code}/").content.decode()
    assert "Your refund of ARS\xa020,000.00 was given back to the payment you made." in page


def test_only_a_traveller_cancels_through_this_path(booking):
    for wrong in (SYSTEM, provider(), staff()):
        with pytest.raises(PermissionDenied):
            booking_cancel(
                reservation_id=booking.pk,
                actor=wrong,
                email="ana@example.com",
                expected_refund=None,
            )
    assert Reservation.objects.get(pk=booking.pk).status == Reservation.Status.PAID


def test_the_refund_box_is_polled_until_the_provider_confirms(browser, booking):
    cancel(booking)
    url = f"/reservations/{booking.code}/cancellation/"
    waiting = browser.get(url, HTTP_HX_REQUEST="true")
    assert waiting.status_code == 200 and 'hx-trigger="every 2s"' in waiting.content.decode()

    refund = Refund.objects.get()
    refunded(refund.intent, refund.amount)  # the provider's word settles it (oldest first)
    Refund.objects.exclude(pk=refund.pk).delete()  # the factory's own request
    assert Refund.objects.get().status == Refund.Status.SUCCEEDED

    done = browser.get(url, HTTP_HX_REQUEST="true")
    assert done.status_code == 286 and "was given back" in done.content.decode()
    assert "hx-trigger" not in done.content.decode()
    other = hold(booking.slot, 1)
    assert browser.get(f"/reservations/{other.code}/cancellation/").status_code == 404


def test_a_payment_landing_after_the_cancellation_does_not_bring_the_booking_back(booking):
    """A second attempt the traveller had left open at another provider succeeds later."""
    late = PaymentIntent.objects.create(
        reservation=booking,
        provider="mercadopago",
        method="checkout",
        status=PaymentIntent.Status.PENDING,
        amount=booking.total_amount,
        currency="ARS",
    )
    cancel(booking)
    taken = Slot.objects.get(pk=booking.slot_id).taken

    with transaction.atomic():
        locked = PaymentIntent.objects.locked().get(pk=late.pk)
        outcome = intent_apply_state(
            locked, PaymentState(status="succeeded", payment_id="mp-late"), actor=provider()
        )

    assert outcome == "anomaly"
    assert Anomaly.objects.get().kind == Anomaly.Kind.PAID_WITHOUT_SEATS
    assert Reservation.objects.get(pk=booking.pk).status == Reservation.Status.CANCELLED
    assert Slot.objects.get(pk=booking.slot_id).taken == taken


def test_after_the_free_period_the_pages_say_the_share_before_confirming(browser, booking):
    activity = booking.slot.activity
    activity.free_cancellation_hours = 24 * 10  # ended a week ago
    activity.save()

    page = browser.get(f"/reservations/{booking.code}/").content.decode()
    assert "After the free period: 50 % back (ARS\xa010,000.00)." in page


def test_with_no_refund_the_traveller_is_told_before_confirming_and_may_still_cancel(
    browser, booking
):
    activity = booking.slot.activity
    activity.free_cancellation_hours, activity.late_refund_percent = None, 0
    activity.save()
    found(browser, booking)

    page = browser.get(f"/reservations/{booking.code}/cancel/").content.decode()
    assert "If you cancel now, nothing is refunded." in page
    response = browser.post(
        f"/reservations/{booking.code}/cancel/", {"confirm": "1", "refund": "0"}, follow=True
    )

    assert "Under the cancellation policy, nothing is refunded." in response.content.decode()
    assert Reservation.objects.get(pk=booking.pk).status == Reservation.Status.CANCELLED
    assert not Refund.objects.exists()


def test_staff_see_the_cancellation_and_its_refund_in_the_timeline(booking, alpha):
    cancel(booking)
    membership = membership_grant(
        actor=SYSTEM, operator=alpha, sub="alpha-agent", email="agent@alpha.example", role="agent"
    )
    client = Client(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(membership.user)

    page = client.get(f"/backoffice/reservations/{booking.code}/").content.decode()

    timeline = page[page.index('class="timeline"') :]
    assert "Cancelled, seats released" in timeline
    assert "2 seats; ARS\xa020,000.00 back under the policy" in timeline
    assert "Refund requested" in timeline and "The traveller" in timeline
