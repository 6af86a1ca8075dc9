"""What payments shows on booking's pages, through booking's extension points (booking
never imports payments)."""

import logging

from botocore.exceptions import BotoCoreError, ClientError
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from booking.extensions import reservation_panel
from booking.models import Reservation
from payments.models import Method, PaymentIntent, Provider
from payments.providers import change_options, payment_options
from payments.services.changes import change_pending
from payments.traveller_state import Shown, payment_shown

logger = logging.getLogger(__name__)

LABELS = {
    (Provider.STRIPE, Method.CARD): "card",
    (Provider.STRIPE, Method.PIX): "pix",
    (Provider.MERCADOPAGO, Method.CHECKOUT): "mercadopago",
    (Provider.MERCADOPAGO, Method.PIX): "pix",
}


def _options(reservation: Reservation, *, change: bool = False) -> tuple[list[dict], bool]:
    """The ways this operator can be paid in the reservation's currency, and whether they
    could not be read (the credentials are unavailable)."""
    try:
        choices = (
            change_options(reservation.currency)
            if change
            else payment_options(reservation.currency)
        )
    except (BotoCoreError, ClientError):
        logger.exception("cannot read the payment credentials")
        choices, unavailable = [], True
    else:
        unavailable = False
    options = [
        {"value": f"{provider}:{method}", "kind": LABELS[(provider, method)]}
        for provider, method in choices
    ]
    return options, unavailable


def payment_options_html(request: HttpRequest, reservation: Reservation) -> str:
    """The ways to pay a held reservation. If the credentials cannot be read, the page still
    shows the held seats, and says so."""
    options, unavailable = _options(reservation)
    context = {"reservation": reservation, "options": options, "unavailable": unavailable}
    return render_to_string("payments/_options.html", context, request=request)


@reservation_panel
def payment_choices(request: HttpRequest, reservation: Reservation) -> str:
    """While the seats are held: the latest payment attempt's real state where there is
    something to say (payments.traveller_state), and the ways to pay unless a payment is
    being confirmed."""
    shown = payment_shown(reservation)
    if shown.state in (Shown.PAID, Shown.CLOSED):
        return ""
    html = ""
    if shown.state not in (Shown.NONE, Shown.OPEN):
        context = {
            "reservation": reservation,
            "shown": shown,
            "poll_url": reverse("payments:return", args=[reservation.code]),
            "on_pix_page": False,
            "hold_line": False,  # the page's status says until when the seats are held
        }
        html = render_to_string("payments/_payment_state.html", context, request=request)
    if shown.payable:
        html += payment_options_html(request, reservation)
    return html


@reservation_panel
def change_payment(request: HttpRequest, reservation: Reservation) -> str:
    """A change waiting for its difference: what it is, until when its seats are kept, and
    the ways to pay (or that the payment is being confirmed)."""
    change = change_pending(reservation.pk)
    if change is None:
        return ""
    options, unavailable = _options(reservation, change=True)
    context = {
        "reservation": reservation,
        "change": change,
        "paying": change.payment_intents.filter(status=PaymentIntent.Status.PENDING).exists(),
        "options": options,
        "unavailable": unavailable,
    }
    return render_to_string("payments/_change.html", context, request=request)


@reservation_panel
def change_offer(request: HttpRequest, reservation: Reservation) -> str:
    """A paid booking the traveller may still change (payments.views.may_change): the way
    to the change page, and until when."""

    if not reservation.can_be_changed_by_traveller():
        return ""
    return render_to_string(
        "payments/_change_offer.html", {"reservation": reservation}, request=request
    )
