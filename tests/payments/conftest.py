"""Payment fixtures: a held reservation, intents on it, the providers' accounts, and webhooks
signed with the providers' real schemes."""

import json
import time
import uuid

import pytest

from payments.models import Method, PaymentIntent, Provider
from tests.factories import book_data, hold


@pytest.fixture
def held(make_slot):
    """A held reservation of 2 seats on a departure with 4."""
    return hold(make_slot(capacity=4), 2)


@pytest.fixture
def make_intent(held):
    def make(reservation=None, **fields) -> PaymentIntent:
        reservation = reservation or held
        defaults = {
            "provider": Provider.STRIPE,
            "method": Method.CARD,
            "status": PaymentIntent.Status.PENDING,
            "amount": reservation.total_amount,
            "currency": reservation.currency,
            "provider_reference": f"cs_test_{reservation.code}_{PaymentIntent.objects.count()}",
        }
        return PaymentIntent.objects.create(reservation=reservation, **(defaults | fields))

    return make


@pytest.fixture
def paying(committed, app_server, emulators, operator_secrets, settings):
    """Alpha's accounts at the emulators, webhooks pointed at the served app, and a traveller's
    browser (a test client on alpha's domain with the server's port)."""
    from django.test import Client

    emulators.reset()
    alpha = operator_secrets["alpha"]
    host = f"alpha.localhost:{app_server}"
    emulators.stripe_account(
        alpha["stripe"]["secret_key"],
        webhook_url=f"http://{host}/webhooks/stripe/",
        webhook_secrets=alpha["stripe"]["webhook_secrets"],
    )
    emulators.mercadopago_account(
        alpha["mercadopago"]["access_token"], webhook_secret=alpha["mercadopago"]["webhook_secret"]
    )
    settings.STRIPE_API_BASE = emulators.stripe_url
    settings.MERCADOPAGO_API_BASE = emulators.mercadopago_url
    return PayingContext(committed, emulators, Client(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE="en"))


class PayingContext:
    def __init__(self, committed, emulators, client):
        self.committed = committed
        self.emulators = emulators
        self.client = client

    def reservation(self, seats: int = 2, currency: str = "ARS"):
        """A held reservation made through the booking page by this traveller."""
        from django_tenants.utils import tenant_context

        from booking.models import Reservation

        slot = self.committed.slot(capacity=6)
        with tenant_context(self.committed.operator):
            if currency != "ARS":
                slot.activity.rates.update(currency=currency)
            data = book_data(slot, adults=seats, children=0, key=uuid.uuid4().hex)
        response = self.client.post(f"/departures/{slot.pk}/book/", data)
        assert response.status_code == 303, response.content.decode()[:2000]
        with tenant_context(self.committed.operator):
            return Reservation.objects.get(code=response["Location"].split("/")[-2])

    def pay(self, reservation, choice: str):
        response = self.client.post(f"/reservations/{reservation.code}/pay/", {"pay": choice})
        assert response.status_code == 302, response.content.decode()[:2000]
        return response["Location"]

    def fresh(self, instance):
        from django_tenants.utils import tenant_context

        with tenant_context(self.committed.operator):
            return type(instance).objects.get(pk=instance.pk)

    def wait_for(self, condition, timeout: float = 10.0):
        """Poll the database (in Alpha's schema) until `condition()` is true."""
        from django_tenants.utils import tenant_context

        deadline = time.monotonic() + timeout
        while True:
            with tenant_context(self.committed.operator):
                result = condition()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            time.sleep(0.05)


@pytest.fixture
def mercadopago_api(emulators, operator_secrets, settings):
    """Alpha's Mercado Pago account at the emulator, which our re-fetches ask; payments made
    there notify no one (the test delivers its own notifications)."""
    account = operator_secrets["alpha"]["mercadopago"]
    emulators.reset("mercadopago")
    emulators.mercadopago_account(account["access_token"], webhook_secret=account["webhook_secret"])
    settings.MERCADOPAGO_API_BASE = emulators.mercadopago_url
    return MercadoPagoAccount(emulators, account["access_token"])


class MercadoPagoAccount:
    def __init__(self, emulators, access_token: str):
        self.emulators = emulators
        self.access_token = access_token

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        import urllib.request

        request = urllib.request.Request(
            self.emulators.mercadopago_url + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={
                "Authorization": f"Bearer {self.access_token}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def pix_payment(self, intent: PaymentIntent, *, amount: int | None = None) -> str:
        """A pending Pix payment for `intent` (external_reference names it), stored on the
        intent as its checkout did; returns the payment id."""
        from booking.money import to_major

        payment = self.call(
            "POST",
            "/v1/payments",
            {
                "transaction_amount": float(
                    to_major(intent.amount if amount is None else amount, intent.currency)
                ),
                "payment_method_id": "pix",
                "payer": {"email": "ana@example.com"},
                "external_reference": f"alpha:{intent.pk}",
            },
        )
        payment_id = str(payment["id"])
        intent.provider_reference = intent.provider_payment_id = payment_id
        intent.save(update_fields=["provider_reference", "provider_payment_id"])
        return payment_id

    def checkout_payment(self, intent: PaymentIntent, *, approve: bool) -> str:
        """A Checkout Pro preference for `intent`, paid (or declined) on the hosted page;
        returns the payment's id."""
        from booking.money import to_major

        preference = self.call(
            "POST",
            "/checkout/preferences",
            {
                "items": [
                    {
                        "title": "Trip",
                        "quantity": 1,
                        "unit_price": float(to_major(intent.amount, intent.currency)),
                        "currency_id": intent.currency,
                    }
                ],
                "payer": {"email": "ana@example.com"},
                "external_reference": f"alpha:{intent.pk}",
            },
        )
        intent.provider_reference = preference["id"]
        intent.save(update_fields=["provider_reference"])
        action = "pay" if approve else "decline"
        done = self.emulators.control_action(
            "mercadopago", f"/_emulator/mercadopago/preferences/{preference['id']}/{action}"
        )
        return str(done["payment"]["id"])

    def settle(self, payment_id: str, action: str) -> dict:
        """approve, reject or expire a pending payment, as the payer or the bank would."""
        return self.emulators.control_action(
            "mercadopago", f"/_emulator/mercadopago/payments/{payment_id}/{action}"
        )["payment"]

    def refund(self, payment_id: str, amount: float) -> dict:
        return self.call("POST", f"/v1/payments/{payment_id}/refunds", {"amount": amount})


@pytest.fixture
def stripe_api(emulators, operator_secrets, settings):
    """Alpha's Stripe account at the emulator, delivering no webhooks (the test signs and
    delivers its own events)."""
    import stripe

    account = operator_secrets["alpha"]["stripe"]
    emulators.reset("stripe")
    emulators.stripe_account(
        account["secret_key"],
        webhook_secrets=account["webhook_secrets"],
        enabled_events=["account.updated"],
    )
    settings.STRIPE_API_BASE = emulators.stripe_url
    return StripeAccount(
        emulators,
        stripe.StripeClient(account["secret_key"], base_addresses={"api": emulators.stripe_url}),
    )


class StripeAccount:
    def __init__(self, emulators, client):
        self.emulators = emulators
        self.client = client

    def session_for(self, intent: PaymentIntent) -> str:
        """An open Checkout Session for `intent`, stored on it as its checkout did."""
        session = self.client.v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "payment_method_types": ["card"],
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": intent.currency.lower(),
                            "unit_amount": intent.amount,
                            "product_data": {"name": "Trip"},
                        },
                    }
                ],
                "metadata": {"intent_id": str(intent.pk)},
                "payment_intent_data": {"metadata": {"intent_id": str(intent.pk)}},
                "success_url": "http://alpha.localhost/done",
            }
        )
        intent.provider_reference = session.id
        intent.save(update_fields=["provider_reference"])
        return session.id

    def decline(self, session_id: str) -> dict:
        """A declined card on the hosted page: the PaymentIntent as its event carries it."""
        return self.emulators.control_action(
            "stripe", f"/_emulator/stripe/sessions/{session_id}/decline"
        )["payment_intent"]
