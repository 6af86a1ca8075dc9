"""The OCTO panel's own side, through its control API: desk bookings, capacity, closures, new
departures and prices, the notifications they post, and fault injection."""

import hashlib
import hmac
import http.client
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import uuid
from datetime import date

import pytest

from emulators.octo_demo import DEMO_API_KEY, DEMO_SUPPLIER_ID, demo_supplier
from emulators.octo_testing import PROJECT_ROOT, ControlError, DeskRefused, running_octo_panel
from emulators.testing import free_port
from tests import octo_contract as contract
from tests.emulators.octo_catalogues import BOAT, Panel, catalogue, day, start
from tests.octo_contract import OctoClient, assert_exchanges_conform

TOKEN = "ntf-token-" + "x" * 16
SECRET = "ntf-secret-" + "y" * 16


def bookings_on(client: OctoClient, offset: int) -> list[dict]:
    return client.get("/bookings", query={"localDate": day(offset).isoformat()}).data


def test_a_desk_booking_takes_seats_shows_in_the_api_and_is_notified(panel, receiver):
    panel.octo.notify_to(panel.id, receiver.url("/panel/canal/notifications/"), token=TOKEN)

    desk = panel.octo.desk_booking(
        panel.id, BOAT, start(2), {"adulto": 2, "menor": 1}, resellerReference="HOTEL-7"
    )
    hook = receiver.wait(1)[0]
    listed = bookings_on(panel.client(), 2)

    assert (desk["status"], len(desk["unitItems"])) == ("CONFIRMED", 3)
    assert panel.vacancies(start(2)) == 7
    assert [(b["uuid"], b["resellerReference"]) for b in listed] == [(desk["uuid"], "HOTEL-7")]
    assert [b["channel"] for b in panel.octo.bookings(panel.id)] == ["desk"]
    assert hook.path == "/panel/canal/notifications/"
    assert hook.headers["authorization"] == f"Bearer {TOKEN}"
    assert "octo-signature" not in hook.headers
    assert hook.json == {
        "id": hook.json["id"],
        "event": "booking_update",
        "supplierId": panel.id,
        "productId": BOAT,
        "optionId": "DEFAULT",
        "localDateStart": day(2).isoformat(),
        "localDateEnd": day(2).isoformat(),
        "localDate": day(2).isoformat(),
        "availabilityId": start(2),
        "bookingUuid": desk["uuid"],
        "utcCreatedAt": hook.json["utcCreatedAt"],
    }
    assert panel.octo.counters(panel.id) == {}  # the desk is not an OCTO client


def test_the_desk_cannot_sell_what_is_gone(panel):
    panel.reserve(panel.client(), start(3), ["adulto"] * 3)

    with pytest.raises(DeskRefused) as refused:
        panel.octo.desk_booking(panel.id, BOAT, start(3), {"adulto": 2})
    with pytest.raises(DeskRefused):
        panel.octo.desk_booking(panel.id, BOAT, start(4), {"adulto": 1})  # closed
    with pytest.raises(ControlError) as unknown:
        panel.octo.desk_booking(panel.id, BOAT, "2030-01-01T10:00:00-03:00", {"adulto": 1})

    assert refused.value.status == 409
    assert refused.value.body["error"] == "UNPROCESSABLE_ENTITY"
    assert "2 requested, 1 left" in refused.value.body["errorMessage"]
    assert (unknown.value.status, unknown.value.body["error"]) == (404, "INVALID_AVAILABILITY_ID")


def test_desk_holds_confirmations_cancellations_and_expiries_are_notified(panel, receiver):
    panel.octo.notify_to(panel.id, receiver.url("/hooks/"), token=TOKEN)
    held = panel.octo.desk_booking(
        panel.id, BOAT, start(2), {"adulto": 1}, status="ON_HOLD", expirationMinutes=5
    )
    expiring = panel.octo.desk_booking(
        panel.id, BOAT, start(2), {"adulto": 2}, status="ON_HOLD", expirationMinutes=1
    )

    confirmed = panel.octo.desk_confirm(panel.id, held["uuid"])
    cancelled = panel.octo.desk_cancel(panel.id, held["uuid"], reason="Guest called")
    panel.octo.advance_clock(90)
    hooks = receiver.wait(5)

    assert confirmed["status"] == "CONFIRMED" and cancelled["status"] == "CANCELLED"
    assert [(h.json["event"], h.json["bookingUuid"]) for h in hooks] == [
        ("booking_update", held["uuid"]),
        ("booking_update", expiring["uuid"]),
        ("booking_update", held["uuid"]),
        ("booking_update", held["uuid"]),
        ("booking_update", expiring["uuid"]),  # its hold expired
    ]
    assert panel.vacancies(start(2)) == 10


def test_capacity_closures_new_departures_and_prices_are_notified_signed(panel, receiver):
    panel.octo.notify_to(panel.id, receiver.url("/hooks/"), hmac_secret=SECRET)
    client = panel.client("octo/pricing")

    panel.octo.set_capacity(panel.id, BOAT, start(2), 3)
    panel.octo.close(panel.id, BOAT, start(2, "15:00"))
    panel.octo.reopen(panel.id, BOAT, start(4))
    added = panel.octo.add_departure(panel.id, BOAT, f"{day(5).isoformat()}T18:30", 12)
    panel.octo.set_price(
        panel.id, BOAT, "adulto", 9_000_000, net=7_000_000, availability_id=start(3)
    )
    panel.octo.set_price(panel.id, BOAT, "menor", 5_000_000)
    hooks = receiver.wait(6)
    ask = {"productId": BOAT, "optionId": "DEFAULT"}
    seen = {
        a["id"]: a
        for a in client.post(
            "/availability",
            {**ask, "localDateStart": day(2).isoformat(), "localDateEnd": day(5).isoformat()},
        ).data
    }

    assert added == {"availabilityId": start(5, "18:30"), "capacity": 12}
    assert (seen[start(2)]["capacity"], seen[start(2)]["vacancies"]) == (3, 3)
    assert seen[start(2, "15:00")]["status"] == "CLOSED"
    assert seen[start(4)]["status"] == "AVAILABLE"
    assert seen[start(5, "18:30")]["localDateTimeEnd"] == start(5, "21:00")
    prices = {p["unitId"]: (p["retail"], p["net"]) for p in seen[start(3)]["unitPricing"]}
    assert prices == {"adulto": (9_000_000, 7_000_000), "menor": (5_000_000, 5_000_000)}
    assert seen[start(2)]["unitPricing"][0]["retail"] == 8_500_000
    assert [(h.json["event"], h.json.get("availabilityId")) for h in hooks] == [
        ("availability_update", start(2)),
        ("availability_update", start(2, "15:00")),
        ("availability_update", start(4)),
        ("availability_update", start(5, "18:30")),
        ("availability_update", start(3)),
        ("availability_update", None),  # the whole option: a date range instead
    ]
    assert (hooks[-1].json["localDateStart"], hooks[-1].json["localDateEnd"]) == (
        start(0, "00:01")[:10],
        day(5).isoformat(),
    )
    for hook in hooks:
        stamp, signature = (
            part.split("=", 1)[1] for part in hook.headers["octo-signature"].split(",")
        )
        expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + hook.body, hashlib.sha256)
        assert signature == expected.hexdigest()
        assert "authorization" not in hook.headers


def test_a_refused_notification_is_retried_and_logged(panel, receiver):
    panel.octo.fault(retries=2, retry_backoff_seconds=0.05)
    receiver.statuses = [503, 500]
    panel.octo.notify_to(panel.id, receiver.url("/hooks/"), token=TOKEN)

    panel.octo.set_capacity(panel.id, BOAT, start(2), 5)
    receiver.wait(3)
    rows = panel.octo.wait_for_deliveries(lambda rows: len(rows) == 3)

    assert [(row["status"], row["attempt"]) for row in rows] == [(503, 1), (500, 2), (200, 3)]
    assert {row["type"] for row in rows} == {"availability_update"}


def test_an_octo_client_is_not_notified_of_its_own_bookings(panel, receiver):
    panel.octo.notify_to(panel.id, receiver.url("/hooks/"), token=TOKEN)
    booking = panel.reserve(panel.client(), start(2), ["adulto"]).data
    panel.client().post(f"/bookings/{booking['uuid']}/cancel", {})
    panel.octo.set_capacity(panel.id, BOAT, start(2), 9)  # a change of the panel's own

    hooks = receiver.wait(1, settle=0.2)

    assert [h.json["event"] for h in hooks] == ["availability_update"]


def test_down_answers_nothing_then_recovers(panel):
    client = panel.client()
    panel.octo.fault(down=True)

    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError)):
        client.get("/products")
    health = panel.octo.control("/health")  # the control API keeps answering
    panel.octo.fault(down=False)
    products = client.get("/products")

    assert health["ok"] is True
    assert products.status == 200
    dropped = [row for row in panel.octo.exchanges() if row["fault"] == "down"]
    assert [(row["method"], row["path"], row["status"]) for row in dropped] == [
        ("GET", "/octo/v1/products", None)
    ]


def test_slow_delays_every_answer(panel, monkeypatch):
    panel.octo.fault(slow_seconds=0.4)
    client = panel.client()

    started = time.monotonic()
    client.get("/supplier")
    elapsed = time.monotonic() - started
    monkeypatch.setattr(contract, "TIMEOUT_SECONDS", 0.1)
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        client.get("/supplier")

    assert elapsed >= 0.4


def test_5xx_for_the_next_calls_or_always(panel):
    client = panel.client()
    body = {
        "uuid": str(uuid.uuid4()),
        "productId": BOAT,
        "optionId": "DEFAULT",
        "availabilityId": start(2),
        "unitItems": [{"unitId": "adulto"}],
    }
    panel.octo.fault(fail_next=2, fail_status=503)

    failed = [client.post("/bookings", body) for _ in range(2)]
    reserved = client.post("/bookings", body)
    panel.octo.fault(fail_always=True, fail_status=500)
    always = [client.get("/supplier") for _ in range(3)]

    assert [reply.status for reply in failed] == [503, 503]
    assert failed[0].headers["Retry-After"] == "1"
    assert failed[0].data["error"] == "INTERNAL_SERVER_ERROR"
    assert reserved.data["status"] == "ON_HOLD"
    assert [reply.status for reply in always] == [500, 500, 500]
    # Calls that failed before reaching the panel are not counted as having reached it.
    counts = panel.octo.counters(panel.id)[("reserve", body["uuid"])]
    assert (counts["calls"], counts["applied"]) == (1, 1)


def test_sold_out_at_the_panel_refuses_every_reserve(panel):
    client = panel.client()
    panel.octo.fault(sold_out=True)

    seen = client.post(
        "/availability", {"productId": BOAT, "optionId": "DEFAULT", "availabilityIds": [start(2)]}
    ).data[0]
    refused = panel.reserve(client, start(2), ["adulto"])
    panel.octo.clear_faults()
    accepted = panel.reserve(client, start(2), ["adulto"])

    assert (seen["status"], seen["vacancies"], seen["available"]) == ("SOLD_OUT", 0, False)
    assert (refused.status, refused.data["error"]) == (400, "UNPROCESSABLE_ENTITY")
    assert accepted.data["status"] == "ON_HOLD"


def test_the_faulty_exchanges_still_conform_where_they_answer(panel):
    client = panel.client()
    panel.octo.fault(fail_next=1, fail_status=502)
    client.get("/products")
    panel.octo.fault(down=True)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError)):
        client.get("/products")

    rows = panel.octo.exchanges()

    assert [(row["status"], row["fault"]) for row in rows] == [(502, "fail"), (None, "down")]
    assert_exchanges_conform(rows)


def test_the_panel_stopped_and_started_keeps_its_bookings_and_counters():
    with tempfile.TemporaryFile() as log:
        with running_octo_panel(stderr=log) as octo:
            api_key = f"octo_test_{uuid.uuid4().hex}"
            octo.supplier(catalogue(api_key, "canal-tours"))
            panel = Panel(octo, "canal-tours", api_key)
            booking = panel.reserve(panel.client(), start(2), ["adulto", "adulto"]).data

            octo.stop()
            with pytest.raises(urllib.error.URLError) as refused:
                panel.client().get(f"/bookings/{booking['uuid']}")
            octo.start()
            again = panel.client().get(f"/bookings/{booking['uuid']}").data
            counts = octo.counters()[("reserve", booking["uuid"])]
            process = octo.process
        log.seek(0)
        lines = log.read().decode().splitlines()

    assert isinstance(refused.value.reason, ConnectionRefusedError)
    assert (again["uuid"], again["status"]) == (booking["uuid"], "ON_HOLD")
    assert (counts["calls"], counts["applied"]) == (1, 1)
    assert process.returncode == 0
    assert any(line.startswith("octo 127.0.0.1 POST /octo/v1/bookings 200") for line in lines)
    assert lines.count("octo: stopped") == 2


def test_the_demo_panel_mirrors_the_demo_operator(octo):
    created = octo.supplier(demo_supplier())
    client = OctoClient(octo.api_url, DEMO_API_KEY, ["octo/pricing", "octo/content"])

    products = client.get("/products").data
    desk = octo.bookings(DEMO_SUPPLIER_ID)

    assert created["id"] == DEMO_SUPPLIER_ID
    assert [p["internalName"] for p in products] == [
        "Navegación por el Canal Beagle",
        "Trekking al Glaciar Martial",
        "Pingüinera de Isla Martillo",
    ]
    beagle = products[0]
    assert beagle["timeZone"] == "America/Argentina/Ushuaia"
    assert beagle["options"][0]["availabilityLocalStartTimes"] == ["10:00", "15:00"]
    assert {(u["type"], u["pricingFrom"][0]["retail"]) for u in beagle["options"][0]["units"]} == {
        ("ADULT", 8_500_000),
        ("CHILD", 4_250_000),
        ("SENIOR", 6_800_000),
    }
    assert len(desk) == 4 and {b["channel"] for b in desk} == {"desk"}
    assert {b["status"] for b in desk} == {"CONFIRMED"}
    penguins = next(p for p in created["products"] if p["id"] == "PNL-MARTILLO-PENG")
    starts = [d["availabilityId"] for d in penguins["options"][0]["departures"]]
    assert starts and all(s.endswith("T08:30:00-03:00") for s in starts)
    assert all(date.fromisoformat(s[:10]).weekday() != 0 for s in starts)  # no Mondays


def test_control_api_refuses_what_it_cannot_use(octo):
    with pytest.raises(ControlError) as no_key:
        octo.supplier({"products": []})
    with pytest.raises(ControlError) as bad_unit:
        octo.supplier(
            {
                "api_key": "k",
                "products": [
                    {"internalName": "x", "units": [{"id": "a", "type": "PET", "retail": 1}]}
                ],
            }
        )
    with pytest.raises(ControlError) as unknown_supplier:
        octo.supplier_state("nobody")
    with pytest.raises(ControlError) as bad_status:
        octo.fault(fail_status=418)
    with pytest.raises(ControlError) as bad_knob:
        octo.fault(explode=True)

    assert (no_key.value.status, no_key.value.body) == (400, {"error": "api_key is required"})
    assert "type must be one of" in bad_unit.value.body["error"]
    assert unknown_supplier.value.status == 404
    assert bad_status.value.status == bad_knob.value.status == 400


def test_python_m_emulators_octo_serves_the_demo_standalone():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "emulators.octo", "--port", str(port), "--demo"],
        cwd=PROJECT_ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stderr.readline()
        client = OctoClient(f"http://127.0.0.1:{port}/octo/v1", DEMO_API_KEY)
        supplier = client.get("/supplier").data
    finally:
        process.terminate()
        rest = process.communicate(timeout=5)[1]

    assert first.strip() == f"octo: panel on http://127.0.0.1:{port}/octo/v1"
    assert supplier["id"] == DEMO_SUPPLIER_ID
    assert "octo 127.0.0.1 GET /octo/v1/supplier 200" in rest
    assert rest.strip().endswith("octo: stopped")
