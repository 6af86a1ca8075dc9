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
