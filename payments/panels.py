"""What payments shows on booking's pages, through booking's extension points (booking
never imports payments)."""

import logging

from botocore.exceptions import BotoCoreError, ClientError
from django.http import HttpRequest
from django.template.loader import render_to_string

from booking.extensions import reservation_panel
from booking.models import Reservation
from payments.models import Method, Provider
from payments.providers import payment_options

logger = logging.getLogger(__name__)

LABELS = {
    (Provider.STRIPE, Method.CARD): "card",
    (Provider.STRIPE, Method.PIX): "pix",
    (Provider.MERCADOPAGO, Method.CHECKOUT): "mercadopago",
    (Provider.MERCADOPAGO, Method.PIX): "pix",
}


@reservation_panel
def payment_choices(request: HttpRequest, reservation: Reservation) -> str:
    """While the seats are held: the ways this operator can be paid in the reservation's
    currency. If the credentials cannot be read, the page still shows the held seats, and
    says so."""
    if reservation.status != Reservation.Status.HELD or reservation.hold_has_lapsed():
        return ""
    try:
        choices = payment_options(reservation.currency)
    except (BotoCoreError, ClientError):
        logger.exception("cannot read the payment credentials")
        choices, unavailable = [], True
    else:
        unavailable = False
    options = [
        {"value": f"{provider}:{method}", "kind": LABELS[(provider, method)]}
        for provider, method in choices
    ]
    context = {"reservation": reservation, "options": options, "unavailable": unavailable}
    return render_to_string("payments/_options.html", context, request=request)
