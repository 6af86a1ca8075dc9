"""The operator's payment providers, built from its credentials."""

from django.db import connection

from payments.credentials import operator_credentials
from payments.models import Method, Provider
from payments.providers.base import PaymentProvider, ProviderError
from payments.providers.mercadopago import MercadoPagoProvider
from payments.providers.stripe import StripeProvider

# Mercado Pago Checkout Pro sells in these; Pix is Brazilian reais only.
MERCADOPAGO_CURRENCIES = {"ARS", "BRL", "CLP", "USD"}


class ProviderNotConfigured(ProviderError):
    pass


def provider_for(name: str, schema_name: str | None = None) -> PaymentProvider:
    credentials = operator_credentials(schema_name or connection.schema_name)
    if name == Provider.STRIPE and credentials.stripe:
        return StripeProvider(credentials.stripe)
    if name == Provider.MERCADOPAGO and credentials.mercadopago:
        return MercadoPagoProvider(credentials.mercadopago)
    raise ProviderNotConfigured(f"{name} is not configured for this operator")


def payment_options(currency: str, schema_name: str | None = None) -> list[tuple[str, str]]:
    """(provider, method) pairs a traveller can choose, in the order they are offered."""
    credentials = operator_credentials(schema_name or connection.schema_name)
    options = []
    if credentials.stripe:
        options.append((Provider.STRIPE, Method.CARD))
    if credentials.mercadopago and currency in MERCADOPAGO_CURRENCIES:
        options.append((Provider.MERCADOPAGO, Method.CHECKOUT))
    if currency == "BRL":
        if credentials.mercadopago:
            options.append((Provider.MERCADOPAGO, Method.PIX))
        elif credentials.stripe:
            options.append((Provider.STRIPE, Method.PIX))
    return options


def change_options(currency: str, schema_name: str | None = None) -> list[tuple[str, str]]:
    """The ways to pay a booking change's difference: those of a booking, but for Mercado
    Pago's Pix, whose page follows a held booking to its confirmation (a hosted checkout
    returns to the booking's own page, which follows the change)."""
    return [
        option
        for option in payment_options(currency, schema_name)
        if option != (Provider.MERCADOPAGO, Method.PIX)
    ]
