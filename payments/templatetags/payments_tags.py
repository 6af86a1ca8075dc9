from django import template

from payments.models import Method, Provider
from payments.providers import payment_options

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
    page (which belongs to booking and knows nothing of providers)."""
    options = [
        {"value": f"{provider}:{method}", "kind": LABELS[(provider, method)]}
        for provider, method in payment_options(reservation.currency)
    ]
    return {"reservation": reservation, "options": options, "request": context["request"]}
