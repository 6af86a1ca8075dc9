"""The connection, set up by an owner and tested against the panel (GET /supplier, GET
/products), and the mapping of the panel's catalogue to ours: suggested by name, or a panel
product imported as a new activity in one step. OCTO's errors read as staff messages."""

import re
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation
from django_tenants.utils import tenant_context

from booking.models import Activity, Slot
from panel_sync.models import PanelConnection, ProductMapping, UnitMapping
from panel_sync.octo import STAFF_MESSAGES, PanelError
from panel_sync.services.catalogue import (
    activity_suggestions,
    product_import,
    product_map,
    unit_map,
)
from panel_sync.services.connection import panel_connect, panel_test_connection
from tenants.models import Role
from tests import factories
from tests.panel_sync.world import SUPPLIER, catalogue, start

SPEC = Path(__file__).resolve().parents[2] / "docs" / "octo" / "openapi.yaml"


def test_an_owner_connects_and_the_test_lists_what_the_panel_sells(unconnected):
    with tenant_context(unconnected.operator):
        with pytest.raises(PermissionDenied):
            panel_connect(base_url="http://x", actor=factories.staff(Role.MANAGER))
        panel_connect(base_url=unconnected.octo.api_url + "/", actor=factories.staff(Role.OWNER))
        tested = panel_test_connection(actor=factories.staff(Role.MANAGER))

        assert tested.ok and tested.products == 2
        connection = PanelConnection.current()
        assert connection.base_url == unconnected.octo.api_url
        assert (connection.supplier_id, connection.supplier_name) == (SUPPLIER, "Alpha's panel")
        assert connection.capabilities == ["octo/pricing", "octo/content"]
        assert connection.sync_window_days == 120 and connection.stale_after_minutes is None
        listed = {(m.panel_product_id, m.activity_id) for m in ProductMapping.objects.all()}
        assert listed == {("PNL-BOAT", None), ("PNL-TREK", None)}  # listed, not mapped
        boat = ProductMapping.objects.get(panel_product_id="PNL-BOAT")
        assert (boat.time_zone, boat.currency, boat.duration_minutes) == (
            "America/Argentina/Ushuaia",
            "ARS",
            120,
        )
        units = {(u.panel_unit_id, u.unit_type, u.panel_amount) for u in boat.units.all()}
        assert units == {("adulto", "ADULT", 10_000_00), ("menor", "CHILD", 5_000_00)}


def test_a_failed_test_says_why_in_the_staffs_words(unconnected, settings):
    unconnected.octo.supplier(catalogue(api_key="another-key"))
    unconnected.connect()
    with tenant_context(unconnected.operator), translation.override("es"):
        tested = panel_test_connection(actor=factories.staff(Role.MANAGER))
        assert not tested.ok
        assert "clave" in tested.message and "FORBIDDEN" in tested.message
        assert "FORBIDDEN" in PanelConnection.current().last_error

        unconnected.octo.fault(down=True)
        tested = panel_test_connection(actor=factories.staff(Role.MANAGER))
        assert not tested.ok and "no responde" in tested.message
        unconnected.octo.clear_faults()

        settings.OPERATOR_SECRET_ID = "andes-booking/nobody/{schema}"
        tested = panel_test_connection(actor=factories.staff(Role.MANAGER))
        assert not tested.ok and "no tiene clave de API del panel" in tested.message
        assert not ProductMapping.objects.exists()


def test_mapping_suggests_by_name_and_maps_units_by_type(unconnected):
    unconnected.connect()
    with tenant_context(unconnected.operator):
        panel_test_connection(actor=factories.staff(Role.MANAGER))
        boat = ProductMapping.objects.get(panel_product_id="PNL-BOAT")
        look_alike = factories.activity("canal", name="Navegación por el Canal Beagle")
        factories.activity("other", name="Cabalgata")
        assert activity_suggestions(boat) == [look_alike]

        product_map(
            mapping_id=boat.pk, activity_id=look_alike.pk, actor=factories.staff(Role.MANAGER)
        )

        rates = dict(
            UnitMapping.objects.filter(product=boat).values_list("panel_unit_id", "rate__code")
        )
        assert rates == {"adulto": "adult", "menor": "child"}
        trip = factories.activity("trip")
        with pytest.raises(ValueError):
            unit_map(
                unit_id=UnitMapping.objects.get(product=boat, panel_unit_id="adulto").pk,
                rate_id=trip.rates.first().pk,
                actor=factories.staff(Role.MANAGER),
            )
        with pytest.raises(PermissionDenied):
            product_map(mapping_id=boat.pk, activity_id=None, actor=factories.staff(Role.AGENT))


def test_a_panel_product_is_imported_as_an_activity_in_one_step(panel):
    trek = panel.mapping("PNL-TREK")
    with tenant_context(panel.operator):
        activity = product_import(
            mapping_id=trek.pk, currency="ARS", actor=factories.staff(Role.MANAGER)
        )
        assert (activity.name, activity.slug) == (
            "Trekking Glaciar Martial",
            "trekking-glaciar-martial",
        )
        assert [(r.code, r.name, r.amount, r.currency) for r in activity.rates.all()] == [
            ("adult", "Adulto", 6_000_000, "ARS")
        ]
        assert ProductMapping.objects.get(pk=trek.pk).activity == activity
    panel.pull()
    with tenant_context(panel.operator):
        assert list(
            Slot.objects.filter(activity=activity).values_list("starts_at", "capacity")
        ) == [(start(4), 6)]
        assert Activity.objects.filter(panel_mapping__isnull=False).count() == 2


def test_every_octo_error_code_of_the_spec_has_a_staff_message():
    codes = set(re.findall(r"error: ([A-Z_]+)", SPEC.read_text()))
    assert codes and codes <= set(STAFF_MESSAGES)
    for code in codes:
        error = PanelError(code, "their words")
        english = error.staff_message
        assert english == str(STAFF_MESSAGES[code])
        for language in ("es", "pt-br"):
            with translation.override(language):
                assert error.staff_message != english, (code, language)
    assert PanelError("SOMETHING_NEW").staff_message == "The panel answered with an error."
