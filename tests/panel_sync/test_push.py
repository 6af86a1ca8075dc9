"""Outbound: our holds, payments and releases reach the panel through the outbox, exactly
once (the emulator counts what it applied), whatever is replayed, duplicated, reordered or
lost on the way; what the panel refuses is recorded and raised to staff, never retried as if
it could change its mind."""

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from booking.models import Reservation
from booking.services import (
    reservation_cancel,
    reservation_refund,
    reservations_expire_overdue,
)
from outbox.delivery import MAX_ATTEMPTS, outbox_deliver
from outbox.models import OutboxMessage
from panel_sync.models import PanelBooking, PanelConflict
from panel_sync.services.push import ACTOR, Outcome, panel_push
from panel_sync.services.push_queue import panel_push_unheard, pushes_pending
from tests.factories import ALPHA_HOST, SYSTEM, provider, traveller
from tests.panel_sync.world import availability_id, catalogue


def test_a_hold_here_is_a_hold_at_the_panel_under_our_uuid(panel):
    slot = panel.slot()
    reservation = panel.hold(slot, 2)

    at_panel = panel.panel_booking(reservation.uuid)
    assert at_panel["status"] == "ON_HOLD"
    assert at_panel["channel"] == "api"
    assert [item["unitId"] for item in at_panel["unitItems"]] == ["adulto", "adulto"]
    assert at_panel["availabilityId"] == availability_id(3)
    assert at_panel["resellerReference"] == reservation.code
    assert panel.departure()["vacancies"] == 8
    assert panel.counts("reserve", reservation.uuid) == {"calls": 1, "applied": 1, "refused": 0}
    [booking] = panel.bookings_here(reservation)
    assert (booking.status, booking.seats) == ("ON_HOLD", 2)
    assert str(booking.uuid) == str(reservation.uuid)
    assert booking.supplier_reference == at_panel["supplierReference"]
    # The panel's hold ends when ours does (expirationMinutes = the hold left, in minutes).
    assert abs((booking.expires_at - reservation.hold_expires_at).total_seconds()) <= 60
    assert "panel_on_hold" in panel.timeline(reservation)


def test_paid_here_is_confirmed_at_the_panel_with_the_contact(panel):
    reservation = panel.hold(panel.slot(), 2)
    panel.pay(reservation)

    at_panel = panel.panel_booking(reservation.uuid)
    assert at_panel["status"] == "CONFIRMED"
    assert at_panel["contact"]["fullName"] == "Ana Viajera"
    assert at_panel["contact"]["emailAddress"] == "ana@example.com"
    assert panel.counts("reserve", reservation.uuid)["applied"] == 1
    assert panel.counts("confirm", reservation.uuid) == {"calls": 1, "applied": 1, "refused": 0}
    [booking] = panel.bookings_here(reservation)
    assert booking.status == "CONFIRMED"


def test_cancelled_expired_and_refunded_here_are_cancelled_at_the_panel(panel):
    slot = panel.slot()
    cancelled = panel.hold(slot, 1, scope="browser-a")
    expired = panel.hold(slot, 1, scope="browser-b")
    refunded = panel.hold(slot, 1, scope="browser-c")
    panel.pay(refunded)
    assert panel.departure()["vacancies"] == 7

    with tenant_context(panel.operator):
        reservation_cancel(reservation_id=cancelled.pk, actor=traveller("browser-a"))
        reservations_expire_overdue(actor=SYSTEM, now=timezone.now() + timedelta(hours=1))
        reservation_refund(reservation_id=refunded.pk, actor=provider())

    for reservation in (cancelled, expired, refunded):
        assert panel.panel_booking(reservation.uuid)["status"] == "CANCELLED"
        assert panel.counts("cancel", reservation.uuid) == {"calls": 1, "applied": 1, "refused": 0}
        assert panel.bookings_here(reservation)[-1].status == "CANCELLED"
    assert panel.departure()["vacancies"] == 10


def test_replayed_duplicated_and_reordered_pushes_change_nothing_more(panel):
    reservation = panel.hold(panel.slot(), 2)
    panel.pay(reservation)
    delivered = panel.pushes()
    assert [m.payload["change"] for m in delivered] == ["held", "paid"]
    calls_before = len(panel.octo.exchanges())

    with tenant_context(panel.operator):
        # Every message delivered again (a worker that died before recording the delivery),
        # the "held" one last (out of order), and pushes for no reason at all.
        OutboxMessage.objects.filter(topic="panel.push").update(delivered_at=None)
        for message in reversed(delivered):
            assert outbox_deliver(message_id=message.pk)
        assert panel_push(reservation_id=reservation.pk, actor=ACTOR) == Outcome.UNCHANGED

    assert panel.counts("reserve", reservation.uuid) == {"calls": 1, "applied": 1, "refused": 0}
    assert panel.counts("confirm", reservation.uuid) == {"calls": 1, "applied": 1, "refused": 0}
    assert len(panel.octo.exchanges()) == calls_before  # converged: nothing to say
    assert panel.departure()["vacancies"] == 8


def test_an_answer_lost_on_the_way_is_not_a_second_booking(panel, settings):
    """The worker dies, or the answer times out, after the panel booked: the retry names the
    same uuid and the panel's booking is taken as ours, not booked again."""
    settings.PANEL_READ_TIMEOUT = 0.3
    panel.octo.fault(slow_seconds=1.0)  # the panel answers after we stopped listening
    reservation = panel.hold(panel.slot(), 2)
    panel.octo.clear_faults()

    [message] = panel.pushes()
    assert message.delivered_at is None and message.attempts == 1
    assert "PanelUnavailable" in message.last_error
    assert panel.panel_booking(reservation.uuid, wait=5)["status"] == "ON_HOLD"  # it booked
    assert panel.bookings_here(reservation) == []  # we never heard it

    # Meanwhile the hold was extended here (a provider session is open): the retry asks for
    # another expiry, so the panel says the uuid is taken, and we ask it what it holds.
    with tenant_context(panel.operator):
        Reservation.objects.filter(pk=reservation.pk).update(
            hold_expires_at=F("hold_expires_at") + timedelta(minutes=10)
        )
    later = timezone.now() + timedelta(minutes=5)
    assert panel.deliver_due(later) == [True]
    [booking] = panel.bookings_here(reservation)
    assert booking.status == "ON_HOLD"
    assert panel.counts("reserve", reservation.uuid) == {"calls": 2, "applied": 1, "refused": 1}
    assert panel.departure()["vacancies"] == 8


def test_a_panel_down_for_a_while_gets_every_push_once_when_it_is_back(panel):
    slot = panel.slot()
    panel.octo.stop()  # connections refused
    try:
        held = panel.hold(slot, 1, scope="browser-a")
        paid = panel.hold(slot, 2, scope="browser-b")
        panel.pay(paid)
        cancelled = panel.hold(slot, 1, scope="browser-c")
        with tenant_context(panel.operator):
            reservation_cancel(reservation_id=cancelled.pk, actor=traveller("browser-c"))
        first_retry = timezone.now() + timedelta(seconds=31)
        # Still down: the live ones fail again; the cancelled one's hold is no longer wanted.
        assert panel.deliver_due(first_retry) == [False, False, False, True]
    finally:
        panel.octo.start()

    waiting = [m for m in panel.pushes() if m.delivered_at is None]
    assert [m.payload["change"] for m in waiting] == ["held", "held", "paid"]
    assert {m.attempts for m in waiting} == {2}
    assert all("PanelUnavailable" in m.last_error for m in waiting)
    assert panel.deliver_due(timezone.now() + timedelta(minutes=10)) == [True] * 3

    assert panel.panel_booking(held.uuid)["status"] == "ON_HOLD"
    assert panel.panel_booking(paid.uuid)["status"] == "CONFIRMED"
    assert panel.counts("reserve", held.uuid)["applied"] == 1
    assert panel.counts("reserve", paid.uuid)["applied"] == 1
    assert panel.counts("confirm", paid.uuid)["applied"] == 1
    # Cancelled before the panel ever heard of it: nothing to book, nothing to cancel.
    assert panel.counts("reserve", cancelled.uuid)["calls"] == 0
    assert panel.counts("cancel", cancelled.uuid)["calls"] == 0
    assert panel.departure()["vacancies"] == 7


def test_a_push_given_up_stays_in_the_outbox_for_staff(panel):
    panel.octo.fault(down=True)
    reservation = panel.hold(panel.slot(), 1)
    now = timezone.now()
    for attempt in range(2, MAX_ATTEMPTS + 1):
        now += timedelta(hours=2)
        assert panel.deliver_due(now) == [False], attempt
    [message] = panel.pushes()
    assert message.failed_at is not None and message.attempts == MAX_ATTEMPTS
    with tenant_context(panel.operator):
        assert list(pushes_pending()) == [message]
        assert Reservation.objects.get(pk=reservation.pk).status == "held"  # still sold here

    # What each pull does afterwards: the hold is queued once more (one push at most waits per
    # reservation), and once the panel answers it lands, once.
    with tenant_context(panel.operator), transaction.atomic():
        assert panel_push_unheard(actor=SYSTEM) == 1
        assert panel_push_unheard(actor=SYSTEM) == 0
    panel.octo.clear_faults()
    assert panel.deliver_due(timezone.now() + timedelta(minutes=1)) == [True]
    assert panel.pull().unheard == 0
    assert panel.panel_booking(reservation.uuid)["status"] == "ON_HOLD"
    assert panel.counts("reserve", reservation.uuid)["applied"] == 1
    with tenant_context(panel.operator):
        assert list(pushes_pending()) == [message]  # still listed for staff: it did give up


def test_what_was_sold_before_the_activity_was_mapped_reaches_the_panel_at_the_next_pull(panel):
    from panel_sync.services.catalogue import product_map
    from tenants.models import Role
    from tests import factories

    slot = panel.slot()
    with tenant_context(panel.operator):
        manager = factories.staff(Role.MANAGER)
        product_map(mapping_id=panel.mapping().pk, activity_id=None, actor=manager)
    held = panel.hold(slot, 2, scope="browser-a")
    paid = panel.hold(slot, 1, scope="browser-b")
    panel.pay(paid)
    cancelled = panel.hold(slot, 1, scope="browser-c")
    with tenant_context(panel.operator):
        reservation_cancel(reservation_id=cancelled.pk, actor=traveller("browser-c"))
    assert panel.pushes() == []  # not mapped: nothing to tell

    with tenant_context(panel.operator):
        product_map(mapping_id=panel.mapping().pk, activity_id=panel.activity.pk, actor=manager)
    assert panel.pull().unheard == 2

    assert panel.panel_booking(held.uuid)["status"] == "ON_HOLD"
    assert panel.panel_booking(paid.uuid)["status"] == "CONFIRMED"
    assert panel.counts("reserve", cancelled.uuid)["calls"] == 0
    assert panel.departure()["vacancies"] == 10 - 3
    assert panel.pull().unheard == 0


def test_a_hold_the_panel_refuses_is_released_here_before_the_traveller_pays(panel):
    """The panel is master of what it sold: a hold it has no seats for gives its seats back
    here at once, and the traveller is told, rather than paying for seats that are gone."""
    slot = panel.slot()
    panel.desk(adults=9)  # sold at the desk since our last pull: we still see 10 seats
    reservation = panel.hold(slot, 2)

    held, released = panel.pushes()
    assert held.delivered_at is not None and held.attempts == 1  # not retried
    assert released.payload["change"] == "cancelled" and released.delivered_at is not None
    [booking] = panel.bookings_here(reservation)
    assert booking.status == "REFUSED"
    assert booking.error_code == "UNPROCESSABLE_ENTITY"
    assert "sold out" in booking.error_message
    assert panel.timeline(reservation) == [
        "held",
        "panel_refused",
        "sold_elsewhere",
        "panel_conflict_settled",
    ]
    assert panel.reload(slot).taken == 0
    with tenant_context(panel.operator):
        reservation.refresh_from_db()
        assert reservation.status == "cancelled" and reservation.was_sold_elsewhere()
        [conflict] = PanelConflict.objects.all()
        assert conflict.kind == "refused" and conflict.reservation_id == reservation.pk
        assert conflict.get_kind_display() == "Sold here, refused by the panel"
        assert "sold out" in conflict.details
        assert conflict.resolved_by == "panel sync"  # settled by the release
    assert panel.counts("reserve", reservation.uuid) == {"calls": 1, "applied": 0, "refused": 1}
    assert panel.counts("cancel", reservation.uuid)["calls"] == 0  # never booked there
    page = Client(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE="en").get(
        reservation.get_absolute_url()
    )
    assert "sold through another channel a moment before you" in page.content.decode()

    # Paid all the same (a checkout was already open): the seats are free here, so the payment
    # takes them again; the panel is asked again, refuses again, and staff get the conflict.
    panel.pay(reservation)
    assert panel.counts("reserve", reservation.uuid)["refused"] == 2
    with tenant_context(panel.operator):
        [conflict] = PanelConflict.objects.open()
        assert conflict.data["status"] == "paid"
        assert Reservation.objects.get(pk=reservation.pk).status == "paid"


def test_a_refused_booking_the_panel_takes_later_settles_its_conflict(panel):
    slot = panel.slot()
    desk = panel.desk(adults=9)
    reservation = panel.hold(slot, 2)
    assert panel.bookings_here(reservation)[0].status == "REFUSED"

    panel.octo.desk_cancel("alpha-panel", desk["uuid"])  # seats free again at the panel
    panel.pay(reservation)

    assert panel.panel_booking(reservation.uuid)["status"] == "CONFIRMED"
    [booking] = panel.bookings_here(reservation)
    assert booking.status == "CONFIRMED"
    with tenant_context(panel.operator):
        assert not PanelConflict.objects.open().exists()
        assert PanelConflict.objects.get().resolved_by == "panel sync"
    assert "panel_conflict_settled" in panel.timeline(reservation)


def test_a_payment_after_the_panels_hold_ran_out_books_it_again_under_a_new_uuid(panel):
    reservation = panel.hold(panel.slot(), 2)
    panel.octo.advance_clock(3600)  # the panel's hold expires (ours is still running here)
    panel.pay(reservation)

    first, second = panel.bookings_here(reservation)
    assert (first.status, second.status) == ("EXPIRED", "CONFIRMED")
    assert str(first.uuid) == str(reservation.uuid) and second.uuid != first.uuid
    assert panel.panel_booking(second.uuid)["status"] == "CONFIRMED"
    assert panel.counts("reserve", second.uuid)["applied"] == 1
    assert panel.counts("confirm", second.uuid)["applied"] == 1
    assert panel.departure()["vacancies"] == 8


def test_a_key_the_panel_refuses_is_retried_not_taken_for_a_refused_booking(panel):
    panel.octo.supplier(catalogue(api_key="rotated-at-the-panel"))
    reservation = panel.hold(panel.slot(), 1)

    [message] = panel.pushes()
    assert message.delivered_at is None and "FORBIDDEN" in message.last_error
    assert panel.bookings_here(reservation) == []
    with tenant_context(panel.operator):
        assert not PanelConflict.objects.exists()


def test_nothing_is_pushed_without_an_enabled_connection_or_a_mapped_activity(panel):
    other = panel.committed.slot(capacity=5)  # the "race" activity: not mapped
    panel.hold(other, 1)
    assert panel.pushes() == []

    panel.connect(enabled=False)
    panel.hold(panel.slot(), 1)
    assert panel.pushes() == []
    with tenant_context(panel.operator):
        assert not PanelBooking.objects.exists()


def test_two_deliveries_for_one_reservation_at_once_speak_to_the_panel_one_after_the_other(
    panel,
):
    """Two workers deliver the hold's and the payment's pushes at the same moment: one waits
    for the other's turn (no row lock is held meanwhile), then finds the panel agreeing."""
    panel.octo.fault(down=True)
    reservation = panel.hold(panel.slot(), 2)
    panel.pay(reservation)
    held, paid = panel.pushes()
    panel.octo.clear_faults()
    panel.octo.fault(slow_seconds=0.4)
    later = timezone.now() + timedelta(minutes=5)

    delivered = panel.committed.run_concurrently(
        2, lambda index: outbox_deliver(message_id=(held, paid)[index].pk, now=later)
    )

    assert delivered == [True, True]
    assert panel.counts("reserve", reservation.uuid) == {"calls": 1, "applied": 1, "refused": 0}
    assert panel.counts("confirm", reservation.uuid) == {"calls": 1, "applied": 1, "refused": 0}
    assert panel.panel_booking(reservation.uuid)["status"] == "CONFIRMED"


def test_a_rate_not_mapped_is_refused_here_and_pushed_again_once_staff_map_it(panel):
    from booking.services import Contact, PricedLine, reservation_hold
    from panel_sync.models import UnitMapping
    from panel_sync.services.catalogue import unit_map
    from panel_sync.services.push_queue import panel_push_again
    from tenants.models import Role
    from tests import factories

    with tenant_context(panel.operator):
        child = UnitMapping.objects.get(panel_unit_id="menor")
        unit_map(unit_id=child.pk, rate_id=None, actor=factories.staff(Role.MANAGER))
        rate = panel.activity.rates.get(code="child")
        reservation = reservation_hold(
            slot_id=panel.slot().pk,
            lines=[PricedLine(rate=rate, quantity=2)],
            contact=Contact(name="Ana Viajera", email="ana@example.com"),
            actor=traveller(),
            language="es",
        )
    [booking] = panel.bookings_here(reservation)
    assert (booking.status, booking.error_code) == ("REFUSED", "UNMAPPED_RATE")
    assert panel.counts("reserve", reservation.uuid)["calls"] == 0  # never asked the panel

    with tenant_context(panel.operator):
        unit_map(unit_id=child.pk, rate_id=rate.pk, actor=factories.staff(Role.MANAGER))
        panel_push_again(reservation_id=reservation.pk, actor=factories.staff(Role.AGENT))
        assert not PanelConflict.objects.open().exists()
    assert [i["unitId"] for i in panel.panel_booking(reservation.uuid)["unitItems"]] == [
        "menor",
        "menor",
    ]
    assert panel.bookings_here(reservation)[0].status == "ON_HOLD"
