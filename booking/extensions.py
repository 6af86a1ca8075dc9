"""Extension points of booking's pages, for the apps that build on booking.

Booking never imports payments (or, later, panel sync): DESIGN.md, "Dependencies point one
way". Where one of its pages shows something another app owns, that app registers a panel
here from its `AppConfig.ready()`, and booking's page renders whatever is registered.

A reservation panel is a function `(request, reservation) -> str` returning HTML (rendered
from the registering app's own templates), or "" when it has nothing to show.
"""

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString

from booking.models import Reservation

ReservationPanel = Callable[[HttpRequest, Reservation], str]
_reservation_panels: list[ReservationPanel] = []


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
