"""Inbound: the panel's word on its departures (capacity, closures, new ones, prices) and its
own bookings reach us by the pull; the panel is the master of what it sold, we stay the
master of what we sold, and a panel that does not answer changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.models import AuditEntry
from booking.errors import NotEnoughSeats
from booking.models import Rate, Reservation, Slot
from panel_sync.models import (
    AvailabilityMapping,
    ExternalBooking,
    PanelConflict,
    PanelConnection,
)
from tests.panel_sync.world import PRODUCT, SUPPLIER, availability_id, start


def test_the_first_pull_brings_the_panels_departures(panel):
    with tenant_context(panel.operator):
        slots = list(Slot.objects.filter(activity=panel.activity).order_by("starts_at"))
        assert [(s.starts_at, s.capacity, s.taken_elsewhere, s.is_open) for s in slots] == [
            (start(3), 10, 0, True),
            (start(3, "15:00"), 10, 0, True),
            (start(5), 4, 0, True),
            (start(6), 8, 0, False),  # closed at the panel
        ]
        mapped = AvailabilityMapping.objects.get(slot=slots[0])
        assert (mapped.panel_availability_id, mapped.vacancies) == (availability_id(3), 10)
        connection = PanelConnection.current()
        assert connection.last_pull_at is not None and connection.last_error == ""
        assert connection.capabilities == ["octo/pricing", "octo/content"]
        assert AuditEntry.objects.filter(action="departure_created").count() == 4


def test_desk_bookings_count_as_taken_elsewhere_and_appear_read_only(panel):
    slot = panel.slot()
    ours = panel.hold(slot, 2)  # pushed: the panel counts it too
    desk = panel.desk(adults=3, contact={"fullName": "Juan Mostrador"})
    panel.desk(adults=1, status="ON_HOLD")

    result = panel.pull()

    assert result.ok
    slot = panel.reload(slot)
    assert (slot.capacity, slot.taken, slot.taken_elsewhere, slot.seats_left) == (10, 2, 4, 4)
    with tenant_context(panel.operator):
        rows = {row.supplier_reference: row for row in ExternalBooking.objects.all()}
        assert len(rows) == 2  # ours is not one of them
        confirmed = rows[desk["supplierReference"]]
        assert (confirmed.status, confirmed.seats, confirmed.slot_id) == ("CONFIRMED", 3, slot.pk)
        assert confirmed.contact_name == "Juan Mostrador"
        assert confirmed.units == [
            {"unit_id": "adulto", "type": "ADULT", "name": "Adulto", "quantity": 3}
        ]
        assert not ExternalBooking.objects.filter(panel_uuid=ours.uuid).exists()


def test_a_desk_hold_that_lapses_or_is_confirmed_is_seen_on_the_next_pull(panel):
    held = panel.desk(adults=2, status="ON_HOLD", expirationMinutes=5)
    confirmed_later = panel.desk(adults=1, status="ON_HOLD")
    panel.pull()
    panel.octo.desk_confirm(SUPPLIER, confirmed_later["uuid"])
    panel.octo.advance_clock(6 * 60)  # the first desk hold runs out

    panel.pull()

    with tenant_context(panel.operator):
        status = dict(ExternalBooking.objects.values_list("supplier_reference", "status"))
    assert status == {
        held["supplierReference"]: "EXPIRED",
        confirmed_later["supplierReference"]: "CONFIRMED",
    }
    assert panel.reload(panel.slot()).taken_elsewhere == 1


def test_capacity_changes_closures_new_departures_and_prices_come_with_the_pull(panel):
    octo = panel.octo
    octo.set_capacity(SUPPLIER, PRODUCT, availability_id(3), 6)
    octo.close(SUPPLIER, PRODUCT, availability_id(3, "15:00"))
    octo.reopen(SUPPLIER, PRODUCT, availability_id(6))
    octo.add_departure(SUPPLIER, PRODUCT, start(7, "18:30").isoformat()[:16], 12)
    octo.set_price(SUPPLIER, PRODUCT, "adulto", 12_500_00)

    result = panel.pull()

    assert result.ok and result.created == 1 and result.prices == 1
    assert panel.reload(panel.slot()).capacity == 6
    assert panel.reload(panel.slot(3, "15:00")).is_open is False
    assert panel.reload(panel.slot(6)).is_open is True
    new = panel.slot(7, "18:30")
    assert (new.capacity, new.is_open, new.taken_elsewhere) == (12, True, 0)
    with tenant_context(panel.operator):
        assert Rate.objects.get(activity=panel.activity, code="adult").amount == 12_500_00
        assert Rate.objects.get(activity=panel.activity, code="child").amount == 5_000_00
        entry = AuditEntry.objects.get(action="price_changed")
        assert entry.actor == "test" and entry.data["to"] == {"amount": 12_500_00}


def test_the_panel_never_takes_back_seats_sold_here(panel):
    slot = panel.slot()
    panel.hold(slot, 4)
    panel.octo.set_capacity(SUPPLIER, PRODUCT, availability_id(3), 3)  # below what it holds

    panel.pull()

    slot = panel.reload(slot)
    assert (slot.capacity, slot.taken, slot.taken_elsewhere) == (4, 4, 0)


def test_sold_on_both_sides_beyond_the_capacity_is_raised_to_staff(panel):
    slot = panel.slot(5)  # 4 seats
    panel.octo.stop()
    try:
        ours = panel.hold(slot, 3)  # the push waits: the panel is down
    finally:
        panel.octo.start()
    panel.desk(offset=5, adults=3)  # the desk sold 3 of the 4 meanwhile

    panel.pull()

    slot = panel.reload(slot)
    assert (slot.capacity, slot.taken, slot.taken_elsewhere, slot.seats_left) == (4, 3, 1, 0)
    with tenant_context(panel.operator):
        [conflict] = PanelConflict.objects.open()
        assert (conflict.kind, conflict.slot_id) == ("oversold", slot.pk)
        assert conflict.data == {"capacity": 4, "here": 3, "panel": 3, "oversold": 2}
    # Our push, once delivered, is refused by the panel: the hold is given back here (the
    # traveller is told), which settles its conflict; the next pull finds nothing sold twice.
    assert panel.deliver_due(timezone.now() + timedelta(minutes=1)) == [True]
    assert panel.bookings_here(ours)[0].status == "REFUSED"
    panel.pull()
    with tenant_context(panel.operator):
        assert Reservation.objects.get(pk=ours.pk).was_sold_elsewhere()
        assert not PanelConflict.objects.open().exists()
        assert set(PanelConflict.objects.values_list("kind", "resolved_by")) == {
            ("oversold", "test"),  # the pull's actor
            ("refused", "panel sync"),
        }
    slot = panel.reload(slot)
    assert (slot.taken, slot.taken_elsewhere) == (0, 3)


def test_a_panel_down_changes_nothing_and_we_keep_selling(panel):
    slot = panel.slot()
    panel.desk(adults=3)
    panel.pull()
    with tenant_context(panel.operator):
        pulled_at = PanelConnection.current().last_pull_at
    panel.desk(adults=2)
    panel.octo.fault(down=True)

    result = panel.pull()

    assert not result.ok and "not answering" in result.error
    with tenant_context(panel.operator):
        connection = PanelConnection.current()
        assert connection.last_pull_at == pulled_at
        assert connection.last_error_at is not None and "not answering" in connection.last_error
    assert panel.reload(slot).taken_elsewhere == 3  # the last known seats
    panel.hold(slot, 7)  # still selling from them, and not beyond
    with pytest.raises(NotEnoughSeats):
        panel.hold(slot, 1, scope="client-2")


def test_a_panel_answering_server_errors_changes_nothing(panel):
    slot = panel.slot()
    panel.octo.set_capacity(SUPPLIER, PRODUCT, availability_id(3), 7)
    panel.octo.fault(fail_next=1, fail_status=503)
    assert not panel.pull().ok
    assert panel.reload(slot).capacity == 10
    panel.octo.fault(fail_next=0)
    assert panel.pull().ok
    assert panel.reload(slot).capacity == 7


def test_an_unmapped_product_is_listed_for_staff_and_not_synced(panel):
    trek = panel.mapping("PNL-TREK")
    assert trek.activity_id is None and str(trek) == "Trekking Glaciar Martial"
    with tenant_context(panel.operator):
        assert [u.unit_type for u in trek.units.all()] == ["ADULT"]
        assert not AvailabilityMapping.objects.filter(product=trek).exists()


def test_every_minute_each_operator_with_an_enabled_panel_is_pulled_once_at_a_time(panel):
    from huey.contrib.djhuey import HUEY

    from panel_sync.tasks import pull_operator, pull_panels

    panel.octo.set_capacity(SUPPLIER, PRODUCT, availability_id(3), 6)
    with HUEY.lock_task("panel_pull:alpha"):  # a pull of Alpha still running
        assert pull_operator.call_local("alpha") is False
    assert panel.reload(panel.slot()).capacity == 10

    pull_panels.call_local()

    assert panel.reload(panel.slot()).capacity == 6
