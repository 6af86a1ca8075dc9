"""What payments writes in a reservation's timeline (PaymentIntent.add_to_timeline and the
anomalies), and how each entry's details read (registered in audit.kinds from
PaymentsConfig.ready). Amounts are in the reservation's currency."""

from django.db.models import TextChoices
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.kinds import ACTOR_NAMES, TIMELINE_KINDS, old_to_new
from booking.records import money
from payments.models import Anomaly, Method, PaymentIntent, Provider, WebhookEvent


class PaymentEvent(TextChoices):
    PAYMENT_STARTED = "payment_started", gettext_lazy("Payment started")
    PAYMENT_START_FAILED = "payment_start_failed", gettext_lazy("The provider refused to start it")
    PAYMENT_START_UNANSWERED = (
        "payment_start_unanswered",
        gettext_lazy("The provider did not answer the start of a payment"),
    )
    CHECKOUT_FOUND = "checkout_found", gettext_lazy("Unanswered checkout found at the provider")
    PAYMENT_DECLINED = "payment_declined", gettext_lazy("Card declined; the traveller may retry")
    PAYMENT_FAILED = "payment_failed", gettext_lazy("Payment failed")
    PAYMENT_CANCELLED = "payment_cancelled", gettext_lazy("Payment cancelled")
    PAYMENT_EXPIRED = "payment_expired", gettext_lazy("Payment expired")
    RECONCILED = "reconciled", gettext_lazy("Provider asked (reconciliation)")
    PAYMENT_CHECKED = (
        "payment_checked",
        gettext_lazy("Provider asked when the traveller came back"),
    )
    WEBHOOK_REPROCESSED = "webhook_reprocessed", gettext_lazy("Webhook processed again")
    REFUND_REQUESTED = "refund_requested", gettext_lazy("Refund requested")
    REFUND_UNANSWERED = "refund_unanswered", gettext_lazy("The provider did not answer a refund")
    REFUND_FAILED = "refund_failed", gettext_lazy("Refund failed")
    REFUND_CONFIRMED = "refund_confirmed", gettext_lazy("Refund confirmed by the provider")
    CHECKOUT_ENDED = "checkout_ended", gettext_lazy("Hold ended: checkout ended at the provider")
    ANOMALY = "anomaly", gettext_lazy("Anomaly raised for staff")
    ANOMALY_RESOLVED = "anomaly_resolved", gettext_lazy("Anomaly resolved")


class PaymentActor(TextChoices):
    """The names payments' actors are recorded by: providers' verified webhooks, and the
    periodic reconciliation."""

    STRIPE_WEBHOOK = "stripe webhook", gettext_lazy("Stripe (verified webhook)")
    MERCADOPAGO_WEBHOOK = "mercadopago webhook", gettext_lazy("Mercado Pago (verified webhook)")
    RECONCILIATION = "reconciliation", gettext_lazy("Reconciliation with the provider")
    AUTOMATIC_REFUND = "automatic refund", gettext_lazy("Automatic refund of late money")
    HOLD_ENDED = "hold ended", gettext_lazy("The end of the hold")
    ON_RETURN = (
        "provider asked on return",
        gettext_lazy("The provider, asked when the traveller came back"),
    )


def _label(choices: type[TextChoices], value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _provider(event) -> str:
    return _label(Provider, event.data.get("provider", ""))


def _started(event) -> str:
    method = _label(Method, event.data.get("method", ""))
    return " · ".join(part for part in (_provider(event), method) if part)


def _amount(key: str):
    def describe(event) -> str:
        if key not in event.data:
            return _provider(event)
        return f"{money(event.data[key], event.reservation.currency)} · {_provider(event)}"

    return describe


def _refund_confirmed(event) -> str:
    return _("%(amount)s refunded in all · %(provider)s") % {
        "amount": money(event.data.get("amount_refunded", 0), event.reservation.currency),
        "provider": _provider(event),
    }


def _reconciled(event) -> str:
    if "after" not in event.data:
        return _provider(event)  # recorded before the states were: its note tells them
    change = old_to_new(
        _label(PaymentIntent.Status, event.data["before"]),
        _label(PaymentIntent.Status, event.data["after"]),
    )
    return f"{change} · {_provider(event)}"


def _checked(event) -> str:
    """What the provider answered (or that it did not), and what changed."""
    if not event.data.get("answered"):
        return f"{_('No answer')} · {_provider(event)}"
    parts = [_provider(event)]
    if event.data.get("cancelled"):
        parts.insert(0, _("came back by the cancel link"))
    if event.data.get("before") != event.data.get("after"):
        parts.insert(
            0,
            old_to_new(
                _label(PaymentIntent.Status, event.data.get("before", "")),
                _label(PaymentIntent.Status, event.data.get("after", "")),
            ),
        )
    elif event.data.get("in_progress"):
        parts.insert(0, _("payment in progress"))
    return " · ".join(parts)


def _webhook_reprocessed(event) -> str:
    outcome = _label(WebhookEvent.Outcome, event.data.get("outcome", ""))
    return " · ".join(part for part in (event.data.get("event", ""), outcome) if part)


def _anomaly(event) -> str:
    return _label(Anomaly.Kind, event.data.get("anomaly", ""))


def register_kinds() -> None:
    E = PaymentEvent
    TIMELINE_KINDS.register(
        "payments",
        E,
        {
            E.PAYMENT_STARTED: _started,
            E.PAYMENT_START_FAILED: _provider,
            E.PAYMENT_START_UNANSWERED: _provider,
            E.CHECKOUT_FOUND: _provider,
            E.PAYMENT_DECLINED: _provider,
            E.PAYMENT_FAILED: _provider,
            E.PAYMENT_CANCELLED: _provider,
            E.PAYMENT_EXPIRED: _provider,
            E.CHECKOUT_ENDED: _provider,
            E.RECONCILED: _reconciled,
            E.PAYMENT_CHECKED: _checked,
            E.WEBHOOK_REPROCESSED: _webhook_reprocessed,
            E.REFUND_REQUESTED: _amount("amount"),
            E.REFUND_UNANSWERED: _amount("amount"),
            E.REFUND_FAILED: _amount("amount"),
            E.REFUND_CONFIRMED: _refund_confirmed,
            E.ANOMALY: _anomaly,
            E.ANOMALY_RESOLVED: _anomaly,
        },
    )
    ACTOR_NAMES.register(PaymentActor)
