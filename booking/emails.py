"""E-mails to travellers, sent as outbox consumers (never inside a request)."""

from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from booking.models import Reservation, ReservationEvent
from booking.records import BookingActor
from outbox.delivery import consumer
from outbox.models import OutboxMessage
from tenants.models import Domain, Operator

CONFIRMATION = "email.reservation_confirmed"


@consumer(CONFIRMATION)
def send_reservation_confirmation(message: OutboxMessage) -> None:
    """The confirmation e-mail, in the traveller's language and the operator's time zone.
    Idempotent: a message already recorded in the timeline is not sent again."""
    reservation = (
        Reservation.objects.select_related("slot__activity")
        .prefetch_related("lines")
        .get(pk=message.payload["reservation_id"])
    )
    if reservation.events.filter(
        kind=ReservationEvent.Kind.EMAIL_SENT, data__outbox_message=message.pk
    ).exists():
        return
    operator = Operator.objects.get(schema_name=connection.schema_name)
    domain = Domain.objects.filter(tenant=operator, is_primary=True).first()
    with translation.override(reservation.language), timezone.override(operator.zone):
        context = {
            "reservation": reservation,
            "operator": operator,
            "site": domain.site_url() if domain else "",
        }
        subject = _("Your booking %(code)s is confirmed: %(activity)s") % {
            "code": reservation.code,
            "activity": reservation.slot.activity.name_i18n,
        }
        text = render_to_string("emails/reservation_confirmed.txt", context)
        html = render_to_string("emails/reservation_confirmed.html", context)
    email = EmailMultiAlternatives(
        subject,
        text,
        from_email=operator.email_from(),
        to=[reservation.contact_email],
        reply_to=operator.email_reply_to(),
    )
    email.attach_alternative(html, "text/html")
    email.send()
    ReservationEvent.objects.create(
        reservation=reservation,
        kind=ReservationEvent.Kind.EMAIL_SENT,
        actor=BookingActor.SYSTEM,
        note=subject,
        data={
            "to": reservation.contact_email,
            "outbox_message": message.pk,
            "template": "reservation_confirmed",
        },
    )
