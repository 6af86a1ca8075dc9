"""Find my booking: code + e-mail lead to the booking's page; a miss reads and costs the same
whichever half was wrong; misses are limited per client address and per code, with counters
in the database that every web worker shares."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from booking.manage import (
    MISSES_PER_CLIENT,
    MISSES_PER_CODE,
    WINDOW,
    lookup_claim,
    lookups_forget,
    normalise_code,
)
from booking.models import LookupAttempts
from tests.factories import ALPHA_HOST, BETA_HOST, hold

pytestmark = pytest.mark.xdist_group("races")  # one test races on committed rows
HTMX = {"HTTP_HX_REQUEST": "true"}
MISS = "There is no booking with that code and e-mail."


@pytest.fixture
def browser() -> Client:
    return Client(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def booking(make_slot):
    return hold(make_slot(capacity=6), 2)  # booked with ana@example.com


def find(client, code, email, address="203.0.113.7", **headers):
    return client.post(
        "/my-booking/", {"code": code, "email": email}, REMOTE_ADDR=address, **headers
    )


def spaced(code: str) -> str:
    """The code as a traveller might type it from a ticket."""
    return f" {code[:4].lower()}-{code[4:8]} {code[8:].lower()} "


def test_the_page_is_linked_from_every_shop_page_and_asks_for_code_and_email(browser, alpha):
    page = browser.get("/").content.decode()
    assert 'href="/my-booking/"' in page
    form = browser.get("/my-booking/?code=abcd-efgh").content.decode()
    assert 'name="code"' in form and 'value="ABCDEFGH"' in form and 'type="email"' in form


def test_code_and_email_in_any_case_lead_to_the_booking(browser, booking):
    response = find(browser, spaced(booking.code), "  ANA@Example.COM ")

    assert response.status_code == 302
    assert response["Location"] == f"/reservations/{booking.code}/"
    assert browser.session["bookings_found"] == {booking.code: "ana@example.com"}


def test_htmx_is_sent_to_the_booking_by_the_client(browser, booking):
    response = find(browser, booking.code, "ana@example.com", **HTMX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/reservations/{booking.code}/"


def test_a_wrong_code_and_a_wrong_email_read_and_cost_the_same(browser, booking):
    other = "ABCDEFGHJKMN" if booking.code != "ABCDEFGHJKMN" else "NMKJHGFEDCBA"
    answers = []
    for code, email in ((other, "ana@example.com"), (booking.code, "eve@example.com")):
        with CaptureQueriesContext(connection) as queries:
            response = find(browser, code, email)
        page = response.content.decode()
        answers.append((response.status_code, MISS in page, len(queries)))
        assert booking.code not in page.replace(f'value="{booking.code}"', "")
    assert answers[0] == answers[1]
    assert answers[0][:2] == (200, True)
    assert "bookings_found" not in browser.session


def test_a_miss_over_htmx_is_the_form_again_with_the_message(browser, booking):
    response = find(browser, booking.code, "eve@example.com", **HTMX)

    page = response.content.decode()
    assert response.status_code == 200 and MISS in page
    assert page.lstrip().startswith('<form id="find"')


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"code": "", "email": ""},
        {"code": "ABC", "email": "not an e-mail"},
        {"code": "A" * 5000, "email": "ana@example.com"},
        {"code": "ÅßÇ∂", "email": "ana@example.com"},
        {"code": "ABC", "email": "a@" + "b" * 300 + ".com"},
    ],
)
def test_bad_input_gets_a_clear_answer(browser, booking, data):
    response = browser.post("/my-booking/", data)
    assert response.status_code in (200, 400)
    assert b'id="find"' in response.content


def test_the_page_speaks_the_travellers_language(booking):
    spanish = Client(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE="es")
    page = find(spanish, booking.code, "eve@example.com").content.decode()
    assert "No hay ninguna reserva con ese código y ese correo." in page


def test_misses_from_one_client_are_limited_with_retry_after(browser, booking):
    for attempt in range(MISSES_PER_CLIENT):
        assert MISS in find(browser, f"WRONGCODE{attempt:03d}", "ana@example.com").content.decode()

    counts = sorted(LookupAttempts.objects.values_list("count", flat=True))
    refused = find(browser, booking.code, "ana@example.com")

    assert refused.status_code == 429
    assert sorted(LookupAttempts.objects.values_list("count", flat=True)) == counts
    assert 0 < int(refused["Retry-After"]) <= WINDOW.total_seconds() + 1
    assert "Too many attempts" in refused.content.decode()
    # Another client still finds it.
    assert find(browser, booking.code, "ana@example.com", address="198.51.100.9").status_code == 302


def test_misses_on_one_code_are_limited_from_any_address(browser, booking):
    for attempt in range(MISSES_PER_CODE):
        address = f"198.51.100.{attempt + 1}"
        assert (
            MISS
            in find(browser, booking.code, f"guess{attempt}@example.com", address).content.decode()
        )

    assert find(browser, booking.code, "ana@example.com", "192.0.2.99").status_code == 429


def test_finding_the_booking_does_not_count_as_a_miss(browser, booking):
    for _ in range(MISSES_PER_CLIENT + MISSES_PER_CODE):
        assert find(browser, booking.code, "ana@example.com").status_code == 302
    assert not LookupAttempts.objects.exists()


def test_an_htmx_client_over_the_limit_is_not_looked_up_either(browser, booking):
    for attempt in range(MISSES_PER_CLIENT):
        find(browser, f"WRONGCODE{attempt:03d}", "ana@example.com", **HTMX)

    refused = find(browser, booking.code, "ana@example.com", **HTMX)

    assert refused.status_code == 200 and "HX-Redirect" not in refused
    assert "Too many attempts" in refused.content.decode()


def test_another_operators_booking_is_not_found(booking):
    beta = Client(HTTP_HOST=BETA_HOST, HTTP_ACCEPT_LANGUAGE="en")
    assert MISS in find(beta, booking.code, "ana@example.com").content.decode()


def test_old_windows_are_forgotten(alpha):
    now = timezone.now()
    lookup_claim(address="203.0.113.7", code="ABC", now=now - 3 * WINDOW)
    lookup_claim(address="203.0.113.7", code="ABC", now=now)

    assert lookups_forget(now=now) == 2
    assert LookupAttempts.objects.count() == 2


def test_normalised_codes():
    assert normalise_code(" abcd-efgh jkmn\t") == "ABCDEFGHJKMN"


def test_concurrent_misses_never_get_more_lookups_than_the_limit(committed):
    def claim(index: int) -> int:
        return lookup_claim(address="203.0.113.50", code=f"CODE{index}").retry_after

    waits = committed.run_concurrently(MISSES_PER_CLIENT + 6, claim)

    assert [type(wait) for wait in waits] == [int] * len(waits)
    assert sum(1 for wait in waits if wait == 0) == MISSES_PER_CLIENT
    with tenant_context(committed.operator):
        assert LookupAttempts.objects.filter(count=MISSES_PER_CLIENT + 6).count() == 1


@pytest.mark.parametrize("wanted", ["https://evil.example/", "/reservations/OTHER/", "/\\evil"])
def test_once_found_the_traveller_goes_only_to_the_bookings_own_pages(browser, booking, wanted):
    response = browser.post(
        f"/my-booking/?next={wanted}", {"code": booking.code, "email": "ana@example.com"}
    )
    assert response["Location"] == f"/reservations/{booking.code}/"
