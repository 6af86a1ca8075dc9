"""Changing a booking from the backoffice: another departure of the same or another
activity, new passenger counts, a preview of the price difference, then the change
(payments.services.changes: seats under lock, the difference refunded or asked for)."""

from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from backoffice.common import actor, after_action
from booking.changes import CHANGE_ROLE
from booking.models import Reservation, Slot
from payments.change_form import change_attempt
from tenants.permissions import membership_require, staff_required

# How far ahead the departure picker looks.
PICKER_DAYS = 120


def _departures(reservation: Reservation):
    """Open departures that have not left, within the picker's window, of activities sold in
    the booking's currency (its own departure included)."""
    now = timezone.now()
    return (
        Slot.objects.filter(
            is_open=True,
            starts_at__gt=now,
            starts_at__lt=now + timedelta(days=PICKER_DAYS),
            activity__rates__currency=reservation.currency,
        )
        .distinct()
        .select_related("activity")
        .order_by("activity__position", "activity__name", "starts_at")
    )


@staff_required
@require_http_methods(["GET", "POST"])
def reservation_change(request: HttpRequest, code: str) -> HttpResponse:
    """The change form: GET shows it; a POST previews the difference (`preview`, or the
    departure picker changing under htmx) or makes the change (`confirm`), priced again on
    the server either way."""
    membership_require(request.user, request.tenant, CHANGE_ROLE)
    reservation = get_object_or_404(
        Reservation.objects.select_related("slot__activity").prefetch_related("lines"), code=code
    )
    attempt = change_attempt(
        posted=request.POST if request.method == "POST" else None,
        reservation=reservation,
        departures=_departures(reservation),
        actor=actor(request),
    )
    if attempt.change is not None:
        messages.success(request, _confirmed(attempt.change))
        return after_action(request, reverse("backoffice:reservation", args=[reservation.code]))
    template = "backoffice/reservation_change.html" + ("#change" if request.htmx else "")
    context = {"reservation": reservation, **attempt.context()}
    return render(request, template, context, status=attempt.status)


def _confirmed(change) -> str:
    if change.difference > 0:
        return _(
            "The change waits for the traveller to pay the difference; they were sent a link. "
            "The booking stays as it is until then."
        )
    if change.difference < 0:
        return _("Booking changed. The difference is being refunded to the traveller.")
    return _("Booking changed.")
