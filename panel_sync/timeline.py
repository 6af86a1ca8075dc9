"""What panel sync writes in a reservation's timeline (booking's ReservationEvent.kind), in
the staff's words, for the pages that show the timeline."""

from django.utils.translation import gettext_lazy as _

TIMELINE_LABELS = {
    "panel_on_hold": _("On hold at the panel"),
    "panel_confirmed": _("Confirmed at the panel"),
    "panel_cancelled": _("Cancelled at the panel"),
    "panel_expired": _("Expired at the panel"),
    "panel_refused": _("Refused by the panel"),
    "panel_cancel_refused": _("The panel did not take the cancellation"),
    "panel_conflict_settled": _("Panel conflict settled by itself"),
    "panel_conflict_resolved": _("Panel conflict resolved by staff"),
}
