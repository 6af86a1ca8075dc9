"""The traveller cancels their paid booking: on the booking's page, what the policy gives
back now and the way to cancel (a panel); the confirmation page, whose POST cancels; and,
once cancelled, the refund on its way (a panel)."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseStopPolling

import payments.panels  # noqa: F401  (the payment panels come before these on the page)
from booking.cancellation import traveller_cancellation
from booking.errors import BookingError
from booking.extensions import reservation_panel
from booking.manage import proven_email
from booking.models import Reservation
from payments.models import Refund
from payments.services.cancellation import (
    RefundChanged,
    booking_cancel,
    cancellation_quote,
    cancellation_refunds,
)
from tenants.actors import Actor, client_scope


@reservation_panel
def cancellation_offer(request: HttpRequest, reservation: Reservation) -> str:
    """A paid booking its traveller may still cancel: the policy, what it gives back now,
    and the way to the confirmation."""
    if reservation.status != Reservation.Status.PAID:
        return ""
    quote = cancellation_quote(reservation)
    if quote.refusal is not None:
        return ""
    context = {"reservation": reservation, "quote": quote}
    return render_to_string("payments/_cancel_offer.html", context, request=request)


@reservation_panel
def cancellation_refund(request: HttpRequest, reservation: Reservation) -> str:
    """A booking its traveller cancelled: what goes back, and whether it has."""
    event = traveller_cancellation(reservation)
    if event is None:
        return ""
    return render_to_string(
        "payments/_cancelled.html", _refund_context(reservation, event), request=request
    )


def _refund_context(reservation: Reservation, event) -> dict:
    refunds = cancellation_refunds(reservation.pk)
    statuses = {refund.status for refund in refunds}
    given_back = bool(refunds) and statuses == {Refund.Status.SUCCEEDED}
    failed = Refund.Status.FAILED in statuses
    return {
        "reservation": reservation,
        "refund": event.data["refund"],
        "given_back": given_back,
        "failed": failed,
        "on_its_way": bool(event.data["refund"]) and not given_back and not failed,
    }


def cancellation_status(request: HttpRequest, code: str) -> HttpResponse:
    """The cancelled booking's refund box, polled while the refund is on its way; polling
    stops (286) once the provider has confirmed it or refused it."""
    reservation = get_object_or_404(Reservation, code=code)
    event = traveller_cancellation(reservation)
    if event is None:
        raise Http404
    context = _refund_context(reservation, event)
    response = render(request, "payments/_cancelled.html", context)
    if not context["on_its_way"]:
        response.status_code = HttpResponseStopPolling.status_code
    return response


@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, code: str) -> HttpResponse:
    """Cancel my booking: what the policy gives back now, and a POST to confirm it. Anyone
    with the code who proved the booking's e-mail in this browser (find my booking), or the
    browser that made the booking; others are sent to prove it first."""
    reservation = get_object_or_404(
        Reservation.objects.select_related("slot__activity").prefetch_related("lines"), code=code
    )
    email = proven_email(request, reservation)
    if email is None:
        messages.info(request, _("Please enter the e-mail of your booking to cancel it."))
        return redirect(
            f"{reverse('booking:find')}?{urlencode({'code': code, 'next': request.path})}"
        )
    quote = cancellation_quote(reservation)
    if quote.refusal is not None:
        messages.error(request, quote.refusal.message)
        return redirect(reservation)
    status = 200
    if request.method == "POST":
        try:
            cancelled = booking_cancel(
                reservation_id=reservation.pk,
                actor=Actor.traveller(client_scope(request)),
                email=email,
                expected_refund=_shown_refund(request.POST.get("refund", "")),
            )
        except RefundChanged as exc:
            messages.warning(request, exc.message)
            quote, status = cancellation_quote(reservation), 409
        except BookingError as exc:
            messages.error(request, exc.message)
            return redirect(reservation)
        else:
            messages.success(request, _cancelled(cancelled.refund))
            return redirect(reservation)
    context = {"reservation": reservation, "quote": quote}
    return render(request, "payments/cancel.html", context, status=status)


def _shown_refund(value: str) -> int:
    """The refund the confirmation showed; anything else than a figure matches nothing."""
    return int(value) if value.isdigit() and len(value) < 12 else -1


def _cancelled(refund: int) -> str:
    if refund:
        return _("Your booking is cancelled. Your refund is on its way.")
    return _("Your booking is cancelled.")
