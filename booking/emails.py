"""E-mails to travellers, sent as outbox consumers (never inside a request).

Every e-mail about a booking goes through `_send`: the traveller's language and the operator's
time zone, the operator's sender (Operator.email_from, Reply-To), links absolute on its site
(Operator.site_url, in `site` and `after`), the booking code's QR code inline, and a record in
the booking's timeline."""

from email.mime.image import MIMEImage
from email.mime.text import MIMEText
from urllib.parse import urlsplit

from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart
from django.db import connection
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from booking.calendar_links import after_booking, ics_text, reservation_event
from booking.models import Reservation, ReservationChange, ReservationEvent
from booking.qr import code_qr_png
from booking.records import BookingActor
from outbox.delivery import consumer
from outbox.models import OutboxMessage
from tenants.models import Operator

CONFIRMATION = "email.reservation_confirmed"
CHANGED = "email.reservation_changed"
CHANGE_PAYMENT = "email.reservation_change_payment"
LATE_PAYMENT_REFUNDED = "email.late_payment_refunded"


def _reservation(reservation_id: int) -> Reservation:
    return (
        Reservation.objects.select_related("slot__activity")
        .prefetch_related("lines")
        .get(pk=reservation_id)
    )


def _send(
    message: OutboxMessage,
    reservation: Reservation,
    template: str,
    subject,
    *,
    calendar_file: bool = False,
    qr: bool = True,
    **context,
) -> None:
    """One e-mail about a reservation, in the traveller's language and the operator's time
    zone, recorded in its timeline. Idempotent: a message already recorded is not sent
    again. `subject` is called inside the traveller's language. `calendar_file` attaches the
    departure as an .ics file (a paid booking's); `qr=False` leaves the check-in code out (a
    booking with nothing to check in)."""
    if reservation.events.filter(
        kind=ReservationEvent.Kind.EMAIL_SENT, data__outbox_message=message.pk
    ).exists():
        return
    operator = Operator.objects.get(schema_name=connection.schema_name)
    site = operator.site_url()
    qr_cid = f"qr-{reservation.code}@{urlsplit(site).hostname or 'booking'}"
    with translation.override(reservation.language), timezone.override(operator.zone):
        context |= {
            "reservation": reservation,
            "operator": operator,
            "site": site,
            "after": after_booking(reservation, operator=operator, site=site),
            "qr_cid": qr_cid,
        }
        subject = subject(reservation)
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    email = BookingEmail(
        subject,
        text,
        from_email=operator.email_from(),
        to=[reservation.contact_email],
        reply_to=operator.email_reply_to(),
        inline=[_inline_png(code_qr_png(reservation.code), qr_cid, f"{reservation.code}.png")]
        if qr  # the check-in code, shown by the booking's block
        else [],
    )
    email.attach_alternative(html, "text/html")
    if calendar_file:
        event = reservation_event(reservation, operator=operator, site=site)
        email.attach(_calendar_file(ics_text(event), f"{reservation.code}.ics"))
    email.send()
    ReservationEvent.objects.create(
        reservation=reservation,
        kind=ReservationEvent.Kind.EMAIL_SENT,
        actor=BookingActor.SYSTEM,
        note=subject,
        data={
            "to": reservation.contact_email,
            "outbox_message": message.pk,
            "template": template,
        },
    )


class BookingEmail(EmailMultiAlternatives):
    """An e-mail whose HTML shows images of its own (the QR code), as mail clients expect it:
    multipart/mixed [multipart/related [multipart/alternative [text, HTML], images], files].
    The images are parts of the HTML (by Content-ID), never downloads; files (the .ics) are."""

    def __init__(self, *args, inline: list[MIMEImage], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.inline = inline

    def _create_alternatives(self, msg):
        msg = super()._create_alternatives(msg)
        if not self.inline:
            return msg
        related = SafeMIMEMultipart(_subtype="related", encoding=self.encoding)
        related.attach(msg)
        for image in self.inline:
            related.attach(image)
        return related


def _calendar_file(text: str, filename: str) -> MIMEText:
    """The .ics as a download, base64 so that its CRLF line ends (RFC 5545) arrive intact."""
    part = MIMEText(text, "calendar", "utf-8")  # the standard library's: base64 for UTF-8
    part.set_param("method", "PUBLISH")
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def _inline_png(data: bytes, cid: str, filename: str) -> MIMEImage:
    image = MIMEImage(data, "png")
    image.add_header("Content-ID", f"<{cid}>")
    image.add_header("Content-Disposition", "inline", filename=filename)
    return image


@consumer(CONFIRMATION)
def send_reservation_confirmation(message: OutboxMessage) -> None:
    """The confirmation e-mail."""
    _send(
        message,
        _reservation(message.payload["reservation_id"]),
        "reservation_confirmed",
        lambda reservation: (
            _("Your booking %(code)s is confirmed: %(activity)s")
            % {"code": reservation.code, "activity": reservation.slot.activity.name_i18n}
        ),
        calendar_file=True,
    )


@consumer(CHANGED)
def send_reservation_changed(message: OutboxMessage) -> None:
    """The booking as it is after a change: departure, passengers, total, and the money
    given back, if any."""
    change = ReservationChange.objects.get(pk=message.payload["change_id"])
    _send(
        message,
        _reservation(change.reservation_id),
        "reservation_changed",
        lambda reservation: (
            _("Your booking %(code)s was changed: %(activity)s")
            % {"code": reservation.code, "activity": reservation.slot.activity.name_i18n}
        ),
        change=change,
        refund=max(-change.difference, 0),
    )


@consumer(CHANGE_PAYMENT)
def send_change_payment(message: OutboxMessage) -> None:
    """A change that costs more: what it is, the difference, and the link to pay it before
    the held seats are released."""
    change = ReservationChange.objects.select_related("to_slot__activity").get(
        pk=message.payload["change_id"]
    )
    _send(
        message,
        _reservation(change.reservation_id),
        "reservation_change_payment",
        lambda reservation: (
            _("Your booking %(code)s: pay the difference to confirm the change")
            % {"code": reservation.code}
        ),
        change=change,
    )


@consumer(LATE_PAYMENT_REFUNDED)
def send_late_payment_refunded(message: OutboxMessage) -> None:
    """The traveller's payment was received, the seats were no longer available (or the
    booking was already paid), and a full refund has been issued (payments records it: the
    reservation's `late_payment_refund`). No check-in code: there is nothing to check in."""
    reservation = _reservation(message.payload["reservation_id"])
    _send(
        message,
        reservation,
        "late_payment_refunded",
        lambda reservation: (
            _("Your payment for %(code)s was received and refunded in full")
            % {"code": reservation.code}
        ),
        qr=False,
        late=reservation.late_payment_refund(),
    )
