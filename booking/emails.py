"""E-mails to travellers, sent as outbox consumers (never inside a request)."""

from email.mime.image import MIMEImage

from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from booking.models import Reservation, ReservationEvent
from booking.qr import code_qr_png
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
    qr_cid = f"qr-{reservation.code}@{domain.domain if domain else 'booking'}"
    with translation.override(reservation.language), timezone.override(operator.zone):
        context = {
            "reservation": reservation,
            "operator": operator,
            "site": domain.site_url() if domain else "",
            "qr_cid": qr_cid,
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
    email.mixed_subtype = "related"  # the QR code is a part of the HTML, not a download
    email.attach(_inline_png(code_qr_png(reservation.code), qr_cid, f"{reservation.code}.png"))
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


def _inline_png(data: bytes, cid: str, filename: str) -> MIMEImage:
    image = MIMEImage(data, "png")
    image.add_header("Content-ID", f"<{cid}>")
    image.add_header("Content-Disposition", "inline", filename=filename)
    return image
