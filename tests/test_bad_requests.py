"""Requests refused once for the whole site (issue 8): a NUL character anywhere in a request
gets the 400 page before any view runs (the webhook view judges its own requests); the 400 and
404 pages speak the visitor's language in the site's layout."""

import pytest
from django.test import Client

from booking.models import Reservation
from payments.models import WebhookRejection
from tests.factories import ALPHA_HOST, hold

PAGE_400 = {
    "en": "This request could not be understood",
    "es": "No se pudo entender esta solicitud",
    "pt-br": "Não foi possível entender esta solicitação",
}


def browser(language: str = "en", **headers) -> Client:
    return Client(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE=language, **headers)


@pytest.mark.parametrize(
    ("method", "url", "data", "headers"),
    [
        ("get", "/reservations/%00/", None, {}),
        ("get", "/reservations/%00/pay/", None, {}),
        ("get", "/?type=%00", None, {}),
        ("get", "/activities/boat/?day=%00", None, {}),
        ("get", "/?%00=1", None, {}),
        ("post", "/", {"anything": "a\x00b"}, {}),
        ("post", "/", {"a\x00b": "1"}, {}),
        ("get", "/", None, {"HTTP_IDEMPOTENCY_KEY": "a\x00b"}),
        ("get", "/", None, {"HTTP_COOKIE": "sessionid=abc\x00def"}),
    ],
)
def test_a_nul_anywhere_gets_the_400_page(alpha, method, url, data, headers):
    response = getattr(browser(), method)(url, data, **headers)
    assert response.status_code == 400
    assert PAGE_400["en"] in response.content.decode()


def test_a_nul_in_a_posted_note_changes_nothing(alpha, make_slot):
    reservation = hold(make_slot(), 1)
    response = browser().post(
        f"/reservations/{reservation.code}/", {"cancel": "1", "note": "x\x00"}
    )
    assert response.status_code == 400
    reservation.refresh_from_db()
    assert reservation.status == Reservation.Status.HELD


def test_a_webhook_is_left_to_the_webhook_view(alpha, operator_secrets):
    """A webhook is the provider's, judged by its signature: here forgeries, refused and
    logged by the webhook view itself (a NUL kept as PostgreSQL-safe text)."""
    client = browser()
    body = client.post(
        "/webhooks/stripe/", "field=a\x00b", content_type="application/x-www-form-urlencoded"
    )
    query = client.post("/webhooks/stripe/?x=%00", "{}", content_type="application/json")
    assert body.status_code == query.status_code == 400
    assert body.content == query.content == b"invalid signature"
    assert [r.body_excerpt for r in WebhookRejection.objects.order_by("id")] == [
        "field=a\ufffdb",
        "{}",
    ]


@pytest.mark.parametrize("language", ["en", "es", "pt-br"])
def test_the_400_page_speaks_the_visitors_language_in_the_sites_layout(alpha, language):
    response = browser(language).get("/?q=%00")
    body = response.content.decode()
    assert response.status_code == 400
    assert response["Content-Language"] == language
    assert f'<html lang="{language}">' in body
    assert PAGE_400[language] in body
    assert 'class="site-header"' in body and "Alpha Expeditions" in body


def test_a_bad_request_raised_by_a_view_gets_the_same_page(alpha):
    """Django's own refusals (here: a multipart body without a boundary) get our 400 page too,
    not Django's bare one."""
    response = browser("es").post("/", b"--x\r\nbroken", content_type="multipart/form-data")
    assert response.status_code == 400
    assert PAGE_400["es"] in response.content.decode()


@pytest.mark.parametrize(
    ("language", "text"),
    [("en", "Page not found"), ("es", "Página no encontrada"), ("pt-br", "Página não encontrada")],
)
def test_the_404_page_speaks_the_visitors_language_in_the_sites_layout(alpha, language, text):
    response = browser(language).get("/reservations/NO-SUCH-CODE/")
    body = response.content.decode()
    assert response.status_code == 404
    assert f'<html lang="{language}">' in body
    assert text in body
    assert 'class="site-header"' in body and "Alpha Expeditions" in body


def test_the_platforms_own_site_has_the_400_page_too(db):
    response = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="es").get("/?x=%00")
    assert response.status_code == 400
    assert PAGE_400["es"] in response.content.decode()
