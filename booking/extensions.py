"""Extension points of booking's pages, for the apps that build on booking.

Booking never imports payments (or, later, panel sync): DESIGN.md, "Dependencies point one
way". Where one of its pages shows something another app owns, that app registers a panel
here from its `AppConfig.ready()`, and booking's page renders whatever is registered.

A reservation panel is a function `(request, reservation) -> str` returning HTML (rendered
from the registering app's own templates), or "" when it has nothing to show.

A sale guard is a function `(slot_id, now) -> str | None`: why a departure may not be sold
online right now (panel sync: its panel has not been heard from for too long), or None. Holds
ask every registered guard before they take seats (booking.services.reservation_hold).
"""

from collections.abc import Callable
from datetime import datetime

from django.http import HttpRequest
from django.utils.safestring import SafeString

from booking.models import Reservation

ReservationPanel = Callable[[HttpRequest, Reservation], str]
_reservation_panels: list[ReservationPanel] = []
SaleGuard = Callable[[int, datetime], str | None]
_sale_guards: list[SaleGuard] = []


def reservation_panel(panel: ReservationPanel) -> ReservationPanel:
    """Register a panel of the reservation page (a decorator; registering twice is once)."""
    if panel not in _reservation_panels:
        _reservation_panels.append(panel)
    return panel


def reservation_panels_render(request: HttpRequest, reservation: Reservation) -> list[SafeString]:
    """The registered panels' HTML for this reservation, in registration order."""
    return [
        SafeString(html) for panel in _reservation_panels if (html := panel(request, reservation))
    ]


def sale_guard(guard: SaleGuard) -> SaleGuard:
    """Register a sale guard (a decorator; registering twice is once)."""
    if guard not in _sale_guards:
        _sale_guards.append(guard)
    return guard


def sale_refusal(slot_id: int, now: datetime) -> str | None:
    """The first registered guard's reason not to sell this departure now, or None."""
    for guard in _sale_guards:
        if reason := guard(slot_id, now):
            return reason
    return None
