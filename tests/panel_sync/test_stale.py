"""Degraded mode: by default a panel that does not answer leaves us selling from the last
known seats; with the operator's stale-after setting, a departure the panel has not been heard
from about for that long is not sold online until the next pull that reaches it."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from booking.errors import SalesPaused
from booking.models import Reservation, Slot
from tests.panel_sync.world import start


def test_without_the_setting_an_old_pull_does_not_stop_sales(panel):
    panel.hold(panel.slot(), 1, now=timezone.now() + timedelta(days=1))


def test_with_the_setting_a_departure_not_heard_from_is_not_sold_until_the_next_pull(panel):
    panel.connect(stale_after_minutes=10)
    slot = panel.slot()
    panel.hold(slot, 1, now=timezone.now() + timedelta(minutes=9))
    with pytest.raises(SalesPaused):
        panel.hold(slot, 1, scope="client-2", now=timezone.now() + timedelta(minutes=11))

    panel.octo.fault(down=True)
    assert not panel.pull().ok
    with pytest.raises(SalesPaused):
        panel.hold(slot, 1, scope="client-2", now=timezone.now() + timedelta(minutes=11))
    panel.octo.clear_faults()
    assert panel.pull().ok
    panel.hold(slot, 1, scope="client-2", now=timezone.now() + timedelta(minutes=9))
    with tenant_context(panel.operator):
        assert Reservation.objects.filter(slot=slot).count() == 2


def test_with_the_setting_a_departure_the_panel_never_listed_is_not_sold(panel):
    panel.connect(stale_after_minutes=10)
    with tenant_context(panel.operator):
        only_here = Slot.objects.create(activity=panel.activity, starts_at=start(9), capacity=5)
        not_mapped = panel.committed.slot(capacity=5)  # another activity: not the panel's
    with pytest.raises(SalesPaused):
        panel.hold(only_here, 1)
    panel.hold(not_mapped, 1)
