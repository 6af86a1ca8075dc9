"""Conflicts between the panel and us, for staff: raised by the push and the pull in their own
transactions (once per fact: the same fact told again updates the open conflict), resolved
by staff with who and when."""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from booking.models import Reservation, ReservationEvent, Slot
from panel_sync.models import PanelConflict
from tenants.actors import STAFF, SYSTEM, Actor, actor_require
from tenants.models import Role

logger = logging.getLogger(__name__)


def conflict_raise(
    *,
    kind: str,
    details: str,
    actor: Actor,
    reservation: Reservation | None = None,
    slot: Slot | None = None,
    data: dict | None = None,
) -> PanelConflict:
    """Open a conflict, or bring the open one about the same reservation (or departure) and
    kind up to date. The system only (a push, a pull)."""
    actor_require(actor, SYSTEM)
    key = {"kind": kind, "resolved_at__isnull": True}
    key |= {"reservation": reservation} if reservation is not None else {"reservation": None}
    if reservation is None:
        key["slot"] = slot
    fields = {
        "details": details,
        "data": data or {},
        "slot": slot if slot is not None else getattr(reservation, "slot", None),
        "updated_at": timezone.now(),
    }
    with transaction.atomic():
        for _attempt in range(2):
            existing = PanelConflict.objects.select_for_update(no_key=True).filter(**key).first()
            if existing is not None:
                for name, value in fields.items():
                    setattr(existing, name, value)
                existing.save(update_fields=list(fields))
                return existing
            try:
                with transaction.atomic():
                    conflict = PanelConflict.objects.create(
                        kind=kind, reservation=reservation, **fields
                    )
            except IntegrityError:  # raised at once by another push or pull: update theirs
                continue
            logger.warning("panel conflict %s on %s: %s", kind, reservation or slot, details)
            return conflict
    raise RuntimeError("panel conflict neither found nor created")


def conflict_settle(
    *,
    kind: str,
    note: str,
    actor: Actor,
    reservation: Reservation | None = None,
    slot: Slot | None = None,
) -> int:
    """The fact behind an open conflict about a reservation (or a departure) is gone (the
    panel took the booking after all, the over-sale is over): it is resolved by the system,
    with a word in the reservation's timeline. Returns how many were settled."""
    actor_require(actor, SYSTEM)
    settled = PanelConflict.objects.open().filter(kind=kind)
    if reservation is not None:
        settled = settled.filter(reservation=reservation)
    else:
        settled = settled.filter(slot=slot, reservation__isnull=True)
    count = settled.update(resolved_at=timezone.now(), resolved_by=str(actor))
    if count and reservation is not None:
        ReservationEvent.objects.create(
            reservation=reservation,
            kind="panel_conflict_settled",
            actor=str(actor),
            note=note,
            data={"conflict": kind},
        )
    if count:
        logger.info("panel conflict %s on %s settled: %s", kind, reservation or slot, note)
    return count


def conflict_resolve(*, conflict_id: int, actor: Actor, note: str = "") -> PanelConflict:
    """Staff dealt with it (cancelled one side, moved a traveller...): recorded with who and
    when. Staff from manager up."""
    actor_require(actor, STAFF, role=Role.MANAGER)
    with transaction.atomic():
        conflict = PanelConflict.objects.select_for_update(no_key=True).get(
            pk=conflict_id, resolved_at__isnull=True
        )
        conflict.resolved_at, conflict.resolved_by = timezone.now(), str(actor)
        conflict.save(update_fields=["resolved_at", "resolved_by"])
        if conflict.reservation_id:
            ReservationEvent.objects.create(
                reservation_id=conflict.reservation_id,
                kind="panel_conflict_resolved",
                actor=str(actor),
                note=note,
                data={"conflict": conflict.kind},
            )
    return conflict
