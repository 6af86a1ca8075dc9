"""Queueing pushes to the panel: the outbox messages that carry them (written in the
transaction of each change, by staff's "push again", and after each pull for what the panel
never heard of) and their consumer, which runs `panel_push`."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from booking.events import Change
from booking.models import Reservation
from outbox.delivery import consumer
from outbox.models import OutboxMessage
from outbox.services import outbox_emit
from panel_sync.models import PanelConnection, ProductMapping
from panel_sync.services.push import ACTOR, panel_push
from tenants.actors import STAFF, SYSTEM, Actor, actor_require
from tenants.models import Role

PUSH = "panel.push"


# The receiver: in the change's transaction


def push_when_changed(sender, reservation: Reservation, change, **kwargs) -> None:
    """booking.events.reservation_changed: a push message for a reservation of a mapped
    activity, while the operator's connection is enabled, in the same transaction as the
    change (two small indexed reads and an insert, under the change's locks)."""
    if not PanelConnection.objects.filter(pk=PanelConnection.ONLY, enabled=True).exists():
        return
    if not ProductMapping.objects.filter(activity__slots__id=reservation.slot_id).exists():
        return
    outbox_emit(topic=PUSH, payload={"reservation_id": reservation.pk, "change": str(change)})


AGAIN = "again"  # a push asked for by staff: a refused hold is tried again
UNHEARD = "unheard"  # sold here while the panel could not be told: see panel_push_unheard


def panel_push_unheard(*, actor: Actor, now: datetime | None = None) -> int:
    """Queue a push for every live reservation on a coming departure of a mapped activity that
    the panel has never heard of and that has no push on its way: sold here before the
    activity was mapped or while the connection was off, or whose push was given up on. Run
    after each pull of the whole window, so the panel counts those seats too. Returns how many
    were queued (one push at most waits per reservation).

    Locks: none (an insert per reservation, in the caller's transaction)."""
    actor_require(actor, SYSTEM)
    now = now or timezone.now()
    on_their_way = {
        payload.get("reservation_id")
        for payload in OutboxMessage.objects.pending()
        .filter(topic=PUSH)
        .values_list("payload", flat=True)
    }
    unheard = (
        Reservation.objects.live()
        .filter(
            slot__starts_at__gt=now,
            slot__activity__panel_mapping__isnull=False,
            panel_bookings__isnull=True,
        )
        .exclude(pk__in=[pk for pk in on_their_way if isinstance(pk, int)])
        .values_list("pk", flat=True)
    )
    queued = 0
    for reservation_id in unheard:
        outbox_emit(topic=PUSH, payload={"reservation_id": reservation_id, "change": UNHEARD})
        queued += 1
    return queued


@consumer(PUSH)
def deliver_push(message: OutboxMessage) -> None:
    panel_push(
        reservation_id=message.payload["reservation_id"],
        actor=ACTOR,
        refused_again=message.payload.get("change") == AGAIN,
        changed=message.payload.get("change") == Change.CHANGED,
    )


def panel_push_again(*, reservation_id: int, actor: Actor) -> OutboxMessage:
    """Queue a push of a reservation (staff from agent up, after fixing a mapping; the
    system)."""
    actor_require(actor, STAFF, SYSTEM, role=Role.AGENT)
    with transaction.atomic():
        return outbox_emit(topic=PUSH, payload={"reservation_id": reservation_id, "change": AGAIN})


def pushes_pending():
    """The push messages not delivered yet, given up ones included (for the dashboard)."""
    return OutboxMessage.objects.filter(topic=PUSH, delivered_at__isnull=True)
