"""Outbound: what we sold, told to the panel (we are its reseller).

Every change of a reservation of a mapped activity is written to the outbox (`panel.push`),
in the change's own transaction, by `push_when_changed` (a receiver of booking's
`reservation_changed`). Its consumer, `panel_push`, does not replay the change: it reads the
reservation as it is now and its booking at the panel as last recorded, and makes the panel
agree:

    held      -> a hold at the panel (`POST /bookings`, our uuid, expirationMinutes = the
                 hold left here)
    paid      -> a hold if the panel has none, then `POST /bookings/{uuid}/confirm` with the
                 traveller's contact
    changed   -> (a paid booking moved, or its passengers changed) `PATCH /bookings/{uuid}`
                 with the departure and unit items it has now, if the panel holds it
    cancelled, expired, refunded -> `POST /bookings/{uuid}/cancel` if the panel holds it

so a message replayed, duplicated or delivered out of order changes nothing more, and an OCTO
`uuid` sent again names the same booking. When the panel's answer leaves a doubt (a uuid it
says is taken, a booking it says it cannot confirm or cancel), we ask it (`GET
/bookings/{uuid}`) and take its word.

A refusal (a 4xx OCTO error about the booking: sold out there, an unknown departure or unit)
is recorded (PanelBooking REFUSED), put in the reservation's timeline ("panel_refused") and
raised to staff (PanelConflict "sold here, refused by the panel"); the consumer returns, so the
outbox does not retry what the panel will refuse again. A panel that does not answer (or
refuses our key) raises: the outbox retries with backoff, and after MAX_ATTEMPTS the message
stays in the outbox, failed, for staff to see.
"""

import contextlib
import logging
import math
import uuid as uuid_module
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.errors import IllegalTransition
from booking.models import Reservation, ReservationEvent
from booking.services import reservation_release_sold_elsewhere
from panel_sync.models import (
    AvailabilityMapping,
    PanelBooking,
    PanelConflict,
    PanelConnection,
    ProductMapping,
)
from panel_sync.octo import OctoClient, PanelError, PanelUnavailable, availability_start, instant
from panel_sync.records import EVENT_OF_STATUS, PanelEvent
from panel_sync.services.conflicts import conflict_raise, conflict_settle
from panel_sync.services.connection import panel_client
from panel_sync.services.octo_terms import Refusal, booking_seats, contact, unit_items
from tenants.actors import SYSTEM, Actor, actor_require

logger = logging.getLogger(__name__)

ACTOR = Actor.system("panel sync")
HOLDING = (PanelBooking.Status.ON_HOLD, PanelBooking.Status.CONFIRMED)
GONE = (PanelBooking.Status.CANCELLED, PanelBooking.Status.EXPIRED)
# OCTO statuses we read as one of ours: a booking awaiting the supplier is a hold, a redeemed
# one confirmed, a rejected one gone.
PANEL_STATUSES = {"PENDING": "ON_HOLD", "REDEEMED": "CONFIRMED", "REJECTED": "CANCELLED"}
# What a reservation asks of the panel.
HOLD, CONFIRM, RELEASE = "hold", "confirm", "release"
# Refusals that mean the panel has no seats for the booking (sold out, closed, past its cut-off,
# or the departure is gone there), not that our request or mapping is wrong.
SEATS_GONE = ("UNPROCESSABLE_ENTITY", "INVALID_AVAILABILITY_ID")
STEPS_AT_MOST = 4  # a push is at most: ask, reserve (again), confirm


class Outcome(StrEnum):
    UNCHANGED = "unchanged"  # the panel already agreed
    RESERVED = "reserved"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    UPDATED = "updated"
    REFUSED = "refused"
    NOT_SYNCED = "not_synced"  # no enabled connection, or the activity is not mapped


OUTCOMES = {
    "ON_HOLD": Outcome.RESERVED,
    "CONFIRMED": Outcome.CONFIRMED,
    "CANCELLED": Outcome.CANCELLED,
    "EXPIRED": Outcome.CANCELLED,
}


# The consumer


@dataclass
class _Push:
    reservation: Reservation
    mapping: ProductMapping
    client: OctoClient
    now: datetime
    current: PanelBooking | None
    refused_again: bool = False
    changed: bool = False
    outcome: Outcome = Outcome.UNCHANGED


def panel_push(
    *,
    reservation_id: int,
    actor: Actor,
    now: datetime | None = None,
    refused_again: bool = False,
    changed: bool = False,
) -> Outcome:
    """Make the panel agree with the reservation as it is now (see the module's docstring).
    A hold the panel refused is asked again only when `refused_again` (staff's "push again");
    a booking the panel holds is updated there when `changed` (its departure or passengers
    changed here).

    Locks: no row lock while the panel is spoken to. Pushes of one reservation take turns
    on a transaction-level advisory lock named after it (nothing else ever takes it: no
    traveller, seat or payment waits on it), so two deliveries never talk to the panel about
    the same booking at once; a second one waits up to the connection's lock_timeout, then
    fails and is retried by the outbox. Runs in the outbox delivery's transaction.

    Raises PanelUnavailable (retried by the outbox); a refusal returns Outcome.REFUSED."""
    actor_require(actor, SYSTEM)
    now = now or timezone.now()
    panel = PanelConnection.enabled_one()
    if panel is None:
        return Outcome.NOT_SYNCED
    with transaction.atomic():
        _one_push_at_a_time(reservation_id)
        reservation = Reservation.objects.select_related("slot__activity").get(pk=reservation_id)
        mapping = ProductMapping.objects.filter(activity_id=reservation.slot.activity_id).first()
        if mapping is None:
            return Outcome.NOT_SYNCED
        push = _Push(
            reservation=reservation,
            mapping=mapping,
            client=panel_client(panel),
            now=now,
            current=reservation.panel_bookings.current().first(),
            refused_again=refused_again,
            changed=changed,
        )
        try:
            _converge(push, actor)
        except PanelError as exc:
            if exc.about_credentials:
                raise PanelUnavailable(f"{exc.staff_message} ({exc})") from exc
            _refused(push, exc.code, exc.staff_message, exc.message, actor)
            if exc.code in SEATS_GONE:
                _release_what_the_panel_sold(push, actor)
        except Refusal as exc:
            _refused(push, exc.code, exc.staff_message, exc.message, actor)
    logger.info("panel push of %s: %s", reservation.code, push.outcome)
    return push.outcome


def _release_what_the_panel_sold(push: _Push, actor: Actor) -> None:
    """The panel, master of what it sold, has no seats for a hold of ours: a traveller still
    holding them here is told so before paying for seats that are gone. Once paid (or ended),
    the conflict stays with staff. The release is pushed in its turn, which settles the
    conflict."""
    if push.reservation.status != Reservation.Status.HELD:
        return
    with contextlib.suppress(IllegalTransition):  # paid or ended since this push read it
        reservation_release_sold_elsewhere(
            reservation_id=push.reservation.pk, actor=actor, note=_("Refused by the panel.")
        )


def _one_push_at_a_time(reservation_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"panel_push:{connection.schema_name}:{reservation_id}"],
        )


def wanted(reservation: Reservation, now: datetime) -> str:
    if reservation.status == Reservation.Status.PAID:
        return CONFIRM
    if reservation.status == Reservation.Status.HELD and not reservation.hold_has_lapsed(now):
        return HOLD
    return RELEASE


def _converge(push: _Push, actor: Actor) -> None:
    for _step in range(STEPS_AT_MOST):
        goal, current = wanted(push.reservation, push.now), push.current
        status = current.status if current is not None else None
        if goal == RELEASE:
            if status in HOLDING:
                _cancel(push, actor)
            elif status == PanelBooking.Status.REFUSED:
                conflict_settle(
                    kind=PanelConflict.Kind.REFUSED,
                    reservation=push.reservation,
                    note=_("Released here: the seats the panel refused are no longer sold."),
                    actor=actor,
                )
            return
        if push.changed and status in HOLDING:
            _update(push, actor)
            push.changed = False
            continue
        if status == PanelBooking.Status.CONFIRMED:
            return  # held or paid here, confirmed there: nothing more to say
        # A hold the panel refused stays refused (staff see the conflict) unless staff push it
        # again; a payment asks the panel again, since a sold booking must be known there.
        refused = status == PanelBooking.Status.REFUSED and not push.refused_again
        if goal == HOLD and (status == PanelBooking.Status.ON_HOLD or refused):
            return
        if goal == CONFIRM and status == PanelBooking.Status.ON_HOLD:
            _confirm(push, actor)
            continue
        _reserve(push, actor)
        push.refused_again = False  # asked once more: its answer stands
    raise PanelUnavailable("the panel's answers did not settle")  # retried later


def _attempt_for_new_booking(current: PanelBooking | None) -> int:
    """The attempt a reserve speaks for: the current one if the panel never made it (none
    yet, refused), else the next (the panel let it expire or cancelled it: a uuid is not
    booked twice)."""
    if current is None:
        return 0
    if current.status == PanelBooking.Status.REFUSED:
        return current.attempt
    return current.attempt + 1


def booking_uuid(reservation: Reservation, attempt: int) -> str:
    """Attempt 0 is the reservation's own uuid; later ones derive from it, so every retry of
    a push names the same booking."""
    if attempt == 0:
        return str(reservation.uuid)
    return str(uuid_module.uuid5(reservation.uuid, f"attempt-{attempt}"))


def _reserve(push: _Push, actor: Actor) -> None:
    reservation, mapping = push.reservation, push.mapping
    attempt = _attempt_for_new_booking(push.current)
    uuid = booking_uuid(reservation, attempt)
    availability_id = _availability_id(push)
    units = unit_items(reservation)
    if reservation.status == Reservation.Status.HELD:
        minutes = math.ceil(reservation.hold_seconds_left(push.now) / 60)
    else:  # paid: confirmed at once after
        minutes = getattr(connection.tenant, "hold_minutes", 15)
    try:
        answer = push.client.reserve(
            uuid=uuid,
            product_id=mapping.panel_product_id,
            option_id=mapping.panel_option_id,
            availability_id=availability_id,
            unit_items=units,
            expiration_minutes=max(minutes, 1),
            # Our code for the panel's staff; nothing that depends on the worker's language
            # or clock beyond the minutes left, so a retry is the same request.
            reseller_reference=reservation.code,
        )
    except PanelError as exc:
        if exc.code != "INVALID_BOOKING_UUID":
            raise
        # The uuid is taken at the panel: by this very booking, from a push whose answer we
        # never heard (then the panel's state is ours), or it cannot be booked again.
        answer = _ask(push, uuid)
        if answer is None:
            raise
    _record(push, attempt, uuid, answer, actor)


def _confirm(push: _Push, actor: Actor) -> None:
    current, uuid = push.current, str(push.current.uuid)
    try:
        answer = push.client.confirm(uuid, contact=contact(push.reservation))
    except PanelError as exc:
        if exc.about_credentials:
            raise
        # Confirmed already (an answer we never heard), or the hold lapsed there first (then
        # the next step books it again): the panel's booking says which.
        answer = _ask(push, uuid)
        if answer is None or answer.get("status") in ("ON_HOLD", "PENDING"):
            raise
    _record(push, current.attempt, uuid, answer, actor)


def _update(push: _Push, actor: Actor) -> None:
    """The booking changed here (booking.changes): the panel's booking is updated to the
    departure and unit items it has now. Refused (sold out there, say): recorded and raised
    like a refused hold, the booking at the panel as it was."""
    current, uuid = push.current, str(push.current.uuid)
    answer = push.client.update(
        uuid,
        product_id=push.mapping.panel_product_id,
        option_id=push.mapping.panel_option_id,
        availability_id=_availability_id(push),
        unit_items=unit_items(push.reservation),
    )
    _record(push, current.attempt, uuid, answer, actor)
    push.outcome = Outcome.UPDATED
    _timeline(
        push.reservation,
        PanelEvent.UPDATED,
        actor,
        push.current.supplier_reference,
        data={"uuid": uuid, "seats": push.current.seats},
    )


def _cancel(push: _Push, actor: Actor) -> None:
    reservation, current = push.reservation, push.current
    reason = _("%(status)s on our site") % {"status": reservation.get_status_display()}
    try:
        answer = push.client.cancel(str(current.uuid), reason=reason)
    except PanelError as exc:
        if exc.about_credentials:
            raise
        answer = _ask(push, str(current.uuid))
        if answer is None or answer.get("status") in HOLDING:
            conflict_raise(
                kind=PanelConflict.Kind.CANCEL_REFUSED,
                reservation=reservation,
                details=f"{exc.staff_message} ({exc})",
                data={"uuid": str(current.uuid), "code": exc.code},
                actor=actor,
            )
            _timeline(reservation, PanelEvent.CANCEL_REFUSED, actor, exc.staff_message, exc.code)
            push.outcome = Outcome.REFUSED
            return
    _record(push, current.attempt, str(current.uuid), answer, actor)


def _ask(push: _Push, uuid: str) -> dict | None:
    """The panel's booking under `uuid`, if it has one (our reading of a doubtful answer)."""
    try:
        answer = push.client.booking(uuid)
    except PanelError as exc:
        if exc.about_credentials:
            raise
        return None
    if str(answer.get("uuid", "")).lower() != uuid.lower():
        return None
    return answer


def _record(push: _Push, attempt: int, uuid: str, answer: dict, actor: Actor) -> None:
    """The panel's booking as it answered: status, seats, expiry, references; a timeline
    entry when its status changed; an open refusal conflict settled once the panel took it."""
    status = str(answer.get("status") or "")
    status = PANEL_STATUSES.get(status, status)
    if status not in (*HOLDING, *GONE):
        raise PanelUnavailable(f"the panel answered a booking in status {status!r}")
    before = push.current.status if push.current and push.current.attempt == attempt else None
    booking, _created = PanelBooking.objects.update_or_create(
        reservation=push.reservation,
        attempt=attempt,
        defaults={
            "uuid": uuid,
            "status": status,
            "panel_id": str(answer.get("id") or "")[:200],
            "supplier_reference": str(answer.get("supplierReference") or "")[:120],
            "availability_id": str(answer.get("availabilityId") or "")[:200],
            "seats": booking_seats(answer, push.mapping),
            "expires_at": instant(answer.get("utcExpiresAt")),
            "error_code": "",
            "error_message": "",
            "last_push_at": push.now,
        },
    )
    push.current = booking
    if status != before:
        push.outcome = OUTCOMES[status]
        _timeline(
            push.reservation,
            EVENT_OF_STATUS[status],
            actor,
            booking.supplier_reference,
            data={"uuid": uuid, "seats": booking.seats},
        )
    if status in HOLDING:
        conflict_settle(
            kind=PanelConflict.Kind.REFUSED,
            reservation=push.reservation,
            note=_("The panel took the booking on a later push."),
            actor=actor,
        )


def _refused(push: _Push, code: str, staff_message: str, message: str, actor: Actor) -> None:
    """The panel refused (or we could not ask): a reserve refused is a REFUSED booking; a
    confirmation refused leaves the hold there as it is, with the error."""
    reservation, current = push.reservation, push.current
    fields = {"error_code": code[:64], "error_message": message, "last_push_at": push.now}
    if current is not None and current.status in HOLDING:
        PanelBooking.objects.filter(pk=current.pk).update(**fields)
    else:
        attempt = _attempt_for_new_booking(current)
        PanelBooking.objects.update_or_create(
            reservation=reservation,
            attempt=attempt,
            defaults={
                "uuid": booking_uuid(reservation, attempt),
                "status": PanelBooking.Status.REFUSED,
                "seats": 0,
                **fields,
            },
        )
    details = staff_message if message == staff_message else f"{staff_message} ({code}: {message})"
    _timeline(reservation, PanelEvent.REFUSED, actor, details, code)
    conflict_raise(
        kind=PanelConflict.Kind.REFUSED,
        reservation=reservation,
        details=details,
        data={"code": code, "message": message, "status": reservation.status},
        actor=actor,
    )
    push.outcome = Outcome.REFUSED
    logger.warning("panel refused %s: %s %s", reservation.code, code, message)


def _timeline(
    reservation: Reservation, kind: str, actor: Actor, note: str, code: str = "", data=None
) -> None:
    ReservationEvent.objects.create(
        reservation=reservation,
        kind=kind,
        actor=str(actor),
        note=note,
        data=data or ({"code": code} if code else {}),
    )


# What we send


def _availability_id(push: _Push) -> str:
    """The panel's id of our departure: as the last pull mapped it, else asked of the panel
    for that day (and recorded)."""
    slot, mapping = push.reservation.slot, push.mapping
    known = AvailabilityMapping.objects.filter(slot=slot).first()
    if known is not None:
        return known.panel_availability_id
    day = timezone.localtime(slot.starts_at, mapping.zone()).date()
    for item in push.client.availability(
        product_id=mapping.panel_product_id,
        option_id=mapping.panel_option_id,
        local_date_start=day,
        local_date_end=day,
    ):
        if availability_start(item) == slot.starts_at:
            AvailabilityMapping.objects.update_or_create(
                product=mapping,
                panel_availability_id=str(item["id"]),
                defaults={"slot": slot, "seen_at": push.now},
            )
            return str(item["id"])
    raise Refusal(
        "UNKNOWN_DEPARTURE",
        _("The panel has no departure at this time: it is sold only here."),
    )
