"""The panel's notifications: on the operator's domain, token-authenticated, and only a reason
to pull what they name at once; their body is never taken for what changed."""

import json
import time

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from panel_sync.models import ExternalBooking
from tests.factories import ALPHA_HOST
from tests.panel_sync.world import NOTIFICATION_TOKEN, PRODUCT, SUPPLIER, availability_id, day


def notify(client: Client, body, token: str | None = NOTIFICATION_TOKEN, path=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        path or "/panel/notifications/", data, content_type="application/json", **headers
    )


def capacity_changed(offset: int = 3) -> dict:
    """A notification as the panel sends it (only ids and days), with numbers a forger may add."""
    return {
        "id": "ntf_1",
        "event": "availability_update",
        "supplierId": SUPPLIER,
        "productId": PRODUCT,
        "optionId": "DEFAULT",
        "localDate": day(offset).isoformat(),
        "localDateStart": day(offset).isoformat(),
        "localDateEnd": day(offset).isoformat(),
        "availabilityId": availability_id(offset),
        "capacity": 0,
        "vacancies": 0,
    }


@pytest.fixture
def client() -> Client:
    return Client(HTTP_HOST=ALPHA_HOST)


def test_a_forged_notification_changes_nothing(panel, client):
    panel.octo.set_capacity(SUPPLIER, PRODUCT, availability_id(3), 6)
    asked_before = len(panel.octo.exchanges())

    for token in ("wrong-token", "", None):
        response = notify(client, capacity_changed(), token=token)
        assert response.status_code == 401, token
        assert response["WWW-Authenticate"].startswith("Bearer")
    response = client.post(
        "/panel/notifications/",
        json.dumps(capacity_changed()),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {NOTIFICATION_TOKEN}",
    )
    assert response.status_code == 401

    assert len(panel.octo.exchanges()) == asked_before  # nothing was pulled
    assert panel.reload(panel.slot()).capacity == 10


def test_a_notification_with_the_token_pulls_what_it_names_from_the_panel(panel, client):
    panel.octo.set_capacity(SUPPLIER, PRODUCT, availability_id(3), 6)
    panel.octo.set_capacity(SUPPLIER, PRODUCT, availability_id(5), 2)  # not named: not pulled

    response = notify(client, capacity_changed())

    assert response.status_code == 202
    assert response.json()["pull"] == {
        "products": 1,
        "first_day": day(3).isoformat(),
        "last_day": day(3).isoformat(),
    }
    # The panel's numbers, not the body's (which said 0 seats).
    assert panel.reload(panel.slot()).capacity == 6
    assert panel.reload(panel.slot(5)).capacity == 4


def test_the_operator_may_be_named_in_the_path_but_must_be_this_one(panel, client):
    assert notify(client, capacity_changed(), path="/panel/alpha/notifications/").status_code == 202
    assert notify(client, capacity_changed(), path="/panel/beta/notifications/").status_code == 404


def test_bad_bodies_get_400_and_unknown_products_nothing(panel, client):
    assert notify(client, "not json").status_code == 400
    assert notify(client, "[1, 2]").status_code == 400
    reversed_days = {
        "productId": PRODUCT,
        "localDateStart": "2030-01-02",
        "localDateEnd": "2030-01-01",
    }
    assert notify(client, reversed_days).status_code == 400
    response = notify(client, {"productId": "NOT-OURS"})
    assert (response.status_code, response.json()["pull"]) == (202, None)
    assert client.get("/panel/notifications/").status_code == 405


def test_without_an_enabled_connection_notifications_pull_nothing(unconnected, client):
    assert notify(client, capacity_changed(), token="forged").status_code == 401
    response = notify(client, capacity_changed())
    assert (response.status_code, response.json()["pull"]) == (202, None)
    assert unconnected.octo.exchanges() == []


def test_the_panels_own_notifications_bring_a_desk_booking_within_seconds(panel, app_server):
    panel.octo.notify_to(
        SUPPLIER,
        f"http://{ALPHA_HOST}:{app_server}/panel/alpha/notifications/",
        token=NOTIFICATION_TOKEN,
    )
    desk = panel.desk(adults=3)

    def arrived() -> bool:
        with tenant_context(panel.operator):
            return ExternalBooking.objects.filter(
                supplier_reference=desk["supplierReference"], status="CONFIRMED", seats=3
            ).exists()

    deadline = time.monotonic() + 10
    while not arrived():
        assert time.monotonic() < deadline, "the notification did not bring the desk booking"
        time.sleep(0.05)
    assert panel.reload(panel.slot()).taken_elsewhere == 3
    [delivery] = panel.octo.deliveries()
    assert delivery["status"] == 202
