"""Payment fixtures: a held reservation, and intents on it."""

import pytest

from payments.models import Method, PaymentIntent, Provider
from tests.conftest import hold


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
