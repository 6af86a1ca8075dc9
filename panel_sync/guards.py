"""Panel sync's word on booking's sales (booking.extensions.sale_guard): with a stale-after
setting, a departure of a mapped activity is not sold online while the panel has not been
heard from about it for that long (by default there is none: we keep selling from the last
known seats while the panel is down)."""

from datetime import datetime, timedelta

from panel_sync.models import AvailabilityMapping, PanelConnection, ProductMapping


def stale_departure(slot_id: int, now: datetime) -> str | None:
    """Why this departure is held back (its last word from the panel is too old, or the panel
    never listed it), or None."""
    minutes = (
        PanelConnection.objects.filter(
            pk=PanelConnection.ONLY, enabled=True, stale_after_minutes__isnull=False
        )
        .values_list("stale_after_minutes", flat=True)
        .first()
    )
    if minutes is None:
        return None
    seen_at = (
        AvailabilityMapping.objects.filter(slot_id=slot_id)
        .values_list("seen_at", flat=True)
        .first()
    )
    if seen_at is None:
        if ProductMapping.objects.filter(activity__slots__id=slot_id).exists():
            return "the panel has never listed this departure"
        return None
    if seen_at < now - timedelta(minutes=minutes):
        return f"the panel was last heard from about this departure at {seen_at.isoformat()}"
    return None
