"""Reservation creation is idempotent per client: replays get the first answer."""

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from booking.models import IdempotencyKey, Reservation
from tests.factories import ALPHA_HOST, book_data


def test_a_replay_returns_the_original_response_and_books_once(alpha_client, trip):
    _, slot = trip
    url = f"/departures/{slot.pk}/book/"
    first = alpha_client.post(url, book_data(slot, key="abc"))
    replay = alpha_client.post(url, book_data(slot, key="abc"))

    assert first.status_code == replay.status_code == 303
    assert first["Location"] == replay["Location"]
    assert Reservation.objects.count() == 1
    slot.refresh_from_db()
    assert slot.taken == 3


def test_the_header_key_is_honoured(alpha_client, trip):
    _, slot = trip
    url = f"/departures/{slot.pk}/book/"
    data = book_data(slot, key="")
    first = alpha_client.post(url, data, HTTP_IDEMPOTENCY_KEY="from-header")
    replay = alpha_client.post(url, data, HTTP_IDEMPOTENCY_KEY="from-header")
    assert first["Location"] == replay["Location"]
    assert IdempotencyKey.objects.get().key == "from-header"
    assert Reservation.objects.count() == 1


def test_the_same_key_with_another_request_is_refused_with_422(alpha_client, trip):
    _, slot = trip
    url = f"/departures/{slot.pk}/book/"
    alpha_client.post(url, book_data(slot, key="abc", adults=2))
    conflict = alpha_client.post(url, book_data(slot, key="abc", adults=1))

    assert conflict.status_code == 422
    assert "already sent with different details" in conflict.content.decode()
    assert Reservation.objects.count() == 1
    slot.refresh_from_db()
    assert slot.taken == 3


def test_keys_are_scoped_to_the_client(alpha_client, trip):
    _, slot = trip
    url = f"/departures/{slot.pk}/book/"
    mine = alpha_client.post(url, book_data(slot, key="abc"))
    theirs = Client(HTTP_HOST=ALPHA_HOST).post(url, book_data(slot, key="abc"))
    assert mine.status_code == theirs.status_code == 303
    assert mine["Location"] != theirs["Location"]
    assert Reservation.objects.count() == 2


def test_a_refused_hold_stores_nothing_so_a_retry_can_succeed(alpha_client, trip):
    _, slot = trip
    url = f"/departures/{slot.pk}/book/"
    slot.is_open = False
    slot.save()
    assert alpha_client.post(url, book_data(slot, key="abc")).status_code == 409
    assert not IdempotencyKey.objects.exists()
    slot.is_open = True
    slot.save()
    assert alpha_client.post(url, book_data(slot, key="abc")).status_code == 303


def test_a_missing_key_re_renders_the_form_with_a_fresh_one(alpha_client, trip):
    _, slot = trip
    response = alpha_client.post(f"/departures/{slot.pk}/book/", book_data(slot, key=""))
    body = response.content.decode()
    assert response.status_code == 400
    assert "This form has expired" in body
    assert 'name="idempotency_key" value="' in body
    assert not Reservation.objects.exists()


@pytest.mark.xdist_group("races")
def test_concurrent_duplicate_posts_create_one_reservation(committed):
    slot = committed.slot(capacity=20)
    client = Client(HTTP_HOST=ALPHA_HOST)
    with tenant_context(committed.operator):
        client.get(f"/departures/{slot.pk}/book/")  # the session, committed
        data = book_data(slot, key="double-click")
    cookies = client.cookies

    def post(_):
        twin = Client(HTTP_HOST=ALPHA_HOST)
        twin.cookies = cookies
        response = twin.post(f"/departures/{slot.pk}/book/", data)
        return response.status_code, response.get("Location")

    outcomes = committed.run_concurrently(10, post)

    assert {status for status, _ in outcomes} == {303}
    assert len({location for _, location in outcomes}) == 1
    with tenant_context(committed.operator):
        assert Reservation.objects.filter(slot=slot).count() == 1
    assert committed.reload(slot).taken == 3
