"""Fixtures for the provider emulators' tests (no database)."""

import pytest

from tests.emulators.helpers import Receiver


@pytest.fixture(autouse=True)
def fresh_emulators(emulators):
    """Each test starts with no accounts, no objects and default behaviour."""
    emulators.reset()
    yield


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(scope="session")
def octo_server():
    """The OCTO panel emulator (one process for the session)."""
    import subprocess

    from emulators.octo_testing import running_octo_panel

    with running_octo_panel(stderr=subprocess.DEVNULL) as panel:
        yield panel


@pytest.fixture
def octo(octo_server):
    """The OCTO panel with no suppliers, bookings, counters or faults."""
    octo_server.reset()
    yield octo_server


@pytest.fixture
def panel(octo):
    """A supplier on the OCTO panel with the test catalogue (tests/emulators/octo_catalogues.py)."""
    import uuid

    from tests.emulators.octo_catalogues import Panel, catalogue

    api_key = f"octo_test_{uuid.uuid4().hex}"
    octo.supplier(catalogue(api_key, "canal-tours"))
    return Panel(octo, "canal-tours", api_key)
