"""tests/octo_contract.py, the OCTO contract checker: the spec it reads is a valid OpenAPI
document, a whole session with the emulator conforms, and requests or responses that break the
spec are caught (a checker that cannot fail would prove nothing)."""

import copy
import json
import uuid

import pytest
from openapi_spec_validator import validate

from tests.emulators.octo_catalogues import BOAT, day, start
from tests.octo_contract import (
    SPEC_PATH,
    ContractViolation,
    Exchange,
    OctoClient,
    assert_exchanges_conform,
    exchange_violations,
    request_violations,
    response_violations,
)


def test_the_spec_in_the_repository_is_octos_and_a_valid_openapi_document():
    import yaml

    document = yaml.safe_load(SPEC_PATH.read_text())
    validate(document)

    assert document["info"]["title"] == "OCTO API Specification"
    assert (SPEC_PATH.parent / "LICENSE").read_text().startswith("MIT License")


def session(panel) -> list[dict]:
    """One of everything, with both capabilities, then the emulator's record of it."""
    client = panel.client("octo/pricing", "octo/content")
    client.get("/capabilities")
    client.get("/supplier")
    client.get("/products")
    client.get(f"/products/{BOAT}")
    ask = {"productId": BOAT, "optionId": "DEFAULT"}
    client.post("/availability", {**ask, "localDate": day(2).isoformat()})
    client.post(
        "/availability/calendar",
        {**ask, "localDateStart": day(1).isoformat(), "localDateEnd": day(9).isoformat()},
    )
    booking = panel.reserve(client, start(2), ["adulto", "menor"], expirationMinutes=20).data
    path = f"/bookings/{booking['uuid']}"
    client.post(f"{path}/extend", {"expirationMinutes": 30})
    client.patch(path, {"notes": "Vegetarian lunch"})
    client.post(f"{path}/confirm", {"contact": {"fullName": "Ana Gómez", "locales": ["es"]}})
    client.get(path)
    client.get("/bookings", query={"localDate": day(2).isoformat()})
    client.post(f"{path}/cancel", {"reason": "Weather", "force": True})
    panel.reserve(client, start(4), ["adulto"])  # closed: UNPROCESSABLE_ENTITY
    client.get(f"/bookings/{uuid.uuid4()}")  # INVALID_BOOKING_UUID
    client.get("/products/NOPE")  # INVALID_PRODUCT_ID
    return panel.octo.exchanges()


def test_every_exchange_the_emulator_saw_conforms(panel):
    rows = session(panel)

    assert len(rows) == 16
    assert {row["status"] for row in rows} == {200, 400}
    assert all(row["requestHeaders"]["Authorization"].startswith("Bearer ***") for row in rows)
    assert_exchanges_conform(rows)


def booking_exchange(panel) -> Exchange:
    rows = session(panel)
    row = next(
        r for r in rows if r["method"] == "GET" and r["path"].startswith("/octo/v1/bookings/")
    )
    exchange = Exchange.from_emulator(row)
    assert exchange.status == 200 and exchange_violations(exchange) == []
    return exchange


def broken(exchange: Exchange, change) -> Exchange:
    data = json.loads(exchange.response_body)
    change(data)
    copied = copy.deepcopy(exchange)
    copied.response_body = json.dumps(data)
    return copied


@pytest.mark.parametrize(
    "change, complaint",
    [
        (lambda b: b.pop("status"), "'status' is a required property"),
        (lambda b: b.update(status="BOOKED"), "'BOOKED' is not one of"),
        (lambda b: b["availability"].update(vacancies="10"), "availability"),
        (lambda b: b["availability"].pop("utcCutoffAt"), "availability"),
        (lambda b: b.update(utcCreatedAt="yesterday"), "utcCreatedAt"),
        (lambda b: b["unitItems"][0].pop("contact"), "unitItems/0"),
        (lambda b: b["contact"].pop("locales"), "'locales' is a required property"),
        (lambda b: b.update(uuid="not-a-uuid"), "'not-a-uuid' is not a 'uuid'"),
        (
            lambda b: b["product"]["options"][0]["units"][0].update(type="PET"),
            "'PET' is not one of",
        ),
    ],
)
def test_a_response_that_breaks_the_spec_is_caught(panel, change, complaint):
    exchange = broken(booking_exchange(panel), change)

    problems = response_violations(exchange)

    assert problems, "the checker let a broken booking through"
    assert any(complaint in problem for problem in problems), problems


def test_a_response_without_its_headers_or_with_another_status_is_caught(panel):
    exchange = booking_exchange(panel)
    without_header = copy.deepcopy(exchange)
    without_header.response_headers.pop("Octo-Capabilities")
    unauthorized = copy.deepcopy(exchange)
    unauthorized.status = 401
    unauthorized.response_body = json.dumps({"error": "UNAUTHORIZED", "errorMessage": "no key"})
    half_error = copy.deepcopy(exchange)
    half_error.status = 400
    half_error.response_body = json.dumps({"error": "INVALID_BOOKING_UUID"})

    assert "Octo-Capabilities" in " ".join(response_violations(without_header))
    assert "Unknown response http status: 401" in " ".join(response_violations(unauthorized))
    assert response_violations(half_error)


def test_a_5xx_is_held_to_octos_error_body(panel):
    exchange = booking_exchange(panel)
    failed = copy.deepcopy(exchange)
    failed.status = 503
    failed.response_body = json.dumps({"error": "INTERNAL_SERVER_ERROR", "errorMessage": "x"})
    garbled = copy.deepcopy(failed)
    garbled.response_body = "<html>Bad gateway</html>"

    assert response_violations(failed) == []
    assert response_violations(garbled) == [
        f"GET {exchange.path} response 503: the body is not JSON"
    ]


REQUEST = {
    "uuid": "4a1c2f8e-7d1b-4f5a-9c3e-2b6d8f0a1e2c",
    "productId": BOAT,
    "optionId": "DEFAULT",
    "availabilityId": "2030-01-01T10:00:00-03:00",
    "unitItems": [{"unitId": "adulto"}],
}
HEADERS = {"Authorization": "Bearer k", "Octo-Capabilities": "octo/pricing"}


@pytest.mark.parametrize(
    "method, path, headers, body, complaint",
    [
        ("POST", "/bookings", HEADERS, REQUEST, None),
        ("POST", "/bookings/", HEADERS, REQUEST, None),
        ("POST", "/bookings", {"Authorization": "Bearer k"}, REQUEST, "Octo-Capabilities"),
        ("POST", "/bookings", {"Octo-Capabilities": ""}, REQUEST, "Security"),
        ("POST", "/bookings", {**HEADERS, "Authorization": "Basic k"}, REQUEST, "Security"),
        ("POST", "/bookings", HEADERS, {**REQUEST, "uuid": "R-123"}, "'R-123' is not a 'uuid'"),
        (
            "POST",
            "/bookings",
            HEADERS,
            {**REQUEST, "expirationMinutes": "15"},
            "not of type 'integer'",
        ),
        (
            "POST",
            "/bookings",
            HEADERS,
            {"productId": BOAT, "optionId": "DEFAULT"},
            "'unitItems' is a",
        ),
        (
            "POST",
            "/bookings",
            HEADERS,
            {**REQUEST, "unitItems": [{"uuid": REQUEST["uuid"]}]},
            "'unitId'",
        ),
        (
            "POST",
            f"/bookings/{REQUEST['uuid']}/confirm",
            HEADERS,
            {"contact": {"emailAddress": "not an address"}},
            "is not a 'email'",
        ),
        ("POST", f"/bookings/{REQUEST['uuid']}/confirm", HEADERS, {}, "'contact' is a required"),
        (
            "POST",
            f"/bookings/{REQUEST['uuid']}/cancel",
            HEADERS,
            None,
            "Missing required request body",
        ),
        ("POST", "/availability", HEADERS, {"productId": BOAT}, "'optionId' is a required"),
        ("DELETE", f"/bookings/{REQUEST['uuid']}", HEADERS, None, "Operation"),
        ("GET", "/vouchers", HEADERS, None, "no such OCTO path"),
    ],
)
def test_a_request_that_breaks_the_spec_is_caught(method, path, headers, body, complaint):
    exchange = Exchange(method, path, headers, None if body is None else json.dumps(body).encode())

    problems = request_violations(exchange)

    if complaint is None:
        assert problems == []
    else:
        assert any(complaint in problem for problem in problems), problems


def test_the_checking_client_raises_on_a_broken_request(panel):
    client = OctoClient(panel.octo.api_url, panel.api_key)

    with pytest.raises(ContractViolation, match="not a 'uuid'"):
        client.post("/bookings", {**REQUEST, "uuid": "R-123"})
    reply = client.post("/bookings", {**REQUEST, "uuid": "R-123"}, check_request=False)

    assert (reply.status, reply.data["error"]) == (400, "BAD_REQUEST")  # and the answer conforms
