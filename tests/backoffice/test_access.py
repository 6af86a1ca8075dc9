"""Roles and isolation, page by page: agent reads, resends and prints manifests; manager also
runs departures, capacity, prices and cancellations; owner also refunds and manages the team.
A member of another operator is refused everywhere, and its object ids are not found."""

import pytest
from django.test import Client

from payments.models import WebhookEvent
from tenants.models import Operator, Role, StaffUser
from tenants.services import membership_grant
from tests.factories import ALPHA_HOST, BETA_HOST, SYSTEM, hold

ROLES = [Role.AGENT, Role.MANAGER, Role.OWNER]


@pytest.fixture
def world(make_slot):
    slot = make_slot(capacity=10)
    reservation = hold(slot, 2)
    event = WebhookEvent.objects.create(
        provider="stripe", event_id="evt_1", event_type="x", raw_body="{}", outcome="ignored"
    )
    return {
        "slot": slot,
        "reservation": reservation,
        "event": event,
        "rate": slot.activity.rates.first(),
    }


def pages(world) -> list[str]:
    slot, code = world["slot"].pk, world["reservation"].code
    return [
        "/backoffice/",
        "/backoffice/departures/",
        "/backoffice/departures/?view=calendar",
        f"/backoffice/departures/{slot}/",
        f"/backoffice/departures/{slot}/manifest/",
        f"/backoffice/departures/{slot}/manifest/?format=json",
        f"/backoffice/departures/{slot}/manifest.json",
        "/backoffice/activities/",
        "/backoffice/reservations/",
        f"/backoffice/reservations/{code}/",
        "/backoffice/reservations/export/",
        "/backoffice/webhooks/",
        f"/backoffice/webhooks/{world['event'].pk}/",
        "/backoffice/anomalies/",
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_member_reads_every_page(staff, world, role):
    client = staff(role)
    for url in pages(world):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    ("role", "status"), [(Role.AGENT, 403), (Role.MANAGER, 403), (Role.OWNER, 200)]
)
def test_only_owners_manage_the_team(staff, role, status):
    assert staff(role).get("/backoffice/team/").status_code == status


def actions(world) -> list[tuple[str, dict, str]]:
    """(url, POST data, least role that may do it)."""
    slot, code, rate = world["slot"].pk, world["reservation"].code, world["rate"]
    return [
        ("/backoffice/departures/new/", {}, Role.MANAGER),
        (f"/backoffice/departures/{slot}/", {"capacity": "12", "set_capacity": "1"}, Role.MANAGER),
        (f"/backoffice/departures/{slot}/", {"close": "1"}, Role.MANAGER),
        (
            "/backoffice/activities/",
            {
                "rate": rate.pk,
                f"rate{rate.pk}-amount": "1",
                f"rate{rate.pk}-min_per_booking": "0",
                f"rate{rate.pk}-max_per_booking": "5",
            },
            Role.MANAGER,
        ),
        (f"/backoffice/reservations/{code}/", {"cancel": "1"}, Role.MANAGER),
        (f"/backoffice/reservations/{code}/", {"refund": "0", "amount": "1"}, Role.OWNER),
        ("/backoffice/anomalies/", {"resolve": "0"}, Role.MANAGER),
        ("/backoffice/team/", {"grant": "1"}, Role.OWNER),
    ]


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER])
def test_actions_above_the_role_are_refused_and_change_nothing(staff, world, role):
    client = staff(role)
    rank = {Role.AGENT: 1, Role.MANAGER: 2, Role.OWNER: 3}
    for url, data, least in actions(world):
        if rank[role] >= rank[least]:
            continue
        response = client.post(url, data)
        assert response.status_code == 403, (url, data)
    world["slot"].refresh_from_db()
    world["rate"].refresh_from_db()
    world["reservation"].refresh_from_db()
    assert (world["slot"].capacity, world["slot"].is_open) == (10, True)
    assert world["reservation"].status == "held"
    if role == Role.AGENT:
        assert world["rate"].amount != 100


def test_anonymous_staff_are_sent_to_sign_in(world):
    client = Client(HTTP_HOST=ALPHA_HOST)
    for url in pages(world):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/backoffice/login/"), url


def test_a_member_of_another_operator_is_refused_on_every_page(alpha, world):
    beta = Operator.objects.get(schema_name="beta")
    membership = membership_grant(
        actor=SYSTEM, operator=beta, sub="beta-owner", email="owner@beta.example", role=Role.OWNER
    )
    client = Client(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(membership.user)  # signed in on Alpha's site, member of Beta only
    for url in [*pages(world), "/backoffice/team/"]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Alpha Expeditions" in response.content.decode()
    for url, data, _least in actions(world):
        assert client.post(url, data).status_code == 403, url


def test_another_operators_object_ids_are_not_found(alpha, world):
    from django_tenants.utils import tenant_context

    beta = Operator.objects.get(schema_name="beta")
    membership = membership_grant(
        actor=SYSTEM, operator=beta, sub="beta-owner", email="owner@beta.example", role=Role.OWNER
    )
    slot, code, event = world["slot"].pk, world["reservation"].code, world["event"].pk
    client = Client(HTTP_HOST=BETA_HOST, HTTP_ACCEPT_LANGUAGE="en")
    with tenant_context(beta):
        client.force_login(membership.user)
        for url in [
            f"/backoffice/departures/{slot}/",
            f"/backoffice/departures/{slot}/manifest/",
            f"/backoffice/departures/{slot}/manifest.json",
            f"/backoffice/reservations/{code}/",
            f"/backoffice/webhooks/{event}/",
        ]:
            assert client.get(url).status_code == 404, url
        assert code not in client.get("/backoffice/reservations/").content.decode()
    assert StaffUser.objects.filter(sub="beta-owner").exists()
