"""When PostgreSQL cannot answer (a row lock not granted within the lock timeout, a
connection the server dropped while restarting, a server that refuses connections), the
request answers 503 with Retry-After, in the traveller's language, logs one line and
changes nothing; a retry once the database answers again goes through."""

import logging
import socket
import time

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from booking.models import IdempotencyKey, Reservation
from tests.factories import ALPHA_HOST, book_data


@pytest.fixture
def client_en() -> Client:
    """A client that gets the response Django sends, as a browser does, instead of the test
    client's re-raising of the exception behind it."""
    return Client(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)


def _form(committed, slot, key: str) -> dict:
    with tenant_context(committed.operator):
        return book_data(slot, key=key)


def _booked(committed) -> tuple[int, int]:
    with tenant_context(committed.operator):
        return Reservation.objects.count(), IdempotencyKey.objects.count()


def test_every_connection_has_the_lock_timeout(committed):
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == "3s"


def test_a_departure_locked_elsewhere_answers_503_within_the_lock_timeout(
    committed, client_en, caplog, row_locked_elsewhere
):
    slot = committed.slot(capacity=6)
    url = f"/departures/{slot.pk}/book/"
    with row_locked_elsewhere("booking_slot", slot.pk):
        started = time.monotonic()
        with caplog.at_level(logging.ERROR, logger="django.request"):
            busy = client_en.post(url, _form(committed, slot, "k-busy"))
        waited = time.monotonic() - started

    assert busy.status_code == 503
    assert busy["Retry-After"] == "2"
    assert 2.5 < waited < 8, waited
    assert "We are busy for a moment" in busy.content.decode()
    assert _booked(committed) == (0, 0)
    [line] = [r for r in caplog.records if r.name == "django.request"]
    assert line.exc_info is None
    assert "database did not answer: LockNotAvailable" in line.getMessage()
    assert committed.reload(slot).taken == 0

    again = client_en.post(url, _form(committed, slot, "k-busy"))
    assert again.status_code == 303
    assert _booked(committed) == (1, 1)


def test_a_connection_dropped_by_a_restarting_server_answers_503(
    committed, client_en, caplog, other_connection
):
    slot = committed.slot(capacity=6)
    form = _form(committed, slot, "k-1")
    client_en.get("/")  # the connection is open, as a worker's is between requests
    with psycopg.connect(**other_connection) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])

    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client_en.post(f"/departures/{slot.pk}/book/", form)

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response["Cache-Control"] == "no-store"
    [line] = [r for r in caplog.records if r.name == "django.request"]
    assert line.exc_info is None
    assert "database did not answer" in line.getMessage()
    connection.close()  # what Django does at the end of a request with a broken connection
    assert _booked(committed) == (0, 0)
    retry = client_en.post(f"/departures/{slot.pk}/book/", form)
    assert retry.status_code == 303


def test_a_server_that_refuses_connections_answers_503_in_the_travellers_language(committed):
    browser = Client(
        HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE="pt-BR", raise_request_exception=False
    )
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "9"  # nothing listens there
    try:
        response = browser.get("/")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert 'lang="pt-br"' in response.content.decode()
    assert "Tente novamente" in response.content.decode()


def test_any_other_error_is_still_a_500(committed, client_en, monkeypatch):
    from booking import views

    def broken(*args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(views, "render", broken)
    response = client_en.get("/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "Something went wrong on our side" in response.content.decode()


def test_a_server_that_accepts_and_never_answers_is_a_503_within_the_connect_timeout(
    committed, client_en
):
    """A PostgreSQL that hangs (the connection is accepted by the kernel, nothing answers):
    the worker gives up after DATABASE_CONNECT_TIMEOUT instead of waiting forever."""
    silent = socket.create_server(("127.0.0.1", 0))  # listens, never accepts nor answers
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(silent.getsockname()[1])
    try:
        started = time.monotonic()
        response = client_en.get("/")
        waited = time.monotonic() - started
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
        silent.close()
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert 4 < waited < 9, waited
