"""What panel sync writes in a reservation's timeline, and how each entry's details read
(registered in audit.kinds from PanelSyncConfig.ready)."""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _

from audit.kinds import ACTOR_NAMES, TIMELINE_KINDS
from booking.records import seats
from panel_sync.models import PanelConflict
from panel_sync.octo import STAFF_MESSAGES


class PanelEvent(TextChoices):
    ON_HOLD = "panel_on_hold", _("On hold at the panel")
    CONFIRMED = "panel_confirmed", _("Confirmed at the panel")
    CANCELLED = "panel_cancelled", _("Cancelled at the panel")
    EXPIRED = "panel_expired", _("Expired at the panel")
    UPDATED = "panel_updated", _("Changed at the panel")
    REFUSED = "panel_refused", _("Refused by the panel")
    CANCEL_REFUSED = "panel_cancel_refused", _("The panel did not take the cancellation")
    CONFLICT_SETTLED = "panel_conflict_settled", _("Panel conflict settled by itself")
    CONFLICT_RESOLVED = "panel_conflict_resolved", _("Panel conflict resolved by staff")


# A booking's status at the panel, as its timeline tells the change to it.
EVENT_OF_STATUS = {
    "ON_HOLD": PanelEvent.ON_HOLD,
    "CONFIRMED": PanelEvent.CONFIRMED,
    "CANCELLED": PanelEvent.CANCELLED,
    "EXPIRED": PanelEvent.EXPIRED,
}


class PanelActor(TextChoices):
    PUSH = "panel sync", _("Panel sync")
    PULL = "panel pull", _("Panel sync (pull)")


def _booking(event) -> str:
    return seats(event.data["seats"]) if "seats" in event.data else ""


def _refused(event) -> str:
    """OCTO's error code, in the staff's words (the note keeps what the panel said)."""
    code = event.data.get("code", "")
    return str(STAFF_MESSAGES[code]) if code in STAFF_MESSAGES else ""


def _conflict(event) -> str:
    kind = event.data.get("conflict", "")
    return str(PanelConflict.Kind(kind).label) if kind in PanelConflict.Kind.values else ""


def register_kinds() -> None:
    E = PanelEvent
    TIMELINE_KINDS.register(
        "panel_sync",
        E,
        {
            E.ON_HOLD: _booking,
            E.CONFIRMED: _booking,
            E.CANCELLED: _booking,
            E.EXPIRED: _booking,
            E.UPDATED: _booking,
            E.REFUSED: _refused,
            E.CANCEL_REFUSED: _refused,
            E.CONFLICT_SETTLED: _conflict,
            E.CONFLICT_RESOLVED: _conflict,
        },
    )
    ACTOR_NAMES.register(PanelActor)
