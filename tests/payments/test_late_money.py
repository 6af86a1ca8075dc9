"""Money is never kept for seats that are gone (DESIGN.md, invariant 10): the providers'
checkouts end with the hold, and money that still lands for seats that cannot be taken (or
pays a booking twice) is refunded in full at once, the anomaly resolved by that refund, and
the traveller told by e-mail and on the booking's page."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from booking.emails import send_late_payment_refunded
from booking.models import Reservation, Slot
from booking.services import reservation_extend_hold, reservations_expire_overdue
from outbox.models import OutboxMessage
from payments.credentials import MercadoPagoCredentials, StripeCredentials
from payments.models import Anomaly, Method, PaymentIntent, Provider, Refund
from payments.providers.base import CheckoutUrls
from payments.providers.mercadopago import MercadoPagoProvider
from payments.providers.stripe import StripeProvider
from tests.factories import (
    ALPHA_HOST,
    SYSTEM,
    checkout_session,
    hold,
    paid,
    post_stripe,
    stripe_event,
    traveller,
)

S = PaymentIntent.Status
URLS = CheckoutUrls(success="http://a/ok", cancel="http://a/back", notification="http://a/n")


@pytest.fixture
def hook(operator_secrets) -> Client:
    return Client(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE="en")


def seats_gone(intent: PaymentIntent) -> Slot:
    """The intent's hold expired and another traveller took every seat of its departure."""
    reservations_expire_overdue(actor=SYSTEM, now=timezone.now() + timedelta(hours=2))
    slot = Slot.objects.get(pk=intent.reservation.slot_id)
    hold(slot, slot.seats_left, scope="traveller-b")
    return slot


def paid_late(hook, intent: PaymentIntent, **session):
    return post_stripe(
        hook, stripe_event("checkout.session.completed", checkout_session(intent, **session))
    )


def topics() -> list[str]:
    return sorted(OutboxMessage.objects.values_list("topic", flat=True))


# Checkouts end with the hold


def late_hold(alpha, reservation: Reservation, minutes: int) -> Reservation:
    alpha.payment_minutes = minutes
    return reservation_extend_hold(reservation_id=reservation.pk, actor=traveller())


@pytest.mark.parametrize("method", [Method.CARD, Method.PIX, Method.CHECKOUT])
def test_checkouts_are_opened_to_end_with_the_hold(alpha, make_intent, held, method):
    reservation = late_hold(alpha, held, 45)
    ends = reservation.hold_expires_at
    provider = Provider.STRIPE if method == Method.CARD else Provider.MERCADOPAGO
    intent = make_intent(reservation, provider=provider, method=method)

    if provider == Provider.STRIPE:
        request = StripeProvider(StripeCredentials("sk_test_x", ())).checkout_request(intent, URLS)
        assert request["expires_at"] == int(ends.timestamp())
    else:
        request = MercadoPagoProvider(MercadoPagoCredentials("t", "s")).checkout_request(
            intent, URLS
        )
        key = "date_of_expiration" if method == Method.PIX else "expiration_date_to"
        assert request[key] == ends.isoformat(timespec="milliseconds")


def test_a_provider_minimum_longer_than_the_hold_wins_and_the_checkout_is_ended_later(
    alpha, make_intent, held
):
    alpha.payment_minutes = 10
    reservation = Reservation.objects.get(pk=held.pk)
    Reservation.objects.filter(pk=held.pk).update(
        hold_expires_at=timezone.now() + timedelta(minutes=10)
    )
    reservation.refresh_from_db()
    card = make_intent(reservation)
    pix = make_intent(reservation, provider=Provider.MERCADOPAGO, method=Method.PIX)
    preference = make_intent(reservation, provider=Provider.MERCADOPAGO, method=Method.CHECKOUT)
    now = timezone.now()

    stripe = StripeProvider(StripeCredentials("sk_test_x", ())).checkout_request(card, URLS)
    mercadopago = MercadoPagoProvider(MercadoPagoCredentials("t", "s"))
    pix_request = mercadopago.checkout_request(pix, URLS)
    preference_request = mercadopago.checkout_request(preference, URLS)

    # Stripe: at least 30 minutes; Mercado Pago's Pix: at least 30 minutes; a preference: none.
    assert stripe["expires_at"] >= int((now + timedelta(minutes=31)).timestamp())
    pix_ends = timezone.datetime.fromisoformat(pix_request["date_of_expiration"])
    assert pix_ends >= now + timedelta(minutes=30)
    assert preference_request["expiration_date_to"] == reservation.hold_expires_at.isoformat(
        timespec="milliseconds"
    )


def test_a_hold_that_ends_asks_for_its_open_checkouts_to_be_ended(alpha, make_intent, held):
    open_card = make_intent()
    make_intent(status=S.FAILED)
    reservations_expire_overdue(actor=SYSTEM, now=timezone.now() + timedelta(hours=2))
    assert list(OutboxMessage.objects.values_list("topic", "payload")) == [
        ("payments.checkout_end", {"intent_id": open_card.pk})
    ]


# Late money is refunded at once


def test_a_late_payment_without_seats_is_refunded_in_full_and_its_anomaly_resolved(
    hook, make_intent
):
    intent = make_intent()
    slot = seats_gone(intent)
    OutboxMessage.objects.all().delete()

    assert paid_late(hook, intent).status_code == 200

    intent.refresh_from_db()
    refund = Refund.objects.get()
    assert (refund.intent, refund.amount, refund.status) == (intent, intent.amount, "requested")
    assert refund.requested_by == "automatic refund"
    anomaly = Anomaly.objects.get()
    assert anomaly.kind == Anomaly.Kind.PAID_WITHOUT_SEATS
    assert anomaly.resolved_at is not None and anomaly.resolved_by == "automatic refund"
    assert f"refund {refund.pk}" in anomaly.details
    assert topics() == ["email.late_payment_refunded", "payments.refund_send"]
    late = Reservation.objects.get(pk=intent.reservation_id).late_payment_refund()
    assert late.data | {"refund": 0} == {
        "refund": 0,
        "amount": intent.amount,
        "provider": "stripe",
        "provider_name": "Stripe",
        "method": "card",
        "paid_twice": False,
    }
    slot.refresh_from_db()
    assert slot.taken == slot.capacity  # the other traveller's seats are untouched


@pytest.mark.parametrize("status", [S.PENDING, S.EXPIRED])
def test_the_late_payment_told_again_refunds_nothing_more(hook, make_intent, status):
    intent = make_intent()
    seats_gone(intent)
    PaymentIntent.objects.filter(pk=intent.pk).update(
        status=status, provider_payment_id="pi_test_1"
    )
    paid_late(hook, intent)
    paid_late(hook, intent)  # another event of the same payment (redelivery is deduplicated)
    assert Refund.objects.count() == 1
    assert Anomaly.objects.count() == 1
    assert OutboxMessage.objects.filter(topic="email.late_payment_refunded").count() == 1


def test_a_refused_automatic_refund_leaves_the_anomaly_open_for_staff(hook, make_intent):
    intent = make_intent()
    seats_gone(intent)
    paid_late(hook, intent)
    refund = Refund.objects.get()
    refused = {
        "id": "re_refused_1",
        "object": "refund",
        "status": "failed",
        "payment_intent": "pi_test_1",
        "metadata": {"refund_id": str(refund.pk), "intent_id": str(intent.pk)},
    }
    post_stripe(hook, stripe_event("refund.updated", refused))

    refund.refresh_from_db()
    assert refund.status == Refund.Status.FAILED
    anomaly = Anomaly.objects.get()
    assert anomaly.resolved_at is None and anomaly.resolved_by == ""


def test_a_paid_amount_that_differs_stays_with_staff(hook, make_intent):
    intent = make_intent()
    seats_gone(intent)
    paid_late(hook, intent, amount=intent.amount - 100)
    assert Anomaly.objects.get().kind == Anomaly.Kind.AMOUNT_MISMATCH
    assert Anomaly.objects.get().resolved_at is None
    assert not Refund.objects.exists()


def test_a_second_payment_of_a_paid_booking_is_refunded(hook, held, make_intent):
    first = paid(held)
    second = make_intent(provider_reference="cs_second")
    OutboxMessage.objects.all().delete()

    paid_late(hook, second, payment_intent="pi_second")

    second.refresh_from_db()
    assert second.status == S.SUCCEEDED
    refund = Refund.objects.get()
    assert (refund.intent, refund.amount) == (second, second.amount)
    assert Anomaly.objects.get().kind == Anomaly.Kind.PAID_TWICE
    assert Anomaly.objects.get().resolved_by == "automatic refund"
    assert Reservation.objects.get(pk=held.pk).status == "paid"
    assert PaymentIntent.objects.get(pk=first.pk).status == S.SUCCEEDED
    assert "email.late_payment_refunded" in topics()


def test_a_payment_for_an_ended_attempt_is_refunded_when_its_seats_are_gone(hook, make_intent):
    intent = make_intent()
    seats_gone(intent)
    PaymentIntent.objects.filter(pk=intent.pk).update(
        status=S.EXPIRED, provider_payment_id="pi_test_1"
    )
    paid_late(hook, intent)
    assert Anomaly.objects.get().kind == Anomaly.Kind.SUCCESS_ON_CLOSED_INTENT
    assert Anomaly.objects.get().resolved_by == "automatic refund"
    assert Refund.objects.get().amount == intent.amount


def test_a_payment_for_an_ended_attempt_stays_with_staff_while_its_booking_could_take_it(
    hook, make_intent
):
    intent = make_intent(status=S.CANCELLED, provider_payment_id="pi_test_1")
    paid_late(hook, intent)
    assert Anomaly.objects.get().resolved_at is None
    assert not Refund.objects.exists()


# What the traveller is told


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["received your payment of", "no longer available", "full refund of", "Stripe"]),
        (
            "es",
            ["Recibimos su pago de", "ya no estaban disponibles", "reembolso completo", "Stripe"],
        ),
        (
            "pt-br",
            ["Recebemos o seu pagamento de", "já não estavam", "reembolso integral", "Stripe"],
        ),
    ],
)
def test_the_traveller_is_told_by_email_in_their_language(hook, make_intent, language, words):
    intent = make_intent()
    Reservation.objects.filter(pk=intent.reservation_id).update(language=language)
    seats_gone(intent)
    paid_late(hook, intent)
    mail.outbox.clear()

    message = OutboxMessage.objects.get(topic="email.late_payment_refunded")
    send_late_payment_refunded(message)
    send_late_payment_refunded(message)  # delivered again: sent once

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["ana@example.com"]
    assert intent.reservation.code in email.subject
    html = email.alternatives[0][0]
    for text in (email.body, html):
        for word in [*words, "Stripe"]:
            assert word in text, (word, text)
        assert "5" in text and "10" in text  # how long card refunds take


def test_the_bookings_page_says_the_payment_was_received_and_refunded(hook, make_intent):
    intent = make_intent()
    seats_gone(intent)
    paid_late(hook, intent)
    page = hook.get(f"/reservations/{intent.reservation.code}/").content.decode()
    assert 'data-testid="late-payment"' in page
    assert "Your payment came after the seats were gone" in page
    assert "A full refund of" in page and "has been issued through Stripe" in page


# With the providers' emulators: checkouts ended, and a storm of one late payment


races = pytest.mark.xdist_group("races")


@races
def test_starting_to_pay_extends_the_hold_and_its_end_ends_every_checkout(paying):
    card = paying.reservation()
    preference = paying.reservation()
    pix = paying.reservation(currency="BRL")
    started = timezone.now()
    session_id = paying.pay(card, "stripe:card").rsplit("/", 1)[1]
    preference_id = paying.pay(preference, "mercadopago:checkout").split("pref_id=")[1]
    paying.pay(pix, "mercadopago:pix")
    extended = paying.fresh(card).hold_expires_at
    assert started + timedelta(minutes=29) < extended <= timezone.now() + timedelta(minutes=30)
    with tenant_context(paying.committed.operator):
        assert card.events.filter(kind="hold_extended").exists()
        pix_payment = PaymentIntent.objects.get(reservation_id=pix.pk).provider_payment_id

    # The traveller releases one hold; the sweep expires the others.
    response = paying.client.post(f"/reservations/{card.code}/", {"cancel": "1"})
    assert response.status_code == 302
    with tenant_context(paying.committed.operator):
        reservations_expire_overdue(actor=SYSTEM, now=timezone.now() + timedelta(hours=1))

    assert stripe_client(paying).v1.checkout.sessions.retrieve(session_id).status == "expired"
    card_intent = paying.wait_for(
        lambda: PaymentIntent.objects.filter(reservation_id=card.pk, status=S.EXPIRED).first()
    )
    assert card_intent.provider_reference == session_id
    mercadopago = MercadoPagoApi(paying)
    found = mercadopago.get(f"/checkout/preferences/{preference_id}")
    ends = timezone.datetime.fromisoformat(found["expiration_date_to"])
    assert found["expires"] and ends <= timezone.now()
    assert mercadopago.get(f"/v1/payments/{pix_payment}")["status"] == "cancelled"
    paying.wait_for(
        lambda: PaymentIntent.objects.filter(reservation_id=pix.pk, status=S.CANCELLED).exists()
    )
    with tenant_context(paying.committed.operator):
        delivered = OutboxMessage.objects.filter(
            topic="payments.checkout_end", delivered_at__isnull=False
        )
        assert delivered.count() == 3
    quiet(paying)


def quiet(paying) -> None:
    """Every webhook the emulators are still sending has been answered: none lands in the
    next test."""
    from emulators.testing import control

    for url in (paying.emulators.stripe_url, paying.emulators.mercadopago_url):
        paying.wait_for(lambda url=url: control(url, "/_emulator/deliveries")["in_flight"] == 0)


def stripe_client(paying):
    import stripe as stripe_sdk

    from tests.factories import ALPHA_SECRETS

    return stripe_sdk.StripeClient(
        ALPHA_SECRETS["stripe"]["secret_key"], base_addresses={"api": paying.emulators.stripe_url}
    )


class MercadoPagoApi:
    def __init__(self, paying):
        from tests.factories import ALPHA_SECRETS

        self.url = paying.emulators.mercadopago_url
        self.token = ALPHA_SECRETS["mercadopago"]["access_token"]

    def get(self, path: str) -> dict:
        import urllib.request

        request = urllib.request.Request(
            self.url + path, headers={"Authorization": f"Bearer {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())


@races
def test_a_storm_of_one_late_payment_refunds_it_once(paying, app_server):
    import stripe as stripe_sdk

    from tests.factories import ALPHA_SECRETS
    from tests.payments.test_webhook_storm import STORM, deliver

    account = ALPHA_SECRETS["stripe"]
    reservation = paying.reservation(seats=2)
    session_id = paying.pay(reservation, "stripe:card").rsplit("/", 1)[1]
    # The payment's own webhook is held back: it comes as a storm after the seats are gone.
    paying.emulators.stripe_account(
        account["secret_key"],
        webhook_url=f"http://alpha.localhost:{app_server}/webhooks/stripe/",
        webhook_secrets=account["webhook_secrets"],
        enabled_events=["refund.created", "refund.updated"],
    )
    paying.emulators.control_action("stripe", f"/_emulator/stripe/sessions/{session_id}/pay")
    client = stripe_client(paying)
    session = client.v1.checkout.sessions.retrieve(session_id).to_dict()
    with tenant_context(paying.committed.operator):
        reservations_expire_overdue(actor=SYSTEM, now=timezone.now() + timedelta(hours=1))
        slot = Slot.objects.get(pk=reservation.slot_id)
        other = hold(slot, slot.seats_left, scope="traveller-b")
    mail.outbox.clear()
    body = json.dumps(stripe_event("checkout.session.completed", session))
    signature = stripe_sdk.WebhookSignature.generate_signature_header(
        body, account["webhook_secrets"][0]
    )
    headers = {"Stripe-Signature": signature}

    answers = paying.committed.run_concurrently(
        STORM, lambda _: deliver(app_server, "/webhooks/stripe/", body.encode(), headers)
    )

    assert {status for status, _ in answers} == {200}
    with tenant_context(paying.committed.operator):
        refund = Refund.objects.get()
        assert refund.amount == reservation.total_amount
        anomaly = Anomaly.objects.get()
        assert anomaly.resolved_by == "automatic refund"
        assert Reservation.objects.get(pk=other.pk).status == "held"
        assert Slot.objects.get(pk=slot.pk).taken == slot.capacity
    refunds = client.v1.refunds.list(params={"payment_intent": session["payment_intent"]})
    assert len(refunds.data) == 1 and refunds.data[0].amount == reservation.total_amount
    paying.wait_for(lambda: Refund.objects.get(pk=refund.pk).status == "succeeded")
    paying.wait_for(lambda: len(mail.outbox) == 1)
    assert mail.outbox[0].to == ["ana@example.com"]
    assert mail.outbox[0].subject.startswith("Your payment for")  # the booking's language
    quiet(paying)
