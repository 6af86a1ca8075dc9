"""Changing a paid booking: new passenger counts, another departure of the same or another
activity, or both (ReservationChange).

A change that costs no more than the booking is applied at once; the caller (payments)
gives the difference back. One that costs more is pending until its difference is paid: the
seats it needs on the target departure are taken there meanwhile (`seats_held`), and the
reservation keeps its seats, lines and total. The provider's confirmation applies it
(`reservation_change_settle`); a failed payment or the end of its time releases the held
seats (`reservation_change_release`) and the booking is exactly as it was.

Lock order: the reservation row, then the change row, then the departures' rows in id order
(the one a booking leaves and the one it moves to), so that two moves crossing between the
same departures wait for each other instead of deadlocking. The payments app, which calls
these with money at stake, locks the payment intents before all of them.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from booking.emails import CHANGE_PAYMENT, CHANGED
from booking.errors import (
    BookingCutoffPassed,
    BookingError,
    DepartureClosed,
    IllegalTransition,
    InvalidPassengers,
    NotEnoughSeats,
    SalesPaused,
)
from booking.events import Change, tell_reservation_changed
from booking.extensions import sale_refusal
from booking.models import (
    Passenger,
    Reservation,
    ReservationChange,
    ReservationEvent,
    ReservationLine,
    Slot,
)
from booking.services import PricedLine, reservation_price
from outbox.services import outbox_emit
from tenants.actors import PROVIDER, STAFF, SYSTEM, TRAVELLER, Actor, actor_require
from tenants.models import Role

logger = logging.getLogger(__name__)
Kind = ReservationEvent.Kind

# How long the seats of a change that costs more stay held for the traveller to pay the
# difference (never past the departure itself): a day, since staff often change a booking on
# the phone and the traveller pays from the e-mail later.
CHANGE_PAYMENT_WINDOW = timedelta(hours=24)
# Who may change a booking from the backoffice: who may refund it (payments.refund_request).
CHANGE_ROLE = Role.OWNER


class ChangePending(BookingError):
    message = gettext_lazy(
        "This booking already has a change waiting for its payment. It must be paid or "
        "dropped first."
    )


class NothingToChange(BookingError):
    message = gettext_lazy("That is the booking as it is: nothing to change.")


class ChangeLanding(StrEnum):
    APPLIED = "applied"
    NOT_APPLIED = "not_applied"  # the change had ended: the money paid for it goes back


@dataclass(frozen=True)
class ChangeQuote:
    """What a change would cost, priced on the server from the target activity's rates."""

    reservation: Reservation
    to_slot: Slot
    lines: list[PricedLine]

    @property
    def old_total(self) -> int:
        return self.reservation.total_amount

    @property
    def new_total(self) -> int:
        return sum(line.total for line in self.lines)

    @property
    def difference(self) -> int:
        return self.new_total - self.old_total

    @property
    def refund(self) -> int:
        return max(-self.difference, 0)

    @property
    def currency(self) -> str:
        return self.reservation.currency


def change_quote(
    *, reservation: Reservation, to_slot: Slot, quantities: dict[int, int]
) -> ChangeQuote:
    """Price new counts (by rate id) on a departure for a reservation. Pure but for reading
    the rates; raises InvalidPassengers (limits, or a currency other than the booking's)."""
    lines = reservation_price(rates=list(to_slot.activity.rates.all()), quantities=quantities)
    if lines[0].rate.currency != reservation.currency:
        raise InvalidPassengers(_("A booking can only move to a departure sold in its currency."))
    quote = ChangeQuote(reservation=reservation, to_slot=to_slot, lines=lines)
    current = sorted((line.rate_id, line.quantity) for line in reservation.lines.all())
    if to_slot.pk == reservation.slot_id and current == sorted(
        (line.rate.pk, line.quantity) for line in lines
    ):
        raise NothingToChange()
    return quote


def reservation_change(
    *, quote: ChangeQuote, actor: Actor, now: datetime | None = None
) -> ReservationChange:
    """Change a paid reservation as quoted: staff (owner, as for refunds), or the traveller
    with the booking's code until the booking cut-off of its departure, to a departure open
    for online booking.

    No dearer than before: applied at once (the caller gives back the difference). Dearer:
    pending, its seats held on the target departure until the difference is paid or the
    change ends (`CHANGE_PAYMENT_WINDOW`), with an e-mail to the traveller to pay it.

    Locks: the reservation row, then the departures' rows in id order, until commit. Runs in
    the caller's transaction when there is one (payments locks the intents first).
    Raises IllegalTransition (not paid), ChangePending, DepartureClosed,
    BookingCutoffPassed, SalesPaused, NotEnoughSeats; PermissionDenied.
    """
    actor_require(actor, STAFF, TRAVELLER, role=CHANGE_ROLE)
    now = now or timezone.now()
    to_slot_id = quote.to_slot.pk
    if actor.kind == TRAVELLER and sale_refusal(to_slot_id, now):
        raise SalesPaused()
    with translation.override(quote.reservation.language):  # as the traveller reads them
        labels = [line.rate.name_i18n for line in quote.lines]
    with transaction.atomic():
        reservation = (
            Reservation.objects.locked().prefetch_related("lines").get(pk=quote.reservation.pk)
        )
        if reservation.status != Reservation.Status.PAID:
            raise IllegalTransition()
        if reservation.changes.pending().exists():
            raise ChangePending()
        slots = _lock_slots(reservation.slot_id, to_slot_id)
        source, target = slots[reservation.slot_id], slots[to_slot_id]
        _check_target(target, actor=actor, now=now)
        if actor.kind == TRAVELLER and now >= source.booking_closes_at():
            raise BookingCutoffPassed()
        change = ReservationChange(
            reservation=reservation,
            from_slot=source,
            to_slot=target,
            lines=[
                {
                    "rate": line.rate.pk,
                    "label": label,
                    "quantity": line.quantity,
                    "unit_amount": line.rate.amount,
                }
                for line, label in zip(quote.lines, labels, strict=True)
            ],
            old_total=reservation.total_amount,
            new_total=quote.new_total,
            currency=reservation.currency,
            requested_by=str(actor),
            created_at=now,
        )
        change.seats_held = _seats_to_hold(change, old_seats=reservation.seats)
        if change.seats_held > target.seats_left:
            raise NotEnoughSeats(target.seats_left)
        target.taken += change.seats_held
        if change.difference > 0:
            change.expires_at = min(now + CHANGE_PAYMENT_WINDOW, target.starts_at)
            change.save()
            target.save(update_fields=["taken"])
            _record(reservation, Kind.CHANGE_PENDING, actor, now, change)
            outbox_emit(topic=CHANGE_PAYMENT, payload={"change_id": change.pk})
        else:
            change.save()
            _apply(change, reservation, slots, actor=actor, now=now)
    return change


def _lock_slots(*slot_ids: int) -> dict[int, Slot]:
    """The departures' rows, locked one by one in id order."""
    return {
        pk: Slot.objects.locked().select_related("activity").get(pk=pk)
        for pk in sorted(set(slot_ids))
    }


def _check_target(target: Slot, *, actor: Actor, now: datetime) -> None:
    """Staff may move a booking to any open departure that has not left; the traveller only
    to one still open for online booking."""
    if not target.is_open or target.starts_at <= now:
        raise DepartureClosed()
    if actor.kind == TRAVELLER and now >= target.booking_closes_at():
        raise BookingCutoffPassed()


def _seats_to_hold(change: ReservationChange, *, old_seats: int) -> int:
    """The seats the change needs on its target beyond those the booking has there already."""
    if change.to_slot_id == change.from_slot_id:
        return max(change.seats - old_seats, 0)
    return change.seats


def _apply(
    change: ReservationChange,
    reservation: Reservation,
    slots: dict[int, Slot],
    *,
    actor: Actor,
    now: datetime,
) -> None:
    """Under the reservation's and both departures' locks: the held seats become the
    booking's, its old seats are released, its lines and total are the change's."""
    source, target = slots[change.from_slot_id], slots[change.to_slot_id]
    old_seats = reservation.seats
    target.taken -= change.seats_held
    source.taken -= old_seats
    target.taken += change.seats
    for slot in slots.values():
        slot.save(update_fields=["taken"])
    dropped = _carry_passengers(change, reservation)
    reservation.lines.all().delete()
    ReservationLine.objects.bulk_create(
        ReservationLine(
            reservation=reservation,
            rate_id=line["rate"],
            label=line["label"],
            quantity=line["quantity"],
            unit_amount=line["unit_amount"],
        )
        for line in change.lines
    )
    reservation.slot = target
    reservation.total_amount = change.new_total
    reservation.save(update_fields=["slot", "total_amount"])
    change.status = ReservationChange.Status.APPLIED
    change.seats_held = 0
    change.settled_at = now
    change.save(update_fields=["status", "seats_held", "settled_at"])
    _record(
        reservation,
        Kind.CHANGED,
        actor,
        now,
        change,
        old_seats=old_seats,
        passengers_dropped=dropped,
    )
    outbox_emit(topic=CHANGED, payload={"change_id": change.pk})
    tell_reservation_changed(reservation, Change.CHANGED)


def _carry_passengers(change: ReservationChange, reservation: Reservation) -> int:
    """The passengers' details follow the change: rate by rate, in their order, as many as
    the changed booking has seats of that rate, renumbered to its seats; the others are
    dropped (the traveller or staff enter the new ones). Returns how many were dropped."""
    waiting: dict[int, list[Passenger]] = {}
    for passenger in reservation.passengers.order_by("position"):
        waiting.setdefault(passenger.rate_id, []).append(passenger)
    seats = [line["rate"] for line in change.lines for _ in range(line["quantity"])]
    kept = []
    for position, rate_id in enumerate(seats, start=1):
        if waiting.get(rate_id):
            passenger = waiting[rate_id].pop(0)
            passenger.pk, passenger.position = None, position
            kept.append(passenger)
    dropped = sum(len(left) for left in waiting.values())
    reservation.passengers.all().delete()
    Passenger.objects.bulk_create(kept)
    return dropped


def _record(
    reservation: Reservation, kind: str, actor: Actor | str, now: datetime, change, **data
) -> None:
    ReservationEvent.objects.create(
        reservation=reservation,
        at=now,
        kind=kind,
        actor=str(actor),
        data={
            "change": change.pk,
            "from_slot": change.from_slot_id,
            "to_slot": change.to_slot_id,
            "seats": change.seats,
            "old_total": change.old_total,
            "new_total": change.new_total,
            "currency": change.currency,
            **data,
        },
    )


def reservation_change_settle(
    *, change_id: int, actor: Actor, now: datetime | None = None
) -> ChangeLanding:
    """The provider confirmed the payment of a change's difference (payments calls this from
    a verified webhook or a reconciliation): the pending change is applied. One that ended
    (released, or past its time: released now) or whose booking is no longer paid is not,
    and the caller gives the money back (NOT_APPLIED).

    Locks: the reservation row, the change row, then the departures' rows in id order. Runs
    in the caller's transaction (which holds the intent's lock)."""
    actor_require(actor, PROVIDER)
    now = now or timezone.now()
    with transaction.atomic():
        reservation, change = _lock_change(change_id)
        if change.status == ReservationChange.Status.APPLIED:
            return ChangeLanding.APPLIED
        if change.status == ReservationChange.Status.PENDING:
            if change.expires_at <= now:
                _release(change, reservation, actor=actor, now=now, reason="expired")
            elif reservation.status != Reservation.Status.PAID:
                _release(change, reservation, actor=actor, now=now, reason="not_paid")
        if change.status != ReservationChange.Status.PENDING:
            _record(reservation, Kind.CHANGE_NOT_APPLIED, actor, now, change)
            return ChangeLanding.NOT_APPLIED
        slots = _lock_slots(change.from_slot_id, change.to_slot_id)
        _apply(change, reservation, slots, actor=actor, now=now)
    return ChangeLanding.APPLIED


def reservation_change_release(
    *, change_id: int, actor: Actor, reason: str, now: datetime | None = None
) -> bool:
    """Drop a pending change: its held seats are given back and the booking stays exactly as
    it was. The provider's word that its payment failed, the system when its time ran out,
    or staff who may change bookings. Returns False when it was no longer pending.

    Locks: the reservation row, the change row, then its target departure's row."""
    actor_require(actor, PROVIDER, SYSTEM, STAFF, role=CHANGE_ROLE)
    now = now or timezone.now()
    with transaction.atomic():
        reservation, change = _lock_change(change_id)
        if change.status != ReservationChange.Status.PENDING:
            return False
        _release(change, reservation, actor=actor, now=now, reason=reason)
    return True


def _lock_change(change_id: int) -> tuple[Reservation, ReservationChange]:
    reservation_id = ReservationChange.objects.values_list("reservation_id", flat=True).get(
        pk=change_id
    )
    reservation = Reservation.objects.locked().prefetch_related("lines").get(pk=reservation_id)
    return reservation, ReservationChange.objects.locked().get(pk=change_id)


def _release(
    change: ReservationChange, reservation: Reservation, *, actor: Actor, now: datetime, reason: str
) -> None:
    target = Slot.objects.locked().get(pk=change.to_slot_id)
    target.taken -= change.seats_held
    target.save(update_fields=["taken"])
    released = change.seats_held
    change.status = ReservationChange.Status.RELEASED
    change.seats_held = 0
    change.settled_at = now
    change.save(update_fields=["status", "seats_held", "settled_at"])
    _record(reservation, Kind.CHANGE_RELEASED, actor, now, change, released=released, why=reason)


def reservation_changes_expire_overdue(*, actor: Actor, now: datetime | None = None) -> int:
    """Release every pending change past its time (the system's periodic task, with the hold
    sweep). Returns how many were released. One transaction per change, locks as
    `reservation_change_release` (re-checked under them: a payment that got there first
    wins)."""
    actor_require(actor, SYSTEM)
    now = now or timezone.now()
    released = 0
    for change_id in ReservationChange.objects.overdue(now).values_list("pk", flat=True):
        with transaction.atomic():
            reservation, change = _lock_change(change_id)
            if change.status == ReservationChange.Status.PENDING and change.expires_at <= now:
                _release(change, reservation, actor=actor, now=now, reason="expired")
                released += 1
    if released:
        logger.info("released %d booking changes whose payment did not come", released)
    return released
