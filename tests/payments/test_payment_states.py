"""What the traveller is told about paying: exactly the latest attempt's real state, on the
return page, the Pix page and the reservation page (full pages and their htmx fragments),
through the official SDKs and the provider emulators. The spinner shows only while a
provider's confirmation is really awaited; the return URL never marks anything paid, and the
provider's own API, asked once on landing, tells the truth before the webhook."""

import pytest
from django_tenants.utils import tenant_context

from booking.models import Reservation, ReservationEvent
from emulators.testing import free_port
from payments.models import Method, PaymentIntent, Provider, WebhookEvent
from payments.providers.base import CheckoutUrls
from payments.providers.mercadopago import payment_state
from payments.providers.stripe import session_state
from payments.services.checkout import payment_start
from payments.traveller_state import Shown, payment_shown
from tenants.actors import Actor

pytestmark = pytest.mark.xdist_group("races")
S = PaymentIntent.Status
HTMX = {"HTTP_HX_REQUEST": "true"}
PAY_BUTTONS = ("Pay by card", "Pay with Mercado Pago")


def latest_intent(reservation) -> PaymentIntent:
    return PaymentIntent.objects.filter(reservation_id=reservation.pk).first()


def return_page(paying, reservation, query: str = "") -> str:
    response = paying.client.get(f"/reservations/{reservation.code}/return/{query}")
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def poll(paying, reservation, shown: str, url: str = ""):
    return paying.client.get(
        url or f"/reservations/{reservation.code}/return/", {"shown": shown}, **HTMX
    )


def session_of(checkout_url: str) -> str:
    return checkout_url.rsplit("/", 1)[1]


def stripe_session(paying, session_id: str) -> dict:
    """The session as Stripe's API tells it."""
    import stripe

    key = paying.secrets["stripe"]["secret_key"]
    client = stripe.StripeClient(key, base_addresses={"api": paying.emulators.stripe_url})
    return client.v1.checkout.sessions.retrieve(session_id).to_dict()


@pytest.fixture
def paying_quietly(paying, operator_secrets):
    """As `paying`, but Stripe delivers no webhooks: only the provider's API, asked when
    the traveller comes back, can tell what happened."""
    alpha = operator_secrets["alpha"]["stripe"]
    paying.emulators.stripe_account(
        alpha["secret_key"],
        webhook_secrets=alpha["webhook_secrets"],
        enabled_events=["account.updated"],
    )
    paying.secrets = operator_secrets["alpha"]
    return paying


def test_a_cancelled_checkout_says_so_ends_the_session_and_offers_the_ways_to_pay(
    paying_quietly,
):
    paying = paying_quietly
    reservation = paying.reservation()
    session_id = session_of(paying.pay(reservation, "stripe:card"))

    page = return_page(paying, reservation, "?cancelled=1")

    assert "You did not finish paying" in page and "Nothing was charged." in page
    assert "spinner" not in page
    assert all(button in page for button in PAY_BUTTONS)
    # Ended at Stripe, so it cannot be paid later; closed here by Stripe's own answer.
    assert stripe_session(paying, session_id)["status"] == "expired"
    with tenant_context(paying.committed.operator):
        intent = latest_intent(reservation)
        assert intent.status == S.EXPIRED
        check = ReservationEvent.objects.get(reservation=reservation, kind="payment_checked")
        assert check.data["answered"] and check.data["cancelled"]
        assert check.data["after"] == S.EXPIRED
    assert paying.fresh(reservation).status == "held"

    # The reservation page tells the same, with the same ways to pay.
    reservation_page = paying.client.get(f"/reservations/{reservation.code}/").content.decode()
    assert "You did not finish paying" in reservation_page
    assert all(button in reservation_page for button in PAY_BUTTONS)
    # Its fragment: not polled (nothing changes by itself), no spinner.
    fragment = poll(paying, reservation, "not_finished")
    assert fragment.status_code == 286
    assert "You did not finish paying" in fragment.content.decode()
    assert "spinner" not in fragment.content.decode()


def test_a_decline_shows_one_message_and_no_spinner(paying_quietly):
    """Stripe's webhook of the decline may come after the traveller: its API tells it."""
    paying = paying_quietly
    reservation = paying.reservation()
    session_id = session_of(paying.pay(reservation, "stripe:card"))
    paying.emulators.control_action("stripe", f"/_emulator/stripe/sessions/{session_id}/decline")

    # Back to the shop from the declined checkout: Stripe's cancel link.
    page = return_page(paying, reservation, "?cancelled=1")

    assert page.count("Your payment was declined") == 1
    assert "You did not finish paying" not in page and "spinner" not in page
    assert all(button in page for button in PAY_BUTTONS)
    with tenant_context(paying.committed.operator):
        intent = latest_intent(reservation)
        assert intent.declined_at is not None and intent.status == S.EXPIRED
    fragment = poll(paying, reservation, "declined")
    assert fragment.status_code == 286 and "spinner" not in fragment.content.decode()


def test_declined_then_paid_by_another_way(paying):
    reservation = paying.reservation()
    checkout = paying.pay(reservation, "mercadopago:checkout")
    preference = checkout.split("pref_id=")[1]
    declined = paying.emulators.control_action(
        "mercadopago", f"/_emulator/mercadopago/preferences/{preference}/decline"
    )
    # Mercado Pago sends the traveller to the failure link, with its own query string.
    failure = declined["redirect_url"]
    assert "/return/?cancelled=1&" in failure and "status=rejected" in failure

    page = paying.client.get(failure[failure.index("/reservations/") :]).content.decode()
    assert "Your payment was declined" in page and "spinner" not in page
    with tenant_context(paying.committed.operator):
        assert latest_intent(reservation).declined_at is not None

    card = paying.pay(reservation, "stripe:card")
    paying.emulators.control_action("stripe", f"/_emulator/stripe/sessions/{session_of(card)}/pay")
    confirmed = paying.client.get(f"/reservations/{reservation.code}/return/")
    assert confirmed.status_code == 302
    assert confirmed["Location"] == f"/reservations/{reservation.code}/confirmed/"
    assert paying.fresh(reservation).status == "paid"


def test_a_return_before_the_webhook_shows_the_provider_s_answer(paying_quietly):
    paying = paying_quietly
    reservation = paying.reservation()
    session_id = session_of(paying.pay(reservation, "stripe:card"))
    paying.emulators.control_action("stripe", f"/_emulator/stripe/sessions/{session_id}/pay")

    # The success link, with Stripe's session id: not read; Stripe's API is asked.
    landed = paying.client.get(f"/reservations/{reservation.code}/return/?session_id={session_id}")

    assert landed.status_code == 302
    assert landed["Location"] == f"/reservations/{reservation.code}/confirmed/"
    assert paying.fresh(reservation).status == "paid"
    with tenant_context(paying.committed.operator):
        # Only this intent's webhooks matter: another test's may still land meanwhile.
        intent = latest_intent(reservation)
        assert not WebhookEvent.objects.filter(intent=intent).exists()
        assert intent.status == S.SUCCEEDED
        paid = ReservationEvent.objects.get(reservation=reservation, kind="paid")
        assert paid.actor == "provider asked on return"
    # A later poll moves on to the confirmation too.
    assert poll(paying, reservation, "confirming")["HX-Redirect"].endswith("/confirmed/")


def test_a_confirmation_in_progress_is_the_only_spinner(paying):
    """Stripe's Pix: the traveller finished the checkout, the payment is asynchronous."""
    reservation = paying.reservation(currency="BRL")
    with tenant_context(paying.committed.operator):
        intent = payment_start(
            reservation=Reservation.objects.get(pk=reservation.pk),
            provider=Provider.STRIPE,
            method=Method.PIX,
            urls=CheckoutUrls("http://alpha.localhost/r/", "http://alpha.localhost/c/", "x"),
            actor=Actor.traveller("someone"),
        )
    paying.emulators.control_action(
        "stripe", f"/_emulator/stripe/sessions/{intent.provider_reference}/continue"
    )

    page = return_page(paying, reservation)
    assert "Confirming your payment" in page and 'class="spinner"' in page
    assert not any(button in page for button in PAY_BUTTONS)  # paying again could pay twice
    assert paying.fresh(reservation).status == "held"
    fragment = poll(paying, reservation, "confirming")
    assert fragment.status_code == 200 and 'hx-trigger="every 2s"' in fragment.content.decode()
    reservation_page = paying.client.get(f"/reservations/{reservation.code}/").content.decode()
    assert "Confirming your payment" in reservation_page
    assert "Pay with Pix" not in reservation_page

    # Stripe's webhook for the async payment arrives: the poll goes on to the confirmation.
    paying.emulators.control_action(
        "stripe", f"/_emulator/stripe/sessions/{intent.provider_reference}/pix-paid"
    )
    paying.wait_for(lambda: Reservation.objects.get(pk=reservation.pk).status == "paid")
    assert poll(paying, reservation, "confirming")["HX-Redirect"].endswith("/confirmed/")


def test_a_provider_that_does_not_answer_leaves_an_honest_checking_state(paying, settings):
    reservation = paying.reservation()
    paying.pay(reservation, "stripe:card")
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"  # nobody listens

    page = return_page(paying, reservation)

    assert "We are checking with Stripe" in page and "spinner" not in page
    with tenant_context(paying.committed.operator):
        assert latest_intent(reservation).status == S.PENDING
        check = ReservationEvent.objects.get(reservation=reservation, kind="payment_checked")
        assert check.data["answered"] is False
    still = poll(paying, reservation, "checking")
    assert still.status_code == 200  # polled on: the webhook may still come
    # A state that moved on reloads the page, which then offers what it allows.
    assert poll(paying, reservation, "confirming")["HX-Refresh"] == "true"


def test_pix_waits_for_the_payer_without_a_spinner_and_says_when_it_ended(paying):
    reservation = paying.reservation(currency="BRL")
    pix_page = paying.pay(reservation, "mercadopago:pix")
    page = paying.client.get(pix_page).content.decode()
    assert "Waiting for your Pix" in page and "spinner" not in page
    assert 'alt="Pix QR code"' in page
    assert poll(paying, reservation, "pix_waiting", url=pix_page).status_code == 200

    with tenant_context(paying.committed.operator):
        intent = latest_intent(reservation)
    paying.emulators.control_action(
        "mercadopago", f"/_emulator/mercadopago/payments/{intent.provider_payment_id}/expire"
    )
    paying.wait_for(lambda: not PaymentIntent.objects.get(pk=intent.pk).is_open)

    assert poll(paying, reservation, "pix_waiting", url=pix_page)["HX-Refresh"] == "true"
    ended = paying.client.get(pix_page).content.decode()
    assert "This Pix code can no longer be paid" in ended and "Nothing was charged." in ended
    assert 'alt="Pix QR code"' not in ended and "Pay with Pix" in ended


@pytest.mark.parametrize(
    ("language", "cancelled", "declined"),
    [
        ("es", "No terminó de pagar", "Su pago fue rechazado"),
        ("pt-br", "Você não terminou de pagar", "Seu pagamento foi recusado"),
    ],
)
def test_the_states_speak_spanish_and_portuguese(paying, language, cancelled, declined):
    paying.client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    reservation = paying.reservation()
    paying.pay(reservation, "stripe:card")
    assert cancelled in return_page(paying, reservation, "?cancelled=1")

    other = paying.reservation()
    session_id = session_of(paying.pay(other, "stripe:card"))
    paying.emulators.control_action("stripe", f"/_emulator/stripe/sessions/{session_id}/decline")
    paying.wait_for(lambda: latest_intent(other).declined_at)
    assert declined in return_page(paying, other, "?cancelled=1")


def test_providers_answers_tell_a_payment_in_progress_from_one_awaited():
    complete = {"id": "cs_1", "status": "complete", "payment_status": "unpaid"}
    assert session_state(complete).in_progress
    assert not session_state(complete | {"status": "open"}).in_progress
    assert session_state(complete | {"payment_status": "paid"}).status == S.SUCCEEDED
    card = {"id": 1, "status": "in_process", "transaction_amount": 10, "currency_id": "ARS"}
    assert payment_state(card).in_progress
    assert payment_state(card | {"status": "pending"}).in_progress
    pix = card | {"status": "pending", "payment_method_id": "pix"}
    assert not payment_state(pix).in_progress  # the payer has yet to pay the code
    assert not payment_state(card | {"status": "rejected"}).in_progress


def test_a_reservation_without_an_attempt_shows_only_the_ways_to_pay(held):
    assert payment_shown(held).state == Shown.NONE
    held.status = Reservation.Status.EXPIRED
    assert payment_shown(held).state == Shown.CLOSED


def test_a_return_while_a_webhook_holds_the_attempt_still_answers(paying, row_locked_elsewhere):
    """The provider's answer cannot be applied within the lock timeout (a webhook is applying
    it): the page still answers, with what is recorded, never a 500."""
    reservation = paying.reservation()
    paying.pay(reservation, "stripe:card")
    with tenant_context(paying.committed.operator):
        intent = latest_intent(reservation)
    with row_locked_elsewhere("payments_paymentintent", intent.pk):
        response = paying.client.get(f"/reservations/{reservation.code}/return/")
    assert response.status_code == 200
    assert "spinner" not in response.content.decode()
    assert paying.fresh(intent).status == S.PENDING


def test_a_decline_told_by_the_api_and_the_webhook_is_recorded_once(paying):
    reservation = paying.reservation()
    session_id = session_of(paying.pay(reservation, "stripe:card"))
    paying.emulators.control_action("stripe", f"/_emulator/stripe/sessions/{session_id}/decline")
    paying.wait_for(lambda: latest_intent(reservation).declined_at)

    for _ in range(2):  # the traveller comes back (success link: the session stays open)
        assert "Your payment was declined" in return_page(paying, reservation)
    with tenant_context(paying.committed.operator):
        declines = ReservationEvent.objects.filter(reservation=reservation, kind="payment_declined")
        assert declines.count() == 1
        assert latest_intent(reservation).is_open  # the traveller may still pay there
