"""Anomalies: something about money that needs a human (a payment for a closed attempt, a
reservation paid twice or without seats, a wrong amount). Raised by the transition path,
never dropped; resolved by staff, with who and when."""

import logging

from django.db import transaction
from django.utils import timezone

from booking.models import ReservationEvent
from payments.models import Anomaly, PaymentIntent, WebhookEvent
from tenants.actors import STAFF, Actor, actor_require
from tenants.models import Role

logger = logging.getLogger(__name__)


def anomaly_raise(
    intent: PaymentIntent,
    kind: str,
    details: str,
    webhook: WebhookEvent | None,
    *,
    payment_id: str = "",
) -> Anomaly:
    """In the caller's transaction: the staff's queue, the reservation's timeline, the log."""
    anomaly = Anomaly.objects.create(
        kind=kind,
        reservation_id=intent.reservation_id,
        intent=intent,
        webhook=webhook,
        details=details,
        provider_payment_id=payment_id,
    )
    intent.add_to_timeline("anomaly", "system", note=details, anomaly=kind)
    logger.warning("payment anomaly %s on intent %s: %s", kind, intent.pk, details)
    return anomaly


def anomaly_resolve(*, anomaly_id: int, actor: Actor) -> Anomaly:
    """Staff dealt with it (refunded, honoured the booking...): recorded with who and when."""
    actor_require(actor, STAFF, role=Role.MANAGER)
    with transaction.atomic():
        anomaly = Anomaly.objects.select_for_update(no_key=True).get(
            pk=anomaly_id, resolved_at__isnull=True
        )
        anomaly.resolved_at, anomaly.resolved_by = timezone.now(), str(actor)
        anomaly.save(update_fields=["resolved_at", "resolved_by"])
        ReservationEvent.objects.create(
            reservation_id=anomaly.reservation_id,
            kind="anomaly_resolved",
            actor=str(actor),
            data={"anomaly": anomaly.kind},
        )
    return anomaly
