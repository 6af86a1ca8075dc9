"""A provider that hangs (issue 8): the emulators accept the connection and never answer.
The traveller gets the "not answering" page within seconds, with the seats still held; the
attempt whose opening went unanswered stays open, and the reconciler (the periodic task)
later learns what the provider made for it and ends it. A refund the provider did not
answer stays requested and is sent again with the same idempotency key: never twice."""

import time
from datetime import datetime, timedelta

import pytest
import stripe
from django.utils import timezone
from django_tenants.utils import tenant_context

from booking.errors import IllegalTransition
from booking.models import Reservation
from emulators.testing import control
from payments.models import PaymentIntent, Refund, WebhookEvent
from payments.providers import provider_for
from payments.services.refunds import refund_request
from payments.tasks import reconcile_operator
from tenants.models import Role
from tests.factories import staff

pytestmark = pytest.mark.xdist_group("races")
S = PaymentIntent.Status
NOT_ANSWERING = "The payment provider is not answering. Please try again in a minute"


@pytest.fixture(autouse=True)
def deliveries_drained(paying):
    """Each test ends once the emulators have delivered everything (a notification still
    being applied would race the truncation that ends `committed`), the hang lifted."""
    yield
    deadline = time.monotonic() + 20
    for provider in ("stripe", "mercadopago"):
        paying.emulators.behaviour(provider, hang="none")
        while control(paying.emulators.url(provider), "/_emulator/deliveries")["in_flight"]:
            assert time.monotonic() < deadline, f"{provider} kept delivering"
            time.sleep(0.05)


def latest_intent(reservation) -> PaymentIntent:
    return PaymentIntent.objects.filter(reservation_id=reservation.pk).first()


def pay_timed(paying, reservation, choice: str):
    started = time.monotonic()
    response = paying.client.post(f"/reservations/{reservation.code}/pay/", {"pay": choice})
    return response, time.monotonic() - started


def as_if_minutes_ago(paying, intent: PaymentIntent, minutes: int, unsent=False) -> None:
    """Move the attempt back in time, as the reconciler finds it `minutes` later: its rows'
    times, and, for a call the provider never received (`unsent`), the session expiry it
    asked Stripe for (a call it received stays as it received it)."""
    with tenant_context(paying.committed.operator):
        intent = PaymentIntent.objects.get(pk=intent.pk)
        earlier = timedelta(minutes=minutes)
        request = dict(intent.provider_request)
        if unsent and "expires_at" in request:
            request["expires_at"] -= int(earlier.total_seconds())
        PaymentIntent.objects.filter(pk=intent.pk).update(
            created_at=intent.created_at - earlier,
            updated_at=intent.updated_at - earlier,
            provider_request=request,
        )


def reconcile(paying) -> int:
    """The periodic task, for Alpha."""
    return reconcile_operator.call_local(paying.committed.operator.schema_name)


def stripe_sessions_of(paying, intent: PaymentIntent) -> list[dict]:
    client = stripe.StripeClient(
        "sk_test_alpha", base_addresses={"api": paying.emulators.url("stripe")}
    )
    sessions = [s.to_dict() for s in client.v1.checkout.sessions.list(params={"limit": 100}).data]
    return [s for s in sessions if s["metadata"].get("intent_id") == str(intent.pk)]


def test_a_hanging_card_provider_answers_the_traveller_within_seconds_and_is_reconciled_later(
    paying, settings
):
    settings.PAYMENT_RECONCILE_AFTER_MINUTES = 20
    reservation = paying.reservation()
    # Stripe makes the session, and its answer never comes.
    paying.emulators.behaviour("stripe", hang="after")

    response, elapsed = pay_timed(paying, reservation, "stripe:card")

    assert elapsed < 10, f"the traveller waited {elapsed:.1f} s"
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    page = response.content.decode()
    assert NOT_ANSWERING in page and "Your seats stay held meanwhile." in page
    assert 'name="pay" value="stripe:card"' in page  # they can try again from here
    assert paying.fresh(reservation).status == Reservation.Status.HELD
    with tenant_context(paying.committed.operator):
        intent = latest_intent(reservation)
        assert intent.status == S.CREATED  # not failed: Stripe may have made the session
        assert intent.provider_reference == ""
        assert reservation.events.filter(kind="payment_start_unanswered").exists()

    paying.emulators.behaviour("stripe", hang="none")
    (made,) = stripe_sessions_of(paying, intent)
    assert made["status"] == "open"  # a session nobody was sent to
    assert reconcile(paying) == 0  # not stale yet: left alone
    as_if_minutes_ago(paying, intent, 21)
    assert reconcile(paying) == 1

    with tenant_context(paying.committed.operator):
        intent.refresh_from_db()
        assert intent.status == S.EXPIRED
        assert intent.provider_reference == made["id"]
        # Its expiry webhook may have told it first: either way the intent is expired.
        assert reservation.events.get(kind="reconciled").data["after"] == "expired"
    (ended,) = stripe_sessions_of(paying, intent)  # the same call again made no other
    assert ended["id"] == made["id"] and ended["status"] == "expired"
    # Its expiry webhook finds the intent by the session it now stored.
    expired = paying.wait_for(
        lambda: WebhookEvent.objects.filter(event_type="checkout.session.expired").first()
    )
    assert expired.intent_id == intent.pk and expired.outcome != "unmatched"

    # The traveller tries again, and pays.
    assert paying.fresh(reservation).status == Reservation.Status.HELD
    checkout = paying.client.post(f"/reservations/{reservation.code}/pay/", {"pay": "stripe:card"})
    assert checkout.status_code == 302
    with tenant_context(paying.committed.operator):
        assert latest_intent(reservation).status == S.PENDING


def test_a_create_call_stripe_never_carried_out_fails_the_attempt_when_reconciled(paying, settings):
    settings.PROVIDER_READ_TIMEOUT = 1.0
    reservation = paying.reservation()
    paying.emulators.behaviour("stripe", hang="before")
    response, elapsed = pay_timed(paying, reservation, "stripe:card")
    assert response.status_code == 503 and elapsed < 3
    with tenant_context(paying.committed.operator):
        intent = latest_intent(reservation)
    paying.emulators.behaviour("stripe", hang="none")

    # Twenty minutes on, the session it asked for would expire in eleven: Stripe refuses to
    # make it now, which it would not do had it made it then (it would replay that answer).
    as_if_minutes_ago(paying, intent, 20, unsent=True)
    assert reconcile(paying) == 1

    assert paying.fresh(intent).status == S.FAILED
    assert stripe_sessions_of(paying, intent) == []
    assert paying.fresh(reservation).status == Reservation.Status.HELD


def test_a_hanging_mercadopago_checkout_is_found_by_its_reference_and_expired(paying, settings):
    settings.PROVIDER_READ_TIMEOUT = 1.0
    reservation = paying.reservation()
    paying.emulators.behaviour("mercadopago", hang="after")
    response, elapsed = pay_timed(paying, reservation, "mercadopago:checkout")
    assert response.status_code == 503 and elapsed < 3
    assert NOT_ANSWERING in response.content.decode()
    with tenant_context(paying.committed.operator):
        intent = latest_intent(reservation)
        assert intent.status == S.CREATED and intent.provider_reference == ""
    paying.emulators.behaviour("mercadopago", hang="none")

    as_if_minutes_ago(paying, intent, 21)
    assert reconcile(paying) == 1

    with tenant_context(paying.committed.operator):
        intent.refresh_from_db()
        assert intent.status == S.EXPIRED
        gateway = provider_for("mercadopago")
        preference = gateway.sdk.preference().get(intent.provider_reference)["response"]
    assert preference["external_reference"] == f"alpha:{intent.pk}"
    assert preference["expires"] is True
    assert datetime.fromisoformat(preference["expiration_date_to"]) <= timezone.now()


def test_a_pix_payment_mercadopago_never_made_fails_the_attempt(paying, settings):
    settings.PROVIDER_READ_TIMEOUT = 1.0
    reservation = paying.reservation(currency="BRL")
    paying.emulators.behaviour("mercadopago", hang="before")
    response, _ = pay_timed(paying, reservation, "mercadopago:pix")
    assert response.status_code == 503
    paying.emulators.behaviour("mercadopago", hang="none")
    with tenant_context(paying.committed.operator):
        intent = latest_intent(reservation)
    as_if_minutes_ago(paying, intent, 21)

    assert reconcile(paying) == 1
    assert paying.fresh(intent).status == S.FAILED


def test_a_pix_payment_made_unanswered_is_cancelled(paying, settings):
    settings.PROVIDER_READ_TIMEOUT = 1.0
    reservation = paying.reservation(currency="BRL")
    paying.emulators.behaviour("mercadopago", hang="after")
    response, _ = pay_timed(paying, reservation, "mercadopago:pix")
    assert response.status_code == 503
    paying.emulators.behaviour("mercadopago", hang="none")
    with tenant_context(paying.committed.operator):
        intent = latest_intent(reservation)
    as_if_minutes_ago(paying, intent, 21)

    assert reconcile(paying) == 1
    intent = paying.fresh(intent)
    assert intent.status == S.CANCELLED and intent.provider_payment_id
    with tenant_context(paying.committed.operator):
        payment = provider_for("mercadopago").sdk.payment().get(intent.provider_payment_id)
    assert payment["response"]["status"] == "cancelled"


def test_a_provider_that_refuses_fails_the_attempt_at_once(paying):
    reservation = paying.reservation()
    paying.emulators.reset("stripe")  # the operator's key is unknown there: 401
    response = paying.client.post(
        f"/reservations/{reservation.code}/pay/", {"pay": "stripe:card"}, follow=True
    )
    assert response.status_code == 200
    assert "The payment provider is not answering" in response.content.decode()
    assert paying.fresh(reservation).status == Reservation.Status.HELD
    with tenant_context(paying.committed.operator):
        assert latest_intent(reservation).status == S.FAILED


def test_an_unreachable_provider_leaves_the_attempt_to_the_reconciler(paying, settings):
    reservation = paying.reservation()
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens: refused at once
    response, elapsed = pay_timed(paying, reservation, "stripe:card")
    assert response.status_code == 503 and elapsed < 3
    with tenant_context(paying.committed.operator):
        assert latest_intent(reservation).status == S.CREATED

    for language, said in [
        ("es", "El proveedor de pagos no responde"),
        ("pt-BR", "O provedor de pagamento não está respondendo"),
    ]:
        response = paying.client.post(
            f"/reservations/{reservation.code}/pay/",
            {"pay": "stripe:card"},
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert response.status_code == 503 and said in response.content.decode()


def test_a_refund_the_provider_did_not_answer_is_sent_again_and_made_once(paying, settings):
    reservation = paying.reservation()
    checkout = paying.client.post(f"/reservations/{reservation.code}/pay/", {"pay": "stripe:card"})
    session_id = checkout["Location"].rsplit("/", 1)[1]
    paying.emulators.control_action("stripe", f"/_emulator/stripe/sessions/{session_id}/pay")
    paying.wait_for(lambda: Reservation.objects.get(pk=reservation.pk).status == "paid")
    settings.PROVIDER_READ_TIMEOUT = 1.0
    owner = staff(Role.OWNER, "owner@alpha", operator=paying.committed.operator)
    # From here no webhook arrives: only the reconciler can learn what became of the refund.
    paying.emulators.stripe_account(
        "sk_test_alpha", webhook_url="http://127.0.0.1:9/unreachable/", webhook_secrets=["x"]
    )
    paying.emulators.behaviour("stripe", retries=0)

    paying.emulators.behaviour("stripe", hang="after")
    with tenant_context(paying.committed.operator):
        intent = latest_intent(reservation)
        started = time.monotonic()
        refund = refund_request(intent_id=intent.pk, amount=intent.amount, actor=owner)
        assert time.monotonic() - started < 3
        assert refund.status == Refund.Status.REQUESTED and refund.provider_refund_id == ""
        assert reservation.events.filter(kind="refund_unanswered").exists()
        with pytest.raises(IllegalTransition):  # it still counts: it cannot be asked twice
            refund_request(intent_id=intent.pk, amount=intent.amount, actor=owner)
    paying.emulators.behaviour("stripe", hang="none")

    settings.PAYMENT_RECONCILE_AFTER_MINUTES = 0
    assert reconcile(paying) == 1

    with tenant_context(paying.committed.operator):
        refunds = provider_for("stripe").client.v1.refunds.list(
            params={"payment_intent": intent.provider_payment_id}
        )
    (made,) = refunds.data  # asked twice, made once
    assert paying.fresh(refund).provider_refund_id == made.id
