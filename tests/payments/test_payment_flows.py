"""Whole payment flows: the traveller's pages, the official SDKs talking to the provider
emulators, and webhooks delivered by the emulators over HTTP to the served app."""

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from booking.models import Reservation, Slot
from payments.models import Anomaly, PaymentIntent, Refund, WebhookEvent
from payments.services.reconciliation import payment_reconcile
from payments.services.refunds import refund_request
from tenants.models import Role
from tests.factories import staff

pytestmark = pytest.mark.xdist_group("races")
S = PaymentIntent.Status
HTMX = {"HTTP_HX_REQUEST": "true"}


def latest_intent(reservation) -> PaymentIntent:
    return PaymentIntent.objects.filter(reservation_id=reservation.pk).first()


def test_card_payment_is_confirmed_by_the_webhook_and_sends_the_email(paying):
    reservation = paying.reservation(seats=2)
    checkout = paying.pay(reservation, "stripe:card")
    assert checkout.startswith(paying.emulators.stripe_url + "/checkout/cs_")

    # Not paid yet: an open checkout is not a payment being confirmed (no spinner).
    waiting = paying.client.get(
        f"/reservations/{reservation.code}/return/", {"shown": "open"}, **HTMX
    )
    assert waiting.status_code == 286
    assert "spinner" not in waiting.content.decode()
    mail.outbox.clear()

    session_id = checkout.rsplit("/", 1)[1]
    paying.emulators.control_action("stripe", f"/_emulator/stripe/sessions/{session_id}/pay")

    paying.wait_for(lambda: Reservation.objects.get(pk=reservation.pk).status == "paid")
    intent = paying.wait_for(lambda: latest_intent(reservation))
    assert intent.status == S.SUCCEEDED and intent.provider_payment_id.startswith("pi_")
    done = paying.client.get(f"/reservations/{reservation.code}/return/", **HTMX)
    assert done["HX-Redirect"] == f"/reservations/{reservation.code}/confirmed/"
    confirmed = paying.client.get(done["HX-Redirect"]).content.decode()
    assert "Booking confirmed" in confirmed and reservation.code in confirmed
    paying.wait_for(lambda: len(mail.outbox) == 1)
    assert mail.outbox[0].to == ["ana@example.com"]


def test_a_forged_return_changes_nothing(paying):
    reservation = paying.reservation()
    other = paying.reservation()
    paying.pay(reservation, "stripe:card")
    checkout = paying.pay(other, "stripe:card")
    other_session = checkout.rsplit("/", 1)[1]

    for query in (
        "?status=approved",
        "?redirect_status=succeeded",
        f"?session_id={other_session}",
        "?collection_status=approved&status=approved",
    ):
        response = paying.client.get(f"/reservations/{reservation.code}/return/{query}")
        assert response.status_code == 200
    assert paying.client.get(f"/reservations/{reservation.code}/confirmed/").status_code == 302

    assert paying.fresh(reservation).status == "held"
    with tenant_context(paying.committed.operator):
        assert latest_intent(reservation).status == S.PENDING
        assert not WebhookEvent.objects.exists()


def test_a_declined_card_keeps_the_seats_held_and_says_so(paying):
    reservation = paying.reservation()
    checkout = paying.pay(reservation, "stripe:card")
    session_id = checkout.rsplit("/", 1)[1]
    paying.emulators.control_action("stripe", f"/_emulator/stripe/sessions/{session_id}/decline")

    intent = paying.wait_for(lambda: (i := latest_intent(reservation)).declined_at and i)
    assert intent.status == S.PENDING
    assert paying.fresh(reservation).status == "held"
    page = paying.client.get(f"/reservations/{reservation.code}/return/").content.decode()
    assert "Your payment was declined" in page and "spinner" not in page


def test_mercadopago_checkout_is_paid_only_when_the_payment_is_approved(paying):
    reservation = paying.reservation()
    checkout = paying.pay(reservation, "mercadopago:checkout")
    preference = checkout.split("pref_id=")[1]

    paying.emulators.control_action(
        "mercadopago", f"/_emulator/mercadopago/preferences/{preference}/decline"
    )
    paying.wait_for(lambda: WebhookEvent.objects.filter(outcome="applied").exists())
    assert paying.fresh(reservation).status == "held"

    paying.emulators.control_action(
        "mercadopago", f"/_emulator/mercadopago/preferences/{preference}/pay"
    )
    paying.wait_for(lambda: Reservation.objects.get(pk=reservation.pk).status == "paid")
    with tenant_context(paying.committed.operator):
        assert latest_intent(reservation).status == S.SUCCEEDED


def test_pix_shows_the_qr_and_a_pending_notification_changes_nothing(paying):
    reservation = paying.reservation(currency="BRL")
    pix_page = paying.pay(reservation, "mercadopago:pix")
    with tenant_context(paying.committed.operator):
        intent = latest_intent(reservation)
    assert pix_page == f"/reservations/{reservation.code}/pix/{intent.pk}/"
    page = paying.client.get(pix_page).content.decode()
    assert intent.pix_code and intent.pix_code[:20] in page
    assert 'src="data:image/png;base64,' in page

    # Creating the payment notifies payment.created: it is still pending.
    paying.wait_for(lambda: WebhookEvent.objects.filter(intent_id=intent.pk).exists())
    assert paying.fresh(intent).status == S.PENDING
    assert paying.fresh(reservation).status == "held"

    paying.emulators.control_action(
        "mercadopago", f"/_emulator/mercadopago/payments/{intent.provider_payment_id}/approve"
    )
    paying.wait_for(lambda: Reservation.objects.get(pk=reservation.pk).status == "paid")
    polled = paying.client.get(pix_page, **HTMX)
    assert polled["HX-Redirect"] == f"/reservations/{reservation.code}/confirmed/"


def test_duplicated_and_reordered_deliveries_apply_once(paying):
    paying.emulators.behaviour("stripe", duplicates=3, reorder=True)
    reservation = paying.reservation()
    checkout = paying.pay(reservation, "stripe:card")
    mail.outbox.clear()
    paying.emulators.control_action(
        "stripe", f"/_emulator/stripe/sessions/{checkout.rsplit('/', 1)[1]}/pay"
    )
    paying.emulators.wait_for_deliveries(
        "stripe", lambda rows: sum(r["type"] == "checkout.session.completed" for r in rows) >= 4
    )
    paying.wait_for(lambda: Reservation.objects.get(pk=reservation.pk).status == "paid")
    with tenant_context(paying.committed.operator):
        assert WebhookEvent.objects.filter(event_type="checkout.session.completed").count() == 1
    paying.wait_for(lambda: len(mail.outbox) >= 1)
    assert len(mail.outbox) == 1


def test_reconciliation_asks_the_provider_when_no_webhook_came(paying):
    reservation = paying.reservation()
    checkout = paying.pay(reservation, "stripe:card")
    # The webhook never arrives: the endpoint is unreachable and not retried.
    paying.emulators.stripe_account(
        "sk_test_alpha",
        webhook_url="http://127.0.0.1:9/unreachable/",
        webhook_secrets=["whsec_alpha_new"],
    )
    paying.emulators.behaviour("stripe", retries=0)
    paying.emulators.control_action(
        "stripe", f"/_emulator/stripe/sessions/{checkout.rsplit('/', 1)[1]}/pay"
    )
    with tenant_context(paying.committed.operator):
        intent = latest_intent(reservation)
        assert intent.status == S.PENDING
        assert (
            payment_reconcile(intent_id=intent.pk, actor=staff(Role.MANAGER, "staff@alpha"))
            == "applied"
        )
        intent.refresh_from_db()
        assert intent.status == S.SUCCEEDED
        reservation.refresh_from_db()
        assert reservation.status == "paid"
        reconciled = reservation.events.get(kind="reconciled")
        assert reconciled.actor == "staff@alpha"
        assert (reconciled.data["before"], reconciled.data["after"]) == ("pending", "succeeded")
        assert reservation.events.get(kind="paid").actor == "staff@alpha"


@pytest.mark.parametrize("choice", ["stripe:card", "mercadopago:checkout"])
def test_partial_then_full_refund_confirmed_by_webhooks_releases_the_seats(paying, choice):
    reservation = paying.reservation(seats=2)
    checkout = paying.pay(reservation, choice)
    if choice.startswith("stripe"):
        action = ("stripe", f"/_emulator/stripe/sessions/{checkout.rsplit('/', 1)[1]}/pay")
    else:
        action = (
            "mercadopago",
            f"/_emulator/mercadopago/preferences/{checkout.split('pref_id=')[1]}/pay",
        )
    paying.emulators.control_action(*action)
    paying.wait_for(lambda: Reservation.objects.get(pk=reservation.pk).status == "paid")
    with tenant_context(paying.committed.operator):
        intent = latest_intent(reservation)
        slot_id = reservation.slot_id
        first = refund_request(
            intent_id=intent.pk,
            amount=intent.amount // 4,
            actor=staff(Role.OWNER, "owner@alpha"),
            reason="one traveller cancelled",
        )
    paying.wait_for(lambda: Refund.objects.get(pk=first.pk).status == "succeeded")
    assert paying.fresh(intent).status == S.PARTIALLY_REFUNDED
    assert paying.fresh(reservation).status == "paid"

    with tenant_context(paying.committed.operator):
        refund_request(
            intent_id=intent.pk,
            amount=intent.amount - intent.amount // 4,
            actor=staff(Role.OWNER, "owner@alpha"),
        )
    paying.wait_for(lambda: PaymentIntent.objects.get(pk=intent.pk).status == S.REFUNDED)
    assert paying.fresh(reservation).status == "refunded"
    with tenant_context(paying.committed.operator):
        assert Slot.objects.get(pk=slot_id).taken == 0
        assert not Anomaly.objects.exists()


def test_only_offered_methods_can_be_chosen(paying):
    reservation = paying.reservation()  # ARS: no Pix
    response = paying.client.post(
        f"/reservations/{reservation.code}/pay/", {"pay": "mercadopago:pix"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/reservations/{reservation.code}/"
    with tenant_context(paying.committed.operator):
        assert not PaymentIntent.objects.exists()
