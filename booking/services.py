"""Writes that take seats, release them, or span several rows.

Lock order, everywhere: reservation rows (by id) before the slot row. A hold locks only
its slot (the reservation is new). Seats change nowhere else.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from booking.emails import CONFIRMATION
from booking.errors import (
    BookingCutoffPassed,
    DepartureClosed,
    IdempotencyKeyInUse,
    IllegalTransition,
    InvalidPassengers,
    NotEnoughSeats,
    SalesPaused,
)
from booking.events import Change, tell_reservation_changed
from booking.extensions import sale_refusal
from booking.models import (
    Activity,
    IdempotencyKey,
    Rate,
    Reservation,
    ReservationEvent,
    ReservationLine,
    Slot,
    new_reservation_code,
)
from outbox.services import outbox_emit
from tenants.actors import PROVIDER, STAFF, SYSTEM, TRAVELLER, Actor, actor_require
from tenants.models import Role

logger = logging.getLogger(__name__)

DEFAULT_HOLD_MINUTES = 15


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    phone: str = ""


@dataclass(frozen=True)
class IdempotencyClaim:
    """What a request with an idempotency key claims: stored in the hold's own transaction."""

    scope: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class PricedLine:
    rate: Rate
    quantity: int

    @property
    def total(self) -> int:
        return self.rate.amount * self.quantity


def reservation_price(*, rates: list[Rate], quantities: Mapping[int, int]) -> list[PricedLine]:
    """The lines of a booking from passenger counts by rate id, checked against each rate's
    minimum and maximum. Pure: no database access, no lock."""
    lines = []
    for rate in rates:
        quantity = quantities.get(rate.pk, 0)
        if not rate.min_per_booking <= quantity <= rate.max_per_booking:
            raise InvalidPassengers(_passenger_limit_message(rate))
        if quantity:
            lines.append(PricedLine(rate=rate, quantity=quantity))
    if not lines:
        raise InvalidPassengers()
    currencies = {line.rate.currency for line in lines}
    if len(currencies) != 1:
        raise InvalidPassengers(_("Rates of one booking must share a currency."))
    return lines


def _passenger_limit_message(rate: Rate) -> str:
    return _("%(rate)s: between %(min)d and %(max)d per booking.") % {
        "rate": rate.name_i18n,
        "min": rate.min_per_booking,
        "max": rate.max_per_booking,
    }


def _hold_minutes(activity: Activity) -> int:
    """The activity's own hold time, else the operator's."""
    return activity.hold_minutes or getattr(connection.tenant, "hold_minutes", DEFAULT_HOLD_MINUTES)


def reservation_hold(
    *,
    slot_id: int,
    lines: list[PricedLine],
    contact: Contact,
    actor: Actor,
    language: str,
    idempotency: IdempotencyClaim | None = None,
    now: datetime | None = None,
) -> Reservation:
    """Take the seats of `lines` on the slot and create a `held` reservation, owned by the
    traveller's client scope.

    Locks: the slot row (SELECT ... FOR NO KEY UPDATE), held until commit, and only for the
    seat check and update: pricing and validation come before the transaction, and the
    reservation's rows are written before the lock is taken (a refusal rolls them back). The
    idempotency row is inserted first, so a concurrent duplicate waits on its unique index
    and then fails with IdempotencyKeyInUse, without touching the slot.

    Raises DepartureClosed, BookingCutoffPassed, NotEnoughSeats, IdempotencyKeyInUse, and
    SalesPaused when a sale guard registered by another app holds the departure back (asked
    before the transaction: a guard is about time, not seats).
    """
    actor_require(actor, TRAVELLER)
    now = now or timezone.now()
    if reason := sale_refusal(slot_id, now):
        logger.info("departure %s held back from sale: %s", slot_id, reason)
        raise SalesPaused()
    seats = sum(line.quantity for line in lines)
    # The lines' rates come from the departure's activity (already at hand: no query).
    hold_expires_at = now + timedelta(minutes=_hold_minutes(lines[0].rate.activity))
    code = new_reservation_code()
    with translation.override(language):  # the lines' labels read as the traveller reads
        labels = [line.rate.name_i18n for line in lines]

    with transaction.atomic():
        if idempotency is not None:
            _claim_idempotency_key(idempotency, code)
        reservation = Reservation.objects.create(
            code=code,
            slot_id=slot_id,
            status=Reservation.Status.HELD,
            hold_expires_at=hold_expires_at,
            total_amount=sum(line.total for line in lines),
            currency=lines[0].rate.currency,
            contact_name=contact.name,
            contact_email=contact.email,
            contact_phone=contact.phone,
            language=language,
            client_scope=actor.client_scope,
        )
        ReservationLine.objects.bulk_create(
            ReservationLine(
                reservation=reservation,
                rate=line.rate,
                label=label,
                quantity=line.quantity,
                unit_amount=line.rate.amount,
            )
            for line, label in zip(lines, labels, strict=True)
        )
        ReservationEvent.objects.create(
            reservation=reservation,
            at=now,
            kind=ReservationEvent.Kind.HELD,
            actor=str(actor),
            data={"seats": seats, "hold_expires_at": hold_expires_at.isoformat()},
        )
        _take_seats(slot_id=slot_id, seats=seats, now=now)
        tell_reservation_changed(reservation, Change.HELD)
    return reservation


def reservation_extend_hold(
    *, reservation_id: int, actor: Actor, now: datetime | None = None
) -> Reservation:
    """The traveller started paying a held reservation: its hold now ends the operator's
    `payment_minutes` from now, to cover the provider's checkout (which ends with it). Never
    shortened, and never beyond the hold's own time plus `payment_minutes` from the booking's
    creation: paying again and again cannot keep seats for ever. The traveller, or the system.

    Locks: the reservation row (its seats are taken already: the slot is not touched).
    Raises IllegalTransition when it is no longer held or has lapsed (never brought back).
    """
    actor_require(actor, TRAVELLER, SYSTEM)
    now = now or timezone.now()
    paying = timedelta(minutes=getattr(connection.tenant, "payment_minutes", 30))
    with transaction.atomic():
        reservation = Reservation.objects.locked().select_related("slot__activity")
        reservation = reservation.get(pk=reservation_id)
        if reservation.status != Reservation.Status.HELD or reservation.hold_has_lapsed(now):
            raise IllegalTransition("only a running hold is extended")
        hold = timedelta(minutes=_hold_minutes(reservation.slot.activity))
        until = min(now, reservation.created_at + hold) + paying
        if until > (reservation.hold_expires_at or until):
            reservation.hold_expires_at = until
            reservation.save(update_fields=["hold_expires_at"])
            data = {"hold_expires_at": until.isoformat()}
            kind = ReservationEvent.Kind.HOLD_EXTENDED
            ReservationEvent.objects.create(
                reservation=reservation, at=now, kind=kind, actor=str(actor), data=data
            )
    return reservation


def _take_seats(*, slot_id: int, seats: int, now: datetime) -> None:
    """The locked section of a hold: from here to the commit, nothing else."""
    slot = Slot.objects.locked().select_related("activity").get(pk=slot_id)
    if not slot.is_open:
        raise DepartureClosed()
    if now >= slot.booking_closes_at():
        raise BookingCutoffPassed()
    if seats > slot.seats_left:
        raise NotEnoughSeats(slot.seats_left)
    slot.taken += seats
    slot.save(update_fields=["taken"])


def _claim_idempotency_key(claim: IdempotencyClaim, code: str) -> None:
    """No savepoint: a duplicate key aborts the whole hold anyway."""
    try:
        IdempotencyKey.objects.create(
            scope=claim.scope,
            key=claim.key,
            fingerprint=claim.fingerprint,
            response_status=303,
            response_location=Reservation.page_path(code),
            reservation_code=code,
        )
    except IntegrityError as exc:
        raise IdempotencyKeyInUse(claim.key) from exc


def _release(
    reservation: Reservation,
    slot: Slot,
    *,
    status: str,
    kind: str,
    actor: str,
    now: datetime,
    note: str = "",
    data: dict | None = None,
) -> None:
    """Under the reservation's and the slot's locks: give the seats back and record it (with
    `data` beside the seats in the timeline entry)."""
    seats = reservation.seats
    slot.taken -= seats
    reservation.status = status
    reservation.hold_expires_at = None
    ReservationEvent.objects.create(
        reservation=reservation,
        at=now,
        kind=kind,
        actor=actor,
        note=note,
        data={"seats": seats, **(data or {})},
    )


def reservation_cancel(
    *, reservation_id: int, actor: Actor, note: str = "", now: datetime | None = None
) -> Reservation:
    """Cancel a held reservation and release its seats: the traveller whose browser made it,
    or staff from manager up.

    Locks: the reservation row, then its slot row, until commit.
    Raises IllegalTransition when the reservation is no longer held; PermissionDenied.
    """
    actor_require(actor, STAFF, TRAVELLER, role=Role.MANAGER)
    return _end_with_seats_released(
        reservation_id=reservation_id,
        expected=Reservation.Status.HELD,
        status=Reservation.Status.CANCELLED,
        kind=ReservationEvent.Kind.CANCELLED,
        actor=actor,
        note=note,
        now=now or timezone.now(),
    )


def reservation_release_sold_elsewhere(
    *, reservation_id: int, actor: Actor, note: str = "", now: datetime | None = None
) -> Reservation:
    """The channel that is master of a departure's seats (the operator's activity panel) says
    the seats this hold took are sold there: give them back here before the traveller pays
    for seats that are gone. The system only.

    Locks: the reservation row, then its slot row, until commit.
    Raises IllegalTransition when the reservation is no longer held (paid meanwhile: the
    conflict stays with staff).
    """
    actor_require(actor, SYSTEM)
    return _end_with_seats_released(
        reservation_id=reservation_id,
        expected=Reservation.Status.HELD,
        status=Reservation.Status.CANCELLED,
        kind=ReservationEvent.Kind.SOLD_ELSEWHERE,
        actor=actor,
        note=note,
        now=now or timezone.now(),
    )


def _end_with_seats_released(
    *,
    reservation_id: int,
    expected: str,
    status: str,
    kind: str,
    actor: Actor,
    note: str,
    now: datetime,
) -> Reservation:
    """Move a reservation from `expected` to `status` and give its seats back. A traveller
    may end only a reservation their own browser made.

    Locks: the reservation row, then its slot row, until commit.
    """
    with transaction.atomic():
        reservation = Reservation.objects.locked().prefetch_related("lines").get(pk=reservation_id)
        if actor.kind == TRAVELLER and reservation.client_scope != actor.client_scope:
            raise PermissionDenied("this reservation was made by another browser")
        if reservation.status != expected:
            raise IllegalTransition()
        slot = Slot.objects.locked().get(pk=reservation.slot_id)
        _release(reservation, slot, status=status, kind=kind, actor=str(actor), now=now, note=note)
        slot.save(update_fields=["taken"])
        reservation.save(update_fields=["status", "hold_expires_at"])
        tell_reservation_changed(reservation, Change(status))
    return reservation


def reservations_expire_overdue(*, actor: Actor, now: datetime | None = None) -> int:
    """Expire every hold past its time and release its seats (the system's periodic task).
    Returns how many expired.

    One transaction per slot. Locks: that slot's overdue held reservations (by id, re-checked
    under the lock, so a payment or a cancel that got there first wins), then the slot row.
    """
    actor_require(actor, SYSTEM)
    now = now or timezone.now()
    slot_ids = sorted(set(Reservation.objects.overdue_holds(now).values_list("slot_id", flat=True)))
    expired = 0
    for slot_id in slot_ids:
        with transaction.atomic():
            overdue = list(
                Reservation.objects.locked()
                .overdue_holds(now)
                .filter(slot_id=slot_id)
                .order_by("id")
                .prefetch_related("lines")
            )
            if not overdue:
                continue
            slot = Slot.objects.locked().get(pk=slot_id)
            for reservation in overdue:
                _release(
                    reservation,
                    slot,
                    status=Reservation.Status.EXPIRED,
                    kind=ReservationEvent.Kind.EXPIRED,
                    actor=str(actor),
                    now=now,
                )
            Reservation.objects.bulk_update(overdue, ["status", "hold_expires_at"])
            slot.save(update_fields=["taken"])
            for reservation in overdue:
                tell_reservation_changed(reservation, Change.EXPIRED)
            expired += len(overdue)
    if expired:
        logger.info("expired %d holds on %d departures", expired, len(slot_ids))
    return expired


def slot_apply_availability(
    *, slot_id: int, capacity: int, taken_elsewhere: int, is_open: bool, actor: Actor
) -> int:
    """Take another channel's word on a departure (the system's sync with the operator's
    panel, which is the master of what it sold): its capacity, whether it is open, and the
    seats sold there that are not this site's. Returns how many seats could not be recorded
    because this site had already taken them (0 when the channels agree): the departure is
    oversold across channels by that many, for the caller to raise to staff. The seats this
    site took are never taken back here, so the capacity never goes below them.

    Locks: the slot row.
    """
    actor_require(actor, SYSTEM)
    with transaction.atomic():
        slot = Slot.objects.locked().get(pk=slot_id)
        oversold = max(slot.taken + max(taken_elsewhere, 0) - capacity, 0)
        slot.capacity = max(capacity, slot.taken)
        slot.taken_elsewhere = max(min(taken_elsewhere, slot.capacity - slot.taken), 0)
        slot.is_open = is_open
        slot.save(update_fields=["capacity", "taken_elsewhere", "is_open"])
    return oversold


class PaymentLanding(StrEnum):
    PAID = "paid"
    ALREADY_PAID = "already_paid"
    PAID_WITHOUT_SEATS = "paid_without_seats"


def reservation_confirm_payment(
    *, reservation_id: int, actor: Actor, note: str = "", now: datetime | None = None
) -> PaymentLanding:
    """A verified payment landed: the reservation becomes `paid` and its confirmation e-mail
    is written to the outbox. Only the payments app calls this, from a verified webhook or a
    reconciliation that asked the provider itself.

    A held reservation keeps its seats. One whose hold expired (or that was cancelled) takes
    its seats again if they are free; otherwise, or when its traveller cancelled it after
    paying, it stays as it is and the caller raises it to staff (PAID_WITHOUT_SEATS).

    Locks: the reservation row, then (only to take seats again) the slot row. Runs in the
    caller's transaction when there is one.
    """
    actor_require(actor, PROVIDER)
    now = now or timezone.now()
    with transaction.atomic():
        reservation = Reservation.objects.locked().prefetch_related("lines").get(pk=reservation_id)
        if reservation.status == Reservation.Status.PAID:
            return PaymentLanding.ALREADY_PAID
        if reservation.status != Reservation.Status.HELD:
            slot = Slot.objects.locked().get(pk=reservation.slot_id)
            seats = reservation.seats
            if (
                reservation.status == Reservation.Status.REFUNDED
                or seats > slot.seats_left
                or reservation.cancelled_after_payment()
            ):
                ReservationEvent.objects.create(
                    reservation=reservation,
                    at=now,
                    kind=ReservationEvent.Kind.PAID_WITHOUT_SEATS,
                    actor=str(actor),
                    note=note,
                    data={"seats": seats, "seats_left": slot.seats_left},
                )
                return PaymentLanding.PAID_WITHOUT_SEATS
            slot.taken += seats
            slot.save(update_fields=["taken"])
            ReservationEvent.objects.create(
                reservation=reservation,
                at=now,
                kind=ReservationEvent.Kind.SEATS_RETAKEN,
                actor=str(actor),
                data={"seats": seats, "was": reservation.status},
            )
        reservation.status = Reservation.Status.PAID
        reservation.hold_expires_at = None
        reservation.save(update_fields=["status", "hold_expires_at"])
        ReservationEvent.objects.create(
            reservation=reservation,
            at=now,
            kind=ReservationEvent.Kind.PAID,
            actor=str(actor),
            note=note,
        )
        outbox_emit(topic=CONFIRMATION, payload={"reservation_id": reservation.pk})
        tell_reservation_changed(reservation, Change.PAID)
    return PaymentLanding.PAID


def reservation_refund(
    *, reservation_id: int, actor: Actor, note: str = "", now: datetime | None = None
) -> Reservation:
    """A full refund was confirmed by the provider: the paid reservation becomes `refunded`
    and its seats are released.

    Locks: the reservation row, then its slot row.
    Raises IllegalTransition when the reservation is not paid.
    """
    actor_require(actor, PROVIDER)
    return _end_with_seats_released(
        reservation_id=reservation_id,
        expected=Reservation.Status.PAID,
        status=Reservation.Status.REFUNDED,
        kind=ReservationEvent.Kind.REFUNDED,
        actor=actor,
        note=note,
        now=now or timezone.now(),
    )


def reservation_resend_confirmation(*, reservation_id: int, actor: Actor) -> None:
    """Send the confirmation e-mail of a paid reservation again (through the outbox): staff."""
    actor_require(actor, STAFF, role=Role.AGENT)
    with transaction.atomic():
        reservation = Reservation.objects.locked().get(pk=reservation_id)
        if reservation.status != Reservation.Status.PAID:
            raise IllegalTransition()
        ReservationEvent.objects.create(
            reservation=reservation,
            kind=ReservationEvent.Kind.CONFIRMATION_RESENT,
            actor=str(actor),
        )
        outbox_emit(topic=CONFIRMATION, payload={"reservation_id": reservation.pk})
