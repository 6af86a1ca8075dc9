"""Payment fixtures: a held reservation, intents on it, operators' secrets, and webhooks
signed with the providers' real schemes."""

import json
import time
import uuid

import pytest

from payments.models import Method, PaymentIntent, Provider
from tests.factories import ALPHA_SECRETS, BETA_SECRETS, book_data, hold


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


@pytest.fixture(scope="session")
def operator_secrets(aws):
    """Each operator's credentials, in (moto's) Secrets Manager as in production."""
    import boto3

    from project.aws_secrets import forget_cached_secrets

    client = boto3.client("secretsmanager")
    for schema, secret in (("alpha", ALPHA_SECRETS), ("beta", BETA_SECRETS)):
        client.create_secret(
            Name=f"andes-booking/operators/{schema}", SecretString=json.dumps(secret)
        )
    forget_cached_secrets()
    return {"alpha": ALPHA_SECRETS, "beta": BETA_SECRETS}


@pytest.fixture(scope="session")
def app_server():
    """The app served over HTTP in a thread of this process (for the emulators' webhooks),
    on the test database. Unlike pytest-django's live_server it flushes nothing: payment
    flow tests use `committed` rows."""
    from django.test.testcases import LiveServerThread, _StaticFilesHandler

    server = LiveServerThread("127.0.0.1", _StaticFilesHandler)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    yield server.port
    server.terminate()


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
