"""The OCTO panel emulator's API over real HTTP. Every request sent and every response received
goes through `OctoClient`, which checks both against docs/octo/openapi.yaml."""

import uuid

import pytest

from tests.emulators.octo_catalogues import BOAT, TREK, day, start
from tests.octo_contract import OctoClient

PRICING, CONTENT = "octo/pricing", "octo/content"


def test_supplier_products_and_capabilities_in_the_core_shape(panel):
    client = panel.client()

    supplier = client.get("/supplier")
    products = client.get("/products")
    boat = client.get(f"/products/{BOAT}/")  # either spelling of a path
    capabilities = client.get("/capabilities")

    assert supplier.headers["Octo-Capabilities"] == ""
    assert supplier.data["id"] == "canal-tours"
    assert supplier.data["endpoint"] == panel.octo.api_url
    assert supplier.data["contact"]["email"] == "panel@example.com"
    assert [p["id"] for p in products.data] == [BOAT, TREK]
    assert boat.data == products.data[0]
    assert boat.data["timeZone"] == "America/Argentina/Ushuaia"
    option = boat.data["options"][0]
    assert (option["id"], option["default"]) == ("DEFAULT", True)
    assert option["availabilityLocalStartTimes"] == ["00:01", "10:00", "15:00"]
    assert (option["cancellationCutoffAmount"], option["cancellationCutoffUnit"]) == (1, "day")
    assert [(u["id"], u["type"]) for u in option["units"]] == [
        ("adulto", "ADULT"),
        ("menor", "CHILD"),
    ]
    assert option["units"][1]["restrictions"]["maxQuantity"] == 4
    trek = products.data[1]
    assert [(o["id"], o["default"]) for o in trek["options"]] == [("HALF", True), ("FULL", False)]
    assert trek["options"][0]["restrictions"] == {"minUnits": 1, "maxUnits": 3}
    for field in ("pricingFrom", "defaultCurrency", "title", "description"):
        assert field not in boat.data and field not in option and field not in option["units"][0]
    assert {c["id"] for c in capabilities.data} == {PRICING, CONTENT}


def test_pricing_and_content_capabilities_are_honoured_and_echoed(panel):
    reply = panel.client(PRICING, CONTENT, "octo/pickups").get(f"/products/{BOAT}")

    assert reply.headers["Octo-Capabilities"] == "octo/pricing, octo/content"
    assert reply.headers["Content-Language"] == reply.headers["Available-Languages"] == "es"
    product = reply.data
    assert (product["defaultCurrency"], product["availableCurrencies"]) == ("ARS", ["ARS"])
    assert product["title"] == "Navegación por el Canal Beagle"
    assert product["description"] == "Catamarán al faro Les Eclaireurs."
    assert product["locations"][0]["title"] == "Muelle Turístico"
    assert product["durationMinutesFrom"] == 150
    adult = product["options"][0]["units"][0]
    assert adult["pricingFrom"] == [
        {
            "original": 8_500_000,
            "retail": 8_500_000,
            "net": 6_800_000,
            "currency": "ARS",
            "currencyPrecision": 2,
            "includedTaxes": [],
        }
    ]
    assert product["options"][0]["pricingFrom"][0]["retail"] == 4_250_000  # the cheapest unit


def test_a_missing_or_unknown_key_is_refused_with_octos_errors(panel):
    anonymous = OctoClient(panel.octo.api_url, None)
    stranger = OctoClient(panel.octo.api_url, "octo_test_unknown")

    # The requests break the contract on purpose (no key); the answers must not.
    missing = anonymous.get("/products", check_request=False)
    unknown = stranger.get("/products")

    assert (missing.status, missing.data["error"]) == (400, "UNAUTHORIZED")
    assert (unknown.status, unknown.data["error"]) == (400, "FORBIDDEN")
    assert "API Key" in unknown.data["errorMessage"]


def test_availability_by_date_by_range_and_by_ids(panel):
    client = panel.client(PRICING)
    ask = {"productId": BOAT, "optionId": "DEFAULT"}

    one_day = client.post("/availability", {**ask, "localDate": day(2).isoformat()}).data
    ranged = client.post(
        "/availability",
        {**ask, "localDateStart": day(0).isoformat(), "localDateEnd": day(4).isoformat()},
    ).data
    by_id = client.post("/availability", {**ask, "availabilityIds": [start(3)]}).data

    assert [a["id"] for a in one_day] == [start(2), start(2, "15:00")]
    first = one_day[0]
    assert first["id"].endswith("T10:00:00-03:00")
    assert first["localDateTimeStart"] == first["id"]
    assert first["localDateTimeEnd"] == start(2, "12:30")
    assert (first["status"], first["available"], first["vacancies"], first["capacity"]) == (
        "AVAILABLE",
        True,
        10,
        10,
    )
    assert [u["unitId"] for u in first["unitPricing"]] == ["adulto", "menor"]
    statuses = {a["id"]: (a["status"], a["vacancies"]) for a in ranged}
    assert statuses[start(4)] == ("CLOSED", 0)
    assert statuses[start(0, "00:01")] == ("CLOSED", 0)  # past its cutoff
    assert len(ranged) == 5
    assert [a["id"] for a in by_id] == [start(3)]


def test_availability_reports_vacancies_limited_sold_out_and_prices_for_units(panel):
    client = panel.client(PRICING)
    for _ in range(3):
        panel.reserve(client, start(3), ["adulto"])  # 4 seats: 1 left, under half
    ask = {"productId": BOAT, "optionId": "DEFAULT", "availabilityIds": [start(3)]}

    limited = client.post(
        "/availability",
        {**ask, "units": [{"id": "adulto", "quantity": 1}, {"id": "menor", "quantity": 2}]},
    ).data[0]
    panel.reserve(client, start(3), ["menor"])
    sold_out = client.post("/availability", ask).data[0]

    assert (limited["status"], limited["vacancies"], limited["available"]) == ("LIMITED", 1, False)
    assert limited["pricing"]["retail"] == 8_500_000 + 2 * 4_250_000
    assert (sold_out["status"], sold_out["vacancies"], sold_out["available"]) == (
        "SOLD_OUT",
        0,
        False,
    )


@pytest.mark.parametrize(
    "body, error",
    [
        (
            {"productId": "NOPE", "optionId": "DEFAULT", "localDate": "2030-01-01"},
            "INVALID_PRODUCT_ID",
        ),
        ({"productId": BOAT, "optionId": "NOPE", "localDate": "2030-01-01"}, "INVALID_OPTION_ID"),
        (
            {
                "productId": BOAT,
                "optionId": "DEFAULT",
                "localDate": "2030-01-01",
                "units": [{"id": "x", "quantity": 1}],
            },
            "INVALID_UNIT_ID",
        ),
        ({"productId": BOAT, "optionId": "DEFAULT"}, "BAD_REQUEST"),
        (
            {
                "productId": BOAT,
                "optionId": "DEFAULT",
                "localDate": "2030-01-01",
                "availabilityIds": ["x"],
            },
            "BAD_REQUEST",
        ),
        ({"productId": BOAT, "optionId": "DEFAULT", "localDateStart": "2030-01-01"}, "BAD_REQUEST"),
        ({"productId": BOAT, "optionId": "DEFAULT", "localDate": "01/02/2030"}, "BAD_REQUEST"),
        (
            {
                "productId": BOAT,
                "optionId": "DEFAULT",
                "localDateStart": "2030-01-01",
                "localDateEnd": "2031-06-01",
            },
            "BAD_REQUEST",
        ),
    ],
)
def test_availability_errors(panel, body, error):
    reply = panel.client().post("/availability", body)

    assert (reply.status, reply.data["error"]) == (400, error)
    if error.startswith("INVALID_"):
        field = {"PRODUCT": "productId", "OPTION": "optionId", "UNIT": "unitId"}[
            error.split("_")[1]
        ]
        assert reply.data[field] in ("NOPE", "x")


def test_calendar_gives_one_day_per_date_with_departures(panel):
    client = panel.client(PRICING)
    panel.reserve(client, start(2), ["adulto"] * 3)

    days = client.post(
        "/availability/calendar",
        {
            "productId": BOAT,
            "optionId": "DEFAULT",
            "localDateStart": day(1).isoformat(),
            "localDateEnd": day(4).isoformat(),
            "units": [{"id": "adulto", "quantity": 2}],
        },
    ).data
    missing_dates = client.post(
        "/availability/calendar", {"productId": BOAT, "optionId": "DEFAULT"}
    )

    assert [d["localDate"] for d in days] == [
        day(2).isoformat(),
        day(3).isoformat(),
        day(4).isoformat(),
    ]
    assert (days[0]["vacancies"], days[0]["status"]) == (10, "AVAILABLE")  # 15:00 is still empty
    assert (days[2]["status"], days[2]["available"]) == ("CLOSED", False)
    assert days[0]["pricingFrom"]["retail"] == 2 * 8_500_000
    assert (missing_dates.status, missing_dates.data["error"]) == (400, "BAD_REQUEST")


def test_a_booking_from_hold_to_confirmed_to_cancelled(panel):
    client = panel.client(PRICING)
    booking_uuid = str(uuid.uuid4())

    held = client.post(
        "/bookings",
        {
            "uuid": booking_uuid,
            "productId": BOAT,
            "optionId": "DEFAULT",
            "availabilityId": start(2),
            "expirationMinutes": 15,
            "resellerReference": "R-ABC123",
            "unitItems": [{"unitId": "adulto"}, {"unitId": "adulto"}, {"unitId": "menor"}],
        },
    ).data
    vacancies_held = panel.vacancies(start(2))
    confirmed = client.post(
        f"/bookings/{booking_uuid}/confirm",
        {
            "contact": {
                "fullName": "Ana Gómez",
                "emailAddress": "ana@example.com",
                "locales": ["es"],
            }
        },
    ).data
    fetched = client.get(f"/bookings/{booking_uuid}").data
    listed = client.get("/bookings", query={"localDate": day(2).isoformat()}).data
    by_reference = client.get("/bookings", query={"resellerReference": "R-ABC123"}).data
    by_supplier_reference = client.get(
        "/bookings", query={"supplierReference": held["supplierReference"]}
    ).data
    cancelled = client.post(
        f"/bookings/{booking_uuid}/cancel", {"reason": "Weather", "force": True}
    ).data

    assert (held["uuid"], held["status"], held["availabilityId"]) == (
        booking_uuid,
        "ON_HOLD",
        start(2),
    )
    assert held["utcExpiresAt"] > held["utcCreatedAt"]
    assert held["availability"]["vacancies"] == 7
    assert held["pricing"]["retail"] == 2 * 8_500_000 + 4_250_000
    assert held["unitItems"][0]["unit"]["type"] == "ADULT"
    assert vacancies_held == 7
    assert (confirmed["status"], confirmed["utcExpiresAt"]) == ("CONFIRMED", None)
    assert confirmed["contact"]["fullName"] == "Ana Gómez"
    assert confirmed["voucher"]["deliveryOptions"][0]["deliveryValue"] == held["supplierReference"]
    assert fetched == confirmed
    assert [b["uuid"] for b in listed] == [booking_uuid]
    assert (
        [b["uuid"] for b in by_reference]
        == [b["uuid"] for b in by_supplier_reference]
        == [booking_uuid]
    )
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["cancellation"]["reason"] == "Weather"
    assert panel.vacancies(start(2)) == 10
    counters = panel.octo.counters(panel.id)
    for operation in ("reserve", "confirm", "cancel"):
        assert counters[(operation, booking_uuid)] == {
            "supplierId": panel.id,
            "operation": operation,
            "uuid": booking_uuid,
            "calls": 1,
            "applied": 1,
            "refused": 0,
        }


def test_listing_bookings_needs_a_filter_and_narrows_by_product(panel):
    client = panel.client()
    panel.reserve(client, start(2), ["adulto"])
    trek = client.post(
        "/bookings",
        {
            "productId": TREK,
            "optionId": "FULL",
            "availabilityId": start(2, "08:00"),
            "unitItems": [{"unitId": "adult"}],
        },
    ).data

    unfiltered = client.get("/bookings")
    by_day = client.get(
        "/bookings", query={"localDate": day(2).isoformat(), "productId": TREK}
    ).data
    by_range = client.get(
        "/bookings",
        query={"localDateStart": day(1).isoformat(), "localDateEnd": day(3).isoformat()},
    ).data

    assert (unfiltered.status, unfiltered.data["error"]) == (400, "BAD_REQUEST")
    assert [b["uuid"] for b in by_day] == [trek["uuid"]]
    assert len(by_range) == 2


def test_reserve_is_idempotent_by_uuid(panel):
    client = panel.client()
    body = {
        "uuid": str(uuid.uuid4()),
        "productId": BOAT,
        "optionId": "DEFAULT",
        "availabilityId": start(2),
        "unitItems": [{"unitId": "adulto"}, {"unitId": "adulto"}],
    }

    first = client.post("/bookings", body).data
    replay = client.post("/bookings", body).data
    other_body = client.post("/bookings", {**body, "unitItems": [{"unitId": "adulto"}]})

    assert replay == first
    assert panel.vacancies(start(2)) == 8
    assert (other_body.status, other_body.data["error"]) == (400, "INVALID_BOOKING_UUID")
    assert other_body.data["uuid"] == body["uuid"]
    counts = panel.octo.counters(panel.id)[("reserve", body["uuid"])]
    assert (counts["calls"], counts["applied"], counts["refused"]) == (3, 1, 1)


@pytest.mark.parametrize(
    "availability, units, error, message",
    [
        (start(3), ["adulto"] * 5, "UNPROCESSABLE_ENTITY", "5 requested, 4 left"),
        (start(4), ["adulto"], "UNPROCESSABLE_ENTITY", "closed"),
        (start(0, "00:01"), ["adulto"], "UNPROCESSABLE_ENTITY", "closed"),
        ("2030-01-01T10:00:00-03:00", ["adulto"], "INVALID_AVAILABILITY_ID", None),
        (start(2), [], "UNPROCESSABLE_ENTITY", "at least one unit"),
        (start(2), ["menor"] * 5, "UNPROCESSABLE_ENTITY", "At most 4 menor"),
        (start(2), ["senior"], "INVALID_UNIT_ID", None),
    ],
)
def test_a_reserve_the_panel_cannot_honour_is_refused(panel, availability, units, error, message):
    reply = panel.reserve(panel.client(), availability, units)

    assert (reply.status, reply.data["error"]) == (400, error)
    if message:
        assert message in reply.data["errorMessage"]
    assert panel.octo.bookings(panel.id) == []


def test_option_restrictions_are_checked(panel):
    client = panel.client()
    body = {"productId": TREK, "optionId": "HALF", "availabilityId": start(2, "09:00")}

    too_many = client.post("/bookings", {**body, "unitItems": [{"unitId": "adult"}] * 4})
    allowed = client.post("/bookings", {**body, "unitItems": [{"unitId": "adult"}] * 3})

    assert (too_many.status, too_many.data["error"]) == (400, "UNPROCESSABLE_ENTITY")
    assert allowed.data["status"] == "ON_HOLD"


def test_a_hold_expires_on_the_panels_clock_and_frees_its_seats(panel):
    client = panel.client()
    expiring = panel.reserve(client, start(2), ["adulto"] * 3, expirationMinutes=1).data
    extended = panel.reserve(client, start(2), ["adulto"] * 2, expirationMinutes=1).data
    longer = client.post(f"/bookings/{extended['uuid']}/extend", {"expirationMinutes": 10}).data

    panel.octo.advance_clock(61)
    expired = client.get(f"/bookings/{expiring['uuid']}").data
    confirm_late = client.post(f"/bookings/{expiring['uuid']}/confirm", {"contact": {}})
    cancel_late = client.post(f"/bookings/{expiring['uuid']}/cancel", {})

    assert longer["utcExpiresAt"] > extended["utcExpiresAt"]
    assert expired["status"] == "EXPIRED"
    assert expired["cancellation"]["utcCancelledAt"] == expired["utcExpiresAt"]
    assert panel.vacancies(start(2)) == 8  # the extended hold keeps its 2 seats
    assert (confirm_late.status, confirm_late.data["error"]) == (400, "INVALID_BOOKING_UUID")
    assert cancel_late.data["status"] == "EXPIRED"  # nothing left to cancel: no error
    assert panel.octo.counters(panel.id)[("cancel", expiring["uuid"])]["applied"] == 0


def test_patch_moves_a_booking_and_changes_its_units_within_the_seats(panel):
    client = panel.client(PRICING)
    booking = panel.reserve(client, start(2), ["adulto", "adulto"]).data
    path = f"/bookings/{booking['uuid']}"

    moved = client.patch(path, {"availabilityId": start(3), "notes": "window seats"}).data
    too_big = client.patch(path, {"unitItems": [{"unitId": "adulto"}] * 5})
    grown = client.patch(path, {"unitItems": [{"unitId": "adulto"}] * 4}).data
    unchanged = client.patch(path, {"notes": "window seats"}).data

    assert (moved["availabilityId"], moved["notes"]) == (start(3), "window seats")
    assert panel.vacancies(start(2)) == 10
    assert (too_big.status, too_big.data["error"]) == (400, "UNPROCESSABLE_ENTITY")
    assert len(grown["unitItems"]) == 4 and panel.vacancies(start(3)) == 0
    assert unchanged == grown
    counts = panel.octo.counters(panel.id)[("patch", booking["uuid"])]
    assert (counts["calls"], counts["applied"], counts["refused"]) == (4, 2, 1)


def test_confirm_may_change_the_units_and_is_idempotent(panel):
    client = panel.client()
    booking = panel.reserve(client, start(3), ["adulto"]).data
    confirm = {
        "contact": {"firstName": "Ana", "lastName": "Gómez"},
        "unitItems": [{"unitId": "adulto"}] * 3,
    }

    first = client.post(f"/bookings/{booking['uuid']}/confirm", confirm).data
    again = client.post(f"/bookings/{booking['uuid']}/confirm", confirm).data
    too_many = client.post(
        f"/bookings/{booking['uuid']}/confirm", {**confirm, "unitItems": [{"unitId": "adulto"}] * 5}
    )

    assert first["status"] == "CONFIRMED" and len(first["unitItems"]) == 3
    assert first["contact"]["fullName"] == "Ana Gómez"
    assert again == first
    assert (too_many.status, too_many.data["error"]) == (400, "UNPROCESSABLE_ENTITY")
    counts = panel.octo.counters(panel.id)[("confirm", booking["uuid"])]
    assert (counts["calls"], counts["applied"], counts["refused"]) == (3, 1, 1)


def test_a_confirmed_booking_is_cancelled_only_before_the_cutoff_unless_forced(panel):
    client = panel.client()
    soon = panel.reserve(client, start(2), ["adulto"]).data  # in 2 days; the cutoff is 1 day
    client.post(f"/bookings/{soon['uuid']}/confirm", {"contact": {}})
    panel.octo.advance_clock(36 * 3600)

    refused = client.post(f"/bookings/{soon['uuid']}/cancel", {"reason": "late"})
    forced = client.post(f"/bookings/{soon['uuid']}/cancel", {"force": True}).data
    again = client.post(f"/bookings/{soon['uuid']}/cancel", {}).data

    assert (refused.status, refused.data["error"]) == (400, "UNPROCESSABLE_ENTITY")
    assert "cutoff" in refused.data["errorMessage"]
    assert forced["status"] == again["status"] == "CANCELLED"
    counts = panel.octo.counters(panel.id)[("cancel", soon["uuid"])]
    assert (counts["calls"], counts["applied"], counts["refused"]) == (3, 1, 1)


def test_unknown_bookings_and_malformed_bodies(panel):
    client = panel.client()
    unknown = str(uuid.uuid4())

    got = client.get(f"/bookings/{unknown}")
    confirmed = client.post(f"/bookings/{unknown}/confirm", {"contact": {}})
    not_json = client.call("POST", "/bookings", b"{nope", check_request=False)
    bad_uuid = client.post(
        "/bookings",
        {"uuid": "not-a-uuid", "productId": BOAT, "optionId": "DEFAULT", "unitItems": []},
        check_request=False,
    )
    held = panel.reserve(client, start(2), ["adulto"]).data
    no_contact = client.post(f"/bookings/{held['uuid']}/confirm", {}, check_request=False)

    assert (got.status, got.data["error"], got.data["uuid"]) == (
        400,
        "INVALID_BOOKING_UUID",
        unknown,
    )
    assert confirmed.data["error"] == "INVALID_BOOKING_UUID"
    assert (not_json.status, not_json.data["error"]) == (400, "BAD_REQUEST")
    assert bad_uuid.data["error"] == "BAD_REQUEST"
    assert (no_contact.data["error"], no_contact.data["errorMessage"]) == (
        "BAD_REQUEST",
        "contact is required",
    )
