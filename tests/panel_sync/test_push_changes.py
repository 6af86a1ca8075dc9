"""A booking changed here (booking.changes) is changed at the panel: `PATCH /bookings/{uuid}`
with the departure and unit items it has now, through the outbox; what the panel refuses is
recorded and raised to staff, the panel's booking left as it was. Every request is checked
against the OCTO spec by the `panel` fixture."""

from django_tenants.utils import tenant_context

from booking.changes import change_quote, reservation_change, reservation_change_settle
from booking.models import Reservation
from panel_sync.models import PanelConflict
from tenants.models import Role
from tests.factories import provider, staff
from tests.panel_sync.world import availability_id


def change(panel, reservation, to_slot, adults=0, children=0):
    with tenant_context(panel.operator):
        reservation = Reservation.objects.get(pk=reservation.pk)
        adult, child = to_slot.activity.rates.all()
        quote = change_quote(
            reservation=reservation,
            to_slot=to_slot,
            quantities={adult.pk: adults, child.pk: children},
        )
        return reservation_change(quote=quote, actor=staff(Role.OWNER))


def paid(panel, slot, seats):
    reservation = panel.hold(slot, seats)
    panel.pay(reservation)
    assert panel.panel_booking(reservation.uuid)["status"] == "CONFIRMED"
    return reservation


def test_a_move_here_moves_the_booking_at_the_panel(panel):
    reservation = paid(panel, panel.slot(), 2)

    done = change(panel, reservation, panel.slot(3, "15:00"), adults=2)

    assert done.status == "applied"
    at_panel = panel.panel_booking(reservation.uuid)
    assert at_panel["status"] == "CONFIRMED"
    assert at_panel["availabilityId"] == availability_id(3, "15:00")
    assert [item["unitId"] for item in at_panel["unitItems"]] == ["adulto", "adulto"]
    assert panel.counts("patch", reservation.uuid) == {"calls": 1, "applied": 1, "refused": 0}
    assert panel.departure()["vacancies"] == 10
    assert panel.departure(3, "15:00")["vacancies"] == 8
    [booking] = panel.bookings_here(reservation)
    assert (booking.status, booking.seats) == ("CONFIRMED", 2)
    assert "panel_updated" in panel.timeline(reservation)


def test_new_counts_reach_the_panel_once_the_difference_is_paid(panel):
    reservation = paid(panel, panel.slot(), 2)

    pending = change(panel, reservation, panel.slot(), adults=2, children=1)

    assert panel.counts("patch", reservation.uuid)["calls"] == 0  # nothing changed yet
    with tenant_context(panel.operator):
        reservation_change_settle(change_id=pending.pk, actor=provider())
    at_panel = panel.panel_booking(reservation.uuid)
    assert sorted(item["unitId"] for item in at_panel["unitItems"]) == [
        "adulto",
        "adulto",
        "menor",
    ]
    assert panel.departure()["vacancies"] == 7
    assert panel.bookings_here(reservation)[0].seats == 3


def test_a_move_the_panel_refuses_is_raised_and_leaves_its_booking_as_it_was(panel):
    reservation = paid(panel, panel.slot(), 2)
    panel.desk(3, "15:00", adults=9)  # sold at the desk, not pulled here yet

    change(panel, reservation, panel.slot(3, "15:00"), adults=2)

    at_panel = panel.panel_booking(reservation.uuid)
    assert at_panel["availabilityId"] == availability_id(3)
    assert panel.counts("patch", reservation.uuid)["refused"] == 1
    with tenant_context(panel.operator):
        conflict = PanelConflict.objects.get(reservation=reservation)
        assert conflict.kind == PanelConflict.Kind.REFUSED
    assert "panel_refused" in panel.timeline(reservation)
