import logging

from botocore.exceptions import BotoCoreError, ClientError
from django import template

from payments.models import Method, Provider
from payments.providers import payment_options

logger = logging.getLogger(__name__)
register = template.Library()

LABELS = {
    (Provider.STRIPE, Method.CARD): "card",
    (Provider.STRIPE, Method.PIX): "pix",
    (Provider.MERCADOPAGO, Method.CHECKOUT): "mercadopago",
    (Provider.MERCADOPAGO, Method.PIX): "pix",
}


@register.inclusion_tag("payments/_options.html", takes_context=True)
def payment_choices(context, reservation):
    """The ways this operator can be paid in the reservation's currency, on the reservation
    page (which belongs to booking and knows nothing of providers). If the credentials
    cannot be read, the page still shows the held seats, and says so."""
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
    return {
        "reservation": reservation,
        "options": options,
        "unavailable": unavailable,
        "request": context["request"],
    }
