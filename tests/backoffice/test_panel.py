"""The staff's side of panel sync: the Panel section (the connection, its test against the OCTO
emulator, the sync status, pushes to push again), the mapping of the panel's products, the
conflicts, and the panel's desk bookings on the dashboard, departures, manifests, the
reservation search and a reservation's page. Roles as the services check them: owners change
the connection, managers test it, map and resolve, agents push again."""

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from booking.models import Activity, ReservationEvent, Slot
from outbox.models import OutboxMessage
from panel_sync.models import (
    ExternalBooking,
    PanelConflict,
    PanelConnection,
    ProductMapping,
    UnitMapping,
)
from panel_sync.services.catalogue import product_import, product_map, unit_map
from panel_sync.services.conflicts import conflict_resolve
from panel_sync.services.connection import panel_connect, panel_test_connection
from panel_sync.services.push_queue import PUSH, panel_push_again
from tenants.models import Role
from tests import factories
from tests.factories import hold
from tests.octo_contract import assert_exchanges_conform
from tests.panel_sync.world import PANEL_SECRET_ID, catalogue

ROLES = [Role.AGENT, Role.MANAGER, Role.OWNER]
PANEL_URLS = ["/backoffice/panel/", "/backoffice/panel/mapping/", "/backoffice/panel/conflicts/"]


# Builders (on Alpha's schema)


def connect(**fields) -> PanelConnection:
    values = {
        "base_url": "http://panel.example/octo/v1",
        "enabled": True,
        "supplier_name": "Alpha's panel",
        "capabilities": ["octo/pricing", "octo/content"],
    } | fields
    return PanelConnection.objects.create(**values)


def panel_product(
    product_id: str = "PNL-BOAT", name: str = "Navegación Canal Beagle", activity=None
) -> ProductMapping:
    mapping = ProductMapping.objects.create(
        panel_product_id=product_id,
        panel_option_id="DEFAULT",
        panel_name=name,
        currency="ARS",
        activity=activity,
    )
    for unit_id, unit_type, unit_name, amount in [
        ("adulto", "ADULT", "Adulto", 10_000_00),
        ("menor", "CHILD", "Menor", 5_000_00),
    ]:
        UnitMapping.objects.create(
            product=mapping,
            panel_unit_id=unit_id,
            unit_type=unit_type,
            panel_name=unit_name,
            panel_amount=amount,
            panel_currency="ARS",
        )
    return mapping


def desk_booking(slot: Slot, mapping: ProductMapping, seats: int = 3, **fields):
    values = {
        "panel_uuid": uuid.uuid4(),
        "supplier_reference": f"DESK-{uuid.uuid4().hex[:6].upper()}",
        "product": mapping,
        "panel_availability_id": slot.starts_at.isoformat(),
        "slot": slot,
        "status": "CONFIRMED",
        "units": [{"unit_id": "adulto", "type": "ADULT", "name": "Adulto", "quantity": seats}],
        "seats": seats,
        "contact_name": "Familia Pereyra",
        "panel_created_at": timezone.now(),
    } | fields
    return ExternalBooking.objects.create(**values)


def failed_push(reservation) -> OutboxMessage:
    return OutboxMessage.objects.create(
        topic=PUSH,
        payload={"reservation_id": reservation.pk, "change": "held"},
        attempts=10,
        failed_at=timezone.now(),
        last_error="PanelUnavailable: POST /bookings/: HTTP 503",
    )


def page_queries(client, url: str) -> int:
    client.get(url)  # warm: session, translations
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.fixture
def mapped(make_slot):
    """Alpha connected, its boat trip sold on the panel, a departure of it with 2 seats held
    here and 3 sold at the panel's desk (capacity 10)."""
    connect()
    slot = make_slot(capacity=10, taken_elsewhere=3)
    mapping = panel_product(activity=slot.activity)
    reservation = hold(slot, 2)
    desk = desk_booking(slot, mapping, seats=3, supplier_reference="DESK-0042")
    return {"slot": slot, "mapping": mapping, "reservation": reservation, "desk": desk}


@pytest.fixture
def beta_staff(beta_owner, beta_operator):
    """An owner of Beta on Beta's site; its requests are made on Beta's schema (the middleware
    leaves the connection there)."""
    return beta_owner, beta_operator


# Reading


@pytest.mark.parametrize("role", ROLES)
def test_every_member_reads_the_panel_pages_connected_or_not(staff, make_activity, role):
    client = staff(role)
    for url in PANEL_URLS:
        response = client.get(url)
        assert response.status_code == 200, url
    assert "Not connected." in client.get("/backoffice/panel/").content.decode()
    assert 'href="/backoffice/panel/"' in client.get("/backoffice/").content.decode()  # the nav
    connect()
    panel_product()
    for url in PANEL_URLS:
        assert client.get(url).status_code == 200, url
    page = client.get("/backoffice/panel/").content.decode()
    assert "Alpha&#x27;s panel" in page and "octo/pricing" in page
    assert ('name="save"' in page) is (role == Role.OWNER)
    assert ('name="test"' in page) is (role != Role.AGENT)
    mapping = client.get("/backoffice/panel/mapping/").content.decode()
    assert "Navegación Canal Beagle" in mapping
    assert ('name="map"' in mapping) is (role != Role.AGENT)


def test_the_status_says_how_sync_goes(staff, mapped):
    PanelConnection.objects.update(
        last_pull_at=timezone.now() - timedelta(minutes=2),
        last_error="The panel is not answering (POST /availability/: HTTP 503)",
    )
    OutboxMessage.objects.create(topic=PUSH, payload={"reservation_id": mapped["reservation"].pk})
    PanelConflict.objects.create(
        kind="refused", reservation=mapped["reservation"], details="sold out there"
    )
    panel_product("PNL-TREK", "Trekking Glaciar Martial")
    page = staff(Role.AGENT).get("/backoffice/panel/").content.decode()
    assert "2\xa0minutes ago" in page
    assert "HTTP 503" in page
    assert 'data-testid="pending-pushes">2<' in page  # the hold's own push, and this one
    assert 'data-testid="open-conflicts">1<' in page
    assert "late" not in page

    PanelConnection.objects.update(last_pull_at=timezone.now() - timedelta(minutes=30))
    assert (
        '<span class="tag">late</span>'
        in staff(Role.AGENT).get("/backoffice/panel/").content.decode()
    )


def test_the_dashboard_shows_the_sync_status_once_connected(staff, make_slot):
    client = staff(Role.AGENT)
    assert "Activity panel" not in client.get("/backoffice/").content.decode()
    connect(last_pull_at=timezone.now() - timedelta(minutes=3))
    reservation = hold(make_slot(), 1)
    OutboxMessage.objects.create(topic=PUSH, payload={"reservation_id": reservation.pk})
    PanelConflict.objects.create(kind="refused", reservation=reservation, details="x")
    page = client.get("/backoffice/").content.decode()
    assert "Activity panel" in page
    assert "3\xa0minutes ago" in page
    assert 'data-testid="pending-pushes">1<' in page
    assert 'data-testid="open-conflicts">1<' in page


# The connection


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER])
def test_only_owners_change_the_connection(staff, role):
    data = {"save": "1", "base_url": "https://panel.example/octo", "sync_window_days": "90"}
    assert staff(role).post("/backoffice/panel/", data).status_code == 403
    assert not PanelConnection.objects.exists()


def test_an_owner_sets_the_connection_up(staff):
    client = staff(Role.OWNER)
    response = client.post(
        "/backoffice/panel/",
        {
            "save": "1",
            "base_url": "https://panel.example/octo/v1/",
            "enabled": "on",
            "sync_window_days": "90",
            "stale_after_minutes": "15",
        },
    )
    assert response.status_code == 302
    panel = PanelConnection.current()
    assert (panel.base_url, panel.enabled, panel.sync_window_days, panel.stale_after_minutes) == (
        "https://panel.example/octo/v1",
        True,
        90,
        15,
    )
    client.post(
        "/backoffice/panel/",
        {"save": "1", "base_url": "https://panel.example/octo/v1", "sync_window_days": "90"},
    )
    panel.refresh_from_db()
    assert (panel.enabled, panel.stale_after_minutes) == (False, None)


def test_bad_connection_settings_re_render_with_messages_and_change_nothing(staff):
    connect(sync_window_days=60)
    response = staff(Role.OWNER).post(
        "/backoffice/panel/",
        {"save": "1", "base_url": "not a url", "sync_window_days": "0", "stale_after_minutes": "x"},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Introduzca una URL válida." in body
    assert "mayor o igual a 1" in body
    assert PanelConnection.current().sync_window_days == 60


@pytest.fixture
def emulated(octo_panel, panel_secrets, settings):
    """The OCTO emulator with Alpha's supplier, its key in (moto's) Secrets Manager; what
    the test asked of it is checked against the OCTO spec at the end."""
    settings.OPERATOR_SECRET_ID = PANEL_SECRET_ID
    octo_panel.reset()
    octo_panel.supplier(catalogue())
    yield octo_panel
    octo_panel.clear_faults()
    assert_exchanges_conform(octo_panel.exchanges())


def test_testing_the_connection_shows_the_supplier_and_what_the_panel_sells(staff, emulated):
    staff(Role.OWNER).post(
        "/backoffice/panel/",
        {"save": "1", "base_url": emulated.api_url, "enabled": "on", "sync_window_days": "120"},
    )
    assert staff(Role.AGENT).post("/backoffice/panel/", {"test": "1"}).status_code == 403
    manager = staff(Role.MANAGER)

    fragment = manager.post("/backoffice/panel/", {"test": "1"}, HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert fragment.status_code == 200 and body.lstrip().startswith('<div id="test-result"')
    assert "Connected to Alpha&#x27;s panel." in body
    assert "octo/pricing" in body and "The panel sells 2 products:" in body
    assert "Navegación Canal Beagle" in body and "Trekking Glaciar Martial" in body
    assert ProductMapping.objects.unmapped().count() == 2  # listed for staff to map

    plain = manager.post("/backoffice/panel/", {"test": "1"}, follow=True)
    assert "Connected to Alpha&#x27;s panel: 2 products listed" in plain.content.decode()


def test_a_failed_test_says_why_in_the_staffs_language(staff, emulated):
    connect(base_url=emulated.api_url)
    emulated.fault(down=True)
    fragment = staff(Role.MANAGER).post(
        "/backoffice/panel/", {"test": "1"}, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="es"
    )
    body = fragment.content.decode()
    assert 'role="alert"' in body and "El panel no responde" in body
    assert "no responde" in PanelConnection.current().last_error


def test_testing_without_a_connection_says_so(staff):
    response = staff(Role.MANAGER).post("/backoffice/panel/", {"test": "1"}, follow=True)
    assert "Save the panel&#x27;s address first." in response.content.decode()


def test_sync_now_pulls_at_once(staff, django_capture_on_commit_callbacks):
    connect()
    assert staff(Role.AGENT).post("/backoffice/panel/", {"pull": "1"}).status_code == 403
    assert PanelConnection.current().last_error_at is None
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff(Role.MANAGER).post("/backoffice/panel/", {"pull": "1"})
    assert response.status_code == 302 and len(callbacks) == 1
    # The pull ran at once (Huey runs tasks when enqueued here) and, this test's panel being
    # out of reach (no key, or Secrets Manager on a closed port, as the session's other tests
    # left it), recorded why for staff.
    assert PanelConnection.current().last_error_at is not None


# Pushes the outbox gave up on


def test_a_push_given_up_on_is_listed_and_an_agent_pushes_it_again(staff, mapped):
    reservation = mapped["reservation"]
    given_up = failed_push(reservation)
    client = staff(Role.AGENT)
    page = client.get("/backoffice/panel/").content.decode()
    assert f'name="push_again" value="{reservation.pk}"' in page and "HTTP 503" in page

    response = client.post("/backoffice/panel/", {"push_again": str(reservation.pk)})
    assert response.status_code == 302
    again = OutboxMessage.objects.filter(topic=PUSH, pk__gt=given_up.pk).get()
    assert again.payload == {"reservation_id": reservation.pk, "change": "again"}
    assert 'name="push_again"' not in client.get("/backoffice/panel/").content.decode()


def test_pushing_again_a_reservation_that_is_not_here_is_refused(staff, mapped, beta_staff):
    client = staff(Role.AGENT)
    assert client.post("/backoffice/panel/", {"push_again": "999999"}).status_code == 404
    assert client.post("/backoffice/panel/", {"push_again": "１２"}).status_code == 400
    assert client.post("/backoffice/panel/", {"push_again": ""}).status_code == 400
    beta, operator = beta_staff
    with tenant_context(operator):
        assert (
            beta.post("/backoffice/panel/", {"push_again": mapped["reservation"].pk}).status_code
            == 404
        )
    assert not OutboxMessage.objects.filter(payload__change="again").exists()


# Mapping


def test_unmapped_products_are_listed_with_suggestions_by_name(staff, make_activity):
    connect()
    look_alike = make_activity("canal", name="Navegación por el Canal Beagle")
    make_activity("horses", name="Cabalgata")
    panel_product()
    page = staff(Role.MANAGER).get("/backoffice/panel/mapping/").content.decode()
    suggested = page.index('label="Suggested by name"')
    others = page.index('label="Activities not on the panel"')
    option = f'<option value="{look_alike.pk}">'  # not any value="1" of the page's buttons
    assert suggested < page.index(option) < others
    assert page.count(option) == 1


def test_a_manager_maps_a_product_and_its_units_by_type(
    staff, make_activity, django_capture_on_commit_callbacks
):
    connect()
    activity = make_activity("canal", name="Navegación por el Canal Beagle")
    product = panel_product()
    assert (
        staff(Role.AGENT)
        .post("/backoffice/panel/mapping/", {"map": product.pk, "activity": activity.pk})
        .status_code
        == 403
    )
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff(Role.MANAGER).post(
            "/backoffice/panel/mapping/", {"map": product.pk, "activity": activity.pk}
        )
    assert response.status_code == 302
    assert len(callbacks) == 1  # a pull of that product, once the mapping is committed
    product.refresh_from_db()
    assert product.activity == activity
    assert dict(product.units.values_list("panel_unit_id", "rate__code")) == {
        "adulto": "adult",
        "menor": "child",
    }
    page = staff(Role.AGENT).get("/backoffice/panel/mapping/").content.decode()
    assert "Navegación Canal Beagle → Navegación por el Canal Beagle" in page


def test_an_activity_sold_as_another_product_is_not_mapped_twice(staff, make_activity):
    connect()
    activity = make_activity("canal")
    first = panel_product(activity=activity)
    second = panel_product("PNL-OTHER", "Otro")
    response = staff(Role.MANAGER).post(
        "/backoffice/panel/mapping/", {"map": second.pk, "activity": activity.pk}, follow=True
    )
    assert "is already sold as the panel&#x27;s Navegación Canal Beagle" in (
        response.content.decode()
    )
    assert ProductMapping.objects.get(pk=second.pk).activity is None
    assert ProductMapping.objects.get(pk=first.pk).activity == activity


def test_importing_a_product_makes_an_activity_with_its_units_as_rates(staff):
    connect()
    product = panel_product("PNL-TREK", "Trekking Glaciar Martial")
    response = staff(Role.MANAGER).post("/backoffice/panel/mapping/", {"import": product.pk})
    assert response.status_code == 302
    activity = Activity.objects.get(panel_mapping=product)
    assert activity.name == "Trekking Glaciar Martial"
    assert sorted(activity.rates.values_list("code", "amount", "currency")) == [
        ("adult", 10_000_00, "ARS"),
        ("child", 5_000_00, "ARS"),
    ]
    again = staff(Role.MANAGER).post(
        "/backoffice/panel/mapping/", {"import": product.pk}, follow=True
    )
    assert "is mapped already" in again.content.decode()
    assert Activity.objects.filter(name="Trekking Glaciar Martial").count() == 1


def test_units_are_mapped_to_rates_of_the_products_activity_only(staff, make_activity):
    connect()
    activity = make_activity("canal")
    product = panel_product(activity=activity)
    adult_unit = product.units.get(panel_unit_id="adulto")
    child_rate = activity.rates.get(code="child")
    manager = staff(Role.MANAGER)
    manager.post("/backoffice/panel/mapping/", {"unit": adult_unit.pk, "rate": child_rate.pk})
    adult_unit.refresh_from_db()
    assert adult_unit.rate == child_rate

    other = make_activity("other").rates.first()
    refused = manager.post(
        "/backoffice/panel/mapping/", {"unit": adult_unit.pk, "rate": other.pk}, follow=True
    )
    assert "That rate belongs to another activity." in refused.content.decode()
    manager.post("/backoffice/panel/mapping/", {"unit": adult_unit.pk, "rate": ""})
    adult_unit.refresh_from_db()
    assert adult_unit.rate is None

    manager.post("/backoffice/panel/mapping/", {"unmap": product.pk})
    assert ProductMapping.objects.get(pk=product.pk).activity is None


def test_mapping_ids_that_are_not_here_are_not_found(staff, make_activity, beta_staff):
    connect()
    activity = make_activity("canal")
    product = panel_product()
    manager = staff(Role.MANAGER)
    for data, status in [
        ({"map": product.pk, "activity": 999999}, 404),
        ({"map": 999999, "activity": activity.pk}, 404),
        ({"map": product.pk, "activity": "x"}, 400),
        ({"map": product.pk}, 400),
        ({"import": "-1"}, 400),
        ({"unit": 999999, "rate": ""}, 404),
        ({"unmap": "9" * 30}, 400),
    ]:
        assert manager.post("/backoffice/panel/mapping/", data).status_code == status, data
    beta, operator = beta_staff
    with tenant_context(operator):
        for data in [{"map": product.pk, "activity": activity.pk}, {"import": product.pk}]:
            assert beta.post("/backoffice/panel/mapping/", data).status_code == 404, data
    assert ProductMapping.objects.get(pk=product.pk).activity is None


# Conflicts


def test_a_manager_resolves_a_conflict_in_place(staff, mapped):
    reservation = mapped["reservation"]
    conflict = PanelConflict.objects.create(
        kind="refused", reservation=reservation, slot=reservation.slot, details="sold out there"
    )
    page = staff(Role.AGENT).get("/backoffice/panel/conflicts/").content.decode()
    assert "Sold here, refused by the panel" in page and "sold out there" in page
    assert 'name="resolve"' not in page
    assert (
        staff(Role.AGENT).post("/backoffice/panel/conflicts/", {"resolve": conflict.pk}).status_code
        == 403
    )

    fragment = staff(Role.MANAGER).post(
        "/backoffice/panel/conflicts/", {"resolve": conflict.pk}, HTTP_HX_REQUEST="true"
    )
    body = fragment.content.decode()
    assert body.lstrip().startswith(f'<tr id="conflict-{conflict.pk}"')
    assert "resolved by manager@alpha.example" in body
    conflict.refresh_from_db()
    assert conflict.resolved_by == "manager@alpha.example"
    event = reservation.events.get(kind="panel_conflict_resolved")
    assert event.actor == "manager@alpha.example"
    assert (
        staff(Role.MANAGER)
        .post("/backoffice/panel/conflicts/", {"resolve": conflict.pk})
        .status_code
        == 404
    )


def test_an_over_sale_reads_in_the_staffs_language(staff, mapped):
    PanelConflict.objects.create(
        kind="oversold",
        slot=mapped["slot"],
        details="2 seat(s) sold on both sides beyond the capacity of 10: 5 here, 7 at the panel.",
        data={"capacity": 10, "here": 5, "panel": 7, "oversold": 2},
    )
    page = staff(Role.AGENT).get("/backoffice/panel/conflicts/", HTTP_ACCEPT_LANGUAGE="es")
    assert (
        "2 lugares vendidos de ambos lados por encima de la capacidad de 10: 5 aquí, 7 en el panel."
        in page.content.decode()
    )


def test_conflict_ids_that_are_not_here_are_not_found(staff, mapped, beta_staff):
    conflict = PanelConflict.objects.create(kind="oversold", slot=mapped["slot"], details="x")
    manager = staff(Role.MANAGER)
    assert manager.post("/backoffice/panel/conflicts/", {"resolve": "abc"}).status_code == 400
    assert manager.post("/backoffice/panel/conflicts/", {"resolve": 999999}).status_code == 404
    beta, operator = beta_staff
    with tenant_context(operator):
        assert (
            beta.post("/backoffice/panel/conflicts/", {"resolve": conflict.pk}).status_code == 404
        )
    assert PanelConflict.objects.open().count() == 1


# The panel's bookings on our pages


def test_departure_and_manifest_show_the_desk_bookings_and_both_sides_seats(staff, mapped):
    slot = mapped["slot"]
    client = staff(Role.AGENT)
    for url in (
        f"/backoffice/departures/{slot.pk}/",
        f"/backoffice/departures/{slot.pk}/manifest/",
    ):
        page = client.get(url).content.decode()
        assert "2 taken here + 3 sold on the panel, of 10" in page, url
        assert "DESK-0042" in page and "Familia Pereyra" in page, url
        assert page.count('data-testid="desk-booking"') == 1, url
        assert "This site" in page and ">Panel<" in page, url
    manifest = client.get(f"/backoffice/departures/{slot.pk}/manifest/").content.decode()
    assert "3 × Adulto" in manifest
    # A booking the panel cancelled holds no seat and is not a passenger.
    ExternalBooking.objects.filter(pk=mapped["desk"].pk).update(status="CANCELLED")
    page = client.get(f"/backoffice/departures/{slot.pk}/manifest/").content.decode()
    assert "DESK-0042" not in page


def test_a_departure_not_sold_on_the_panel_reads_as_before(staff, make_slot):
    slot = make_slot(capacity=10)
    hold(slot, 2)
    page = staff(Role.MANAGER).get(f"/backoffice/departures/{slot.pk}/").content.decode()
    assert "2 of 10 taken" in page and "sold on the panel" not in page
    assert 'data-testid="panel-master"' not in page


def test_a_departure_the_panel_is_master_of_says_where_to_change_its_capacity(staff, mapped):
    slot = mapped["slot"]
    page = staff(Role.MANAGER).get(f"/backoffice/departures/{slot.pk}/").content.decode()
    assert "a change here lasts until its next pull" in page


def test_the_reservation_search_finds_desk_bookings(staff, mapped):
    client = staff(Role.AGENT)
    assert "DESK-0042" not in client.get("/backoffice/reservations/").content.decode()
    for query in (
        "q=DESK-0042",
        "q=pereyra",
        "status=paid",
        f"activity={mapped['slot'].activity_id}",
    ):
        page = client.get(f"/backoffice/reservations/?{query}").content.decode()
        assert "DESK-0042" in page and "Sold on the panel" in page, query
    for query in ("q=nobody", "status=held"):
        page = client.get(f"/backoffice/reservations/?{query}").content.decode()
        assert "DESK-0042" not in page, query
    fragment = client.get("/backoffice/reservations/?q=pereyra", HTTP_HX_REQUEST="true")
    assert "DESK-0042" in fragment.content.decode()


def test_a_reservation_shows_its_panel_status_and_labelled_timeline(staff, mapped):
    reservation = mapped["reservation"]
    reservation.panel_bookings.create(
        uuid=reservation.uuid,
        status="REFUSED",
        error_code="UNPROCESSABLE_ENTITY",
        error_message="sold out",
    )
    ReservationEvent.objects.create(
        reservation=reservation, kind="panel_refused", actor="panel sync", note="sold out there"
    )
    PanelConflict.objects.create(kind="refused", reservation=reservation, details="sold out there")
    client = staff(Role.AGENT)
    page = client.get(f"/backoffice/reservations/{reservation.code}/").content.decode()
    assert 'data-testid="panel-status">Refused by the panel<' in page
    assert "The panel refused the booking: sold out, closed or past its cut-off there." in page
    assert "(UNPROCESSABLE_ENTITY: sold out)" in page
    assert "Sold here, refused by the panel" in page
    # The timeline's labels (and the actor's), never the codes.
    assert '<strong class="record-kind">Refused by the panel</strong>' in page
    assert '<strong class="record-kind">Seats held</strong>' in page
    assert "Panel sync" in page and "panel_refused" not in page

    response = client.post(f"/backoffice/reservations/{reservation.code}/", {"push_again": "1"})
    assert response.status_code == 302
    assert OutboxMessage.objects.filter(
        topic=PUSH, payload__reservation_id=reservation.pk, payload__change="again"
    ).exists()

    spanish = client.get(
        f"/backoffice/reservations/{reservation.code}/", HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    assert "Rechazada por el panel" in spanish


def test_a_reservation_of_an_activity_not_on_the_panel_has_no_panel_section(staff, make_slot):
    reservation = hold(make_slot(), 1)
    page = staff(Role.AGENT).get(f"/backoffice/reservations/{reservation.code}/").content.decode()
    assert 'data-testid="panel-sync"' not in page


# Fixed queries per page, whatever the number of rows


def test_panel_pages_run_a_fixed_number_of_queries(staff, make_activity, make_slot):
    client = staff(Role.MANAGER)
    connect()
    urls = [
        *PANEL_URLS,
        "/backoffice/",
        "/backoffice/reservations/?q=desk",
        "/backoffice/departures/",
    ]
    counts = {url: [] for url in urls}
    for rows in (1, 6):
        for index in range(ProductMapping.objects.mapped().count(), rows):
            activity = make_activity(f"trip-{index}", name=f"Trip {index}")
            mapping = panel_product(f"PNL-{index}", f"Trip {index}", activity=activity)
            panel_product(f"PNL-FREE-{index}", f"Free {index}")
            slot = make_slot(activity, starts_at=timezone.now() + timedelta(hours=3, minutes=index))
            reservation = hold(slot, 1, scope=f"c{index}")
            desk_booking(slot, mapping, seats=1, contact_name=f"desk {index}")
            failed_push(reservation)
            PanelConflict.objects.create(kind="refused", reservation=reservation, details="x")
            PanelConflict.objects.create(
                kind="oversold", slot=slot, details="y", resolved_at=timezone.now()
            )
        for url in urls:
            counts[url].append(page_queries(client, url))
    assert all(first == last for first, last in counts.values()), counts


def test_a_departure_and_its_manifest_run_a_fixed_number_of_queries(staff, mapped):
    client = staff(Role.AGENT)
    slot = mapped["slot"]
    urls = [f"/backoffice/departures/{slot.pk}/", f"/backoffice/departures/{slot.pk}/manifest/"]
    before = [page_queries(client, url) for url in urls]
    for index in range(5):
        desk_booking(slot, mapped["mapping"], seats=1, contact_name=f"desk {index}")
        hold(slot, 1, scope=f"more-{index}")
    assert [page_queries(client, url) for url in urls] == before


# The services check the same roles (not only the pages)


def panel_calls(mapped, actor) -> dict:
    mapping, reservation = mapped["mapping"], mapped["reservation"]
    unit = mapping.units.first()
    conflict = PanelConflict.objects.create(kind="refused", reservation=reservation, details="x")
    return {
        Role.OWNER: [
            lambda: panel_connect(base_url="https://elsewhere.example/octo", actor=actor),
        ],
        Role.MANAGER: [
            lambda: panel_test_connection(actor=actor),
            lambda: product_map(mapping_id=mapping.pk, activity_id=None, actor=actor),
            lambda: unit_map(unit_id=unit.pk, rate_id=None, actor=actor),
            lambda: product_import(mapping_id=mapping.pk, currency="ARS", actor=actor),
            lambda: conflict_resolve(conflict_id=conflict.pk, actor=actor),
        ],
        Role.AGENT: [lambda: panel_push_again(reservation_id=reservation.pk, actor=actor)],
    }


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER])
def test_panel_services_refuse_staff_below_the_role(mapped, role):
    actor = factories.staff(role)
    for least, calls in panel_calls(mapped, actor).items():
        if actor.membership.grants(least):
            continue
        for call in calls:
            with pytest.raises(PermissionDenied):
                call()
    assert PanelConnection.current().base_url == "http://panel.example/octo/v1"
    assert ProductMapping.objects.get(pk=mapped["mapping"].pk).activity is not None
    assert PanelConflict.objects.open().count() == 1


def test_panel_services_refuse_staff_of_another_operator(mapped, beta_operator):
    actor = factories.staff(Role.OWNER, operator=beta_operator)
    for calls in panel_calls(mapped, actor).values():
        for call in calls:
            with pytest.raises(PermissionDenied, match="not staff of alpha"):
                call()
