"""Panel sync against the OCTO panel emulator: a real process over real HTTP, Alpha's panel
key and notification token in (moto's) Secrets Manager, committed rows (pushes go out when a
change commits, as in production), and every request our client sent checked against the
OCTO spec when the test ends. The emulator and the secrets (`octo_panel`, `panel_secrets`) are
tests/conftest.py's: the backoffice's tests use them too."""

import pytest
from django_tenants.utils import tenant_context

from panel_sync.models import PanelConnection
from tests.octo_contract import assert_exchanges_conform
from tests.panel_sync.world import PANEL_SECRET_ID, PanelWorld, catalogue


@pytest.fixture
def panel(committed, octo_panel, panel_secrets, settings):
    """Alpha connected to its panel (the emulator's supplier), its boat trip mapped, and the
    panel's departures pulled once. At the end, every OCTO request of the test is checked
    against the spec."""
    settings.OPERATOR_SECRET_ID = PANEL_SECRET_ID
    octo_panel.reset()
    octo_panel.supplier(catalogue())
    world = PanelWorld(committed, octo_panel)
    world.connect_and_map()
    yield world
    octo_panel.clear_faults()
    world.quiet()
    assert_exchanges_conform(octo_panel.exchanges())


@pytest.fixture
def unconnected(committed, octo_panel, panel_secrets, settings):
    """Alpha with the panel's supplier created but no connection yet."""
    settings.OPERATOR_SECRET_ID = PANEL_SECRET_ID
    octo_panel.reset()
    octo_panel.supplier(catalogue())
    world = PanelWorld(committed, octo_panel)
    with tenant_context(committed.operator):
        assert not PanelConnection.objects.exists()
    return world
