"""The operator's own content (activity and rate texts) in the traveller's language: each
text falls back to the operator's language when the traveller's is missing, in the pages,
the confirmation e-mail and the provider's checkout."""

import pytest
from django.core import mail
from django.test import Client
from django.utils import translation
from django_tenants.utils import tenant_context

from booking.catalogue import RateSpec
from booking.services import Contact, PricedLine, reservation_hold
from outbox.delivery import outbox_deliver
from outbox.models import OutboxMessage
from payments.credentials import MercadoPagoCredentials, StripeCredentials
from payments.providers.base import CheckoutUrls
from payments.providers.mercadopago import MercadoPagoProvider
from payments.providers.stripe import StripeProvider
from tenants.actors import Actor
from tests import factories
from tests.factories import ALPHA_HOST, BETA_HOST, hold, local, stripe_intent

NAMES = {"es": "Navegación", "pt-br": "Navegação", "en": "Boat trip"}


@pytest.fixture
def trilingual(make_activity, make_slot):
    activity = make_activity(
        name=NAMES,
        summary={"es": "Por el canal", "en": "Along the channel"},
        meeting_point={"es": "Muelle", "pt-br": "Píer", "en": "Pier"},
        rates=[
            RateSpec("adult", {"es": "Adulto", "en": "Adult"}, 10_000_00),
            RateSpec("child", {"es": "Menor", "pt-br": "Criança"}, 5_000_00),
        ],
    )
    return activity, make_slot(activity, starts_at=local(3, 10))


@pytest.mark.parametrize("language", ["es", "pt-br", "en"])
def test_the_catalogue_and_activity_page_read_in_the_travellers_language(trilingual, language):
    activity, _ = trilingual
    client = Client(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE=language)
    assert NAMES[language] in client.get("/").content.decode()
    page = client.get(f"/activities/{activity.slug}/").content.decode()
    assert f"<h1>{NAMES[language]}</h1>" in page
    others = set(NAMES.values()) - {NAMES[language]}
    assert not any(name in page for name in others)


def test_a_missing_translation_falls_back_to_the_operators_language(trilingual):
    activity, slot = trilingual
    portuguese = Client(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE="pt-br")
    page = portuguese.get(f"/activities/{activity.slug}/").content.decode()
    assert "Por el canal" in page  # no Portuguese summary: Alpha writes in Spanish
    assert "Píer" in page
    booking = portuguese.get(f"/departures/{slot.pk}/book/").content.decode()
    assert "Adulto" in booking and "Criança" in booking
    english = Client(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE="en")
    booking = english.get(f"/departures/{slot.pk}/book/").content.decode()
    assert "Adult " in booking and "Menor" in booking  # not the Portuguese Criança


def test_a_brazilian_operators_content_falls_back_to_portuguese(beta_operator):
    with tenant_context(beta_operator):
        activity = factories.activity(
            slug="trilha", name={"pt-br": "Trilha da geleira", "en": "Glacier trek"}
        )
        assert activity.language == "pt-br"
    spanish = Client(HTTP_HOST=BETA_HOST, HTTP_ACCEPT_LANGUAGE="es")
    assert "Trilha da geleira" in spanish.get("/").content.decode()
    english = Client(HTTP_HOST=BETA_HOST, HTTP_ACCEPT_LANGUAGE="en")
    assert "Glacier trek" in english.get("/").content.decode()


def test_one_text_written_by_the_system_is_in_the_operators_language(beta_operator):
    with tenant_context(beta_operator):
        activity = factories.activity(slug="importada", name="Passeio de barco")
        assert activity.texts("name") == {"es": "", "pt-br": "Passeio de barco", "en": ""}
        with translation.override("en"):
            assert activity.name_i18n == "Passeio de barco"


def english_hold(slot):
    """A traveller reading in English holds two adults, whatever language is active here."""
    adult = slot.activity.rates.get(code="adult")
    with translation.override("es"):
        return reservation_hold(
            slot_id=slot.pk,
            lines=[PricedLine(rate=adult, quantity=2)],
            contact=Contact(name="Ann", email="ann@example.com"),
            actor=Actor.traveller("client-1"),
            language="en",
        )


def test_the_confirmation_email_and_the_lines_read_in_the_travellers_language(trilingual):
    _, slot = trilingual
    reservation = english_hold(slot)
    assert [line.label for line in reservation.lines.all()] == ["Adult"]
    message = OutboxMessage.objects.create(
        topic="email.reservation_confirmed", payload={"reservation_id": reservation.pk}
    )
    mail.outbox.clear()
    assert outbox_deliver(message_id=message.pk) is True
    email = mail.outbox[0]
    assert "Boat trip" in email.subject
    assert "Meeting point: Pier" in email.body
    assert "2 × Adult" in email.body


@pytest.mark.parametrize(("language", "name"), [("en", "Boat trip"), ("es", "Navegación")])
def test_the_providers_checkout_names_the_activity_in_the_travellers_language(
    trilingual, language, name
):
    _, slot = trilingual
    reservation = english_hold(slot) if language == "en" else hold(slot, 1)
    intent = stripe_intent(reservation, "cs_test_language")
    urls = CheckoutUrls(success="https://x/s", cancel="https://x/c", notification="https://x/n")
    stripe = StripeProvider(StripeCredentials("sk_test", ("whsec",)))
    with translation.override("pt-br"):
        request = stripe.checkout_request(intent, urls)
        preference = MercadoPagoProvider(MercadoPagoCredentials("TEST", "s")).checkout_request(
            intent, urls
        )
    assert request["line_items"][0]["price_data"]["product_data"]["name"] == name
    assert preference["items"][0]["title"] == name
