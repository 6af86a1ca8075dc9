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

from backoffice.common import actor, after_action, as_id
from backoffice.forms import ChangeForm
from booking.changes import CHANGE_ROLE, change_quote
from booking.errors import BookingError
from booking.models import Reservation, Slot
from payments.services.changes import booking_change
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
    departures = _departures(reservation)
    posted = request.POST if request.method == "POST" else {}
    chosen = departures.filter(pk=as_id(posted.get("slot"))).first() or reservation.slot
    rates = list(chosen.activity.rates.all())
    # The picker changing (no button) shows the counts of the departure's activity, unbound.
    data = posted if "preview" in posted or "confirm" in posted else None
    form = ChangeForm(
        data, departures=departures, reservation=reservation, rates=rates, chosen=chosen
    )
    quote, status = None, 200
    if reservation.status != Reservation.Status.PAID:
        form.add_error(None, _("Only a paid booking can be changed."))
        status = 409
    elif form.is_bound and not form.is_valid():
        status = 400
    elif form.is_bound:
        try:
            quote = change_quote(
                reservation=reservation,
                to_slot=form.cleaned_data["slot"],
                quantities=form.quantities(),
            )
            if "confirm" in data:
                change = booking_change(quote=quote, actor=actor(request))
                messages.success(request, _confirmed(change))
                return after_action(
                    request, reverse("backoffice:reservation", args=[reservation.code])
                )
        except BookingError as exc:
            form.add_error(None, exc.message)
            quote, status = None, 409
    template = "backoffice/reservation_change.html" + ("#change" if request.htmx else "")
    context = {"reservation": reservation, "form": form, "quote": quote, "chosen": chosen}
    return render(request, template, context, status=status)


def _confirmed(change) -> str:
    if change.difference > 0:
        return _(
            "The change waits for the traveller to pay the difference; they were sent a link. "
            "The booking stays as it is until then."
        )
    if change.difference < 0:
        return _("Booking changed. The difference is being refunded to the traveller.")
    return _("Booking changed.")
