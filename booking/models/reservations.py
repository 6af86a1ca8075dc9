"""Reservations, their lines, passengers and timeline, and idempotency keys (per operator)."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from audit.kinds import TIMELINE_KINDS, RecordedEntry
from booking.models.activities import Rate, Slot
from tenants.actors import ACTOR_MAX_LENGTH

# Crockford's base32 without look-alikes: 12 characters are 60 random bits, unguessable
# and still easy to read out over the phone.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


def new_reservation_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))


class ReservationQuerySet(models.QuerySet):
    def locked(self):
        """SELECT ... FOR NO KEY UPDATE on the reservations only (not on joined rows): taken
        before their slot's lock, never after it."""
        return self.select_for_update(no_key=True, of=("self",))

    def live(self):
        """Reservations whose seats are taken."""
        return self.filter(status__in=Reservation.SEAT_HOLDING_STATUSES)

    def overdue_holds(self, now: datetime | None = None):
        return self.filter(
            status=Reservation.Status.HELD, hold_expires_at__lte=now or timezone.now()
        )

    def with_seats(self):
        return self.annotate(seat_count=Sum("lines__quantity"))


class Reservation(models.Model):
    class Status(models.TextChoices):
        HELD = "held", _("Held")
        PAID = "paid", _("Paid")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")

    class Attendance(models.TextChoices):
        ARRIVED = "arrived", _("Arrived")
        NO_SHOW = "no_show", _("No-show")

    SEAT_HOLDING_STATUSES = (Status.HELD, Status.PAID)

    code = models.CharField(max_length=16, unique=True, default=new_reservation_code)
    # The reservation's name in other systems (the OCTO booking `uuid` at the operator's
    # panel): random, so it says nothing and is the same on every retry of a push.
    uuid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="reservations")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.HELD)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    total_amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    contact_name = models.CharField(max_length=120)
    contact_email = models.EmailField()
    contact_phone = models.CharField(max_length=40, blank=True)
    language = models.CharField(max_length=8, default="es")
    client_scope = models.CharField(
        max_length=64, help_text=_("The browser session that made it (idempotency, ownership).")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Check-in at departure (booking.checkin): blank until staff mark it, with who and when.
    attendance = models.CharField(max_length=8, choices=Attendance.choices, blank=True)
    attendance_at = models.DateTimeField(null=True, blank=True)
    attendance_by = models.CharField(max_length=ACTOR_MAX_LENGTH, blank=True)

    objects = ReservationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["hold_expires_at"],
                condition=Q(status="held"),
                name="reservation_open_holds_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def get_absolute_url(self) -> str:
        return self.page_path(self.code)

    @staticmethod
    def page_path(code: str) -> str:
        return reverse("booking:reservation", args=[code])

    @property
    def seats(self) -> int:
        return sum(line.quantity for line in self.lines.all())

    def activity_name(self) -> str:
        """The activity's name in the traveller's language, whatever the language active now
        (the description of a provider's checkout, sent again unchanged on a retry)."""
        with translation.override(self.language):
            return self.slot.activity.name_i18n

    def holds_seats(self) -> bool:
        return self.status in self.SEAT_HOLDING_STATUSES

    def hold_has_lapsed(self, now: datetime | None = None) -> bool:
        """Held past its expiry: the seats are about to be released by the sweep."""
        return (
            self.status == self.Status.HELD
            and self.hold_expires_at is not None
            and self.hold_expires_at <= (now or timezone.now())
        )

    def hold_seconds_left(self, now: datetime | None = None) -> int:
        if self.status != self.Status.HELD or self.hold_expires_at is None:
            return 0
        return max(0, int((self.hold_expires_at - (now or timezone.now())).total_seconds()))

    def was_sold_elsewhere(self) -> bool:
        """Cancelled because another channel had sold its seats first (one query)."""
        return self.status == self.Status.CANCELLED and (
            self.events.filter(kind=ReservationEvent.Kind.SOLD_ELSEWHERE).exists()
        )

    def cancelled_after_payment(self) -> bool:
        """Paid, then cancelled by its traveller (booking.cancellation, which records the
        refund it gave): a payment landing later does not bring it back (one query)."""
        return self.status == self.Status.CANCELLED and (
            self.events.filter(
                kind=ReservationEvent.Kind.CANCELLED, data__has_key="refund"
            ).exists()
        )

    def late_payment_refund(self) -> "ReservationEvent | None":
        """The full refund of a payment that came when its seats could not be taken (payments
        records it, DESIGN.md invariant 10), if any: what the traveller is told (one query)."""
        return self.events.filter(kind=ReservationEvent.Kind.LATE_PAYMENT_REFUNDED).last()

    def can_be_cancelled_by_traveller(self, client_scope: str) -> bool:
        return self.status == self.Status.HELD and self.client_scope == client_scope

    def seat_list(self) -> list["Seat"]:
        """One entry per seat, line by line, numbered from 1 within each rate: the places a
        passenger's details fill (lines prefetched)."""
        return [
            Seat(rate_id=line.rate_id, label=line.label, number=number)
            for line in self.lines.all()
            for number in range(1, line.quantity + 1)
        ]

    def passengers_missing(self) -> int:
        """Seats still without a passenger's details, when the activity asks for them (lines
        and passengers prefetched, slot and activity selected)."""
        if not self.slot.activity.asks_for_passengers:
            return 0
        return max(self.seats - len(self.passengers.all()), 0)

    def passengers_open_to_traveller(self, now: datetime | None = None) -> bool:
        """The traveller may enter or change the passengers: the activity asks for them, the
        seats are still theirs and the departure has not left."""
        return (
            self.slot.activity.asks_for_passengers
            and self.holds_seats()
            and not self.hold_has_lapsed(now)
            and (now or timezone.now()) < self.slot.starts_at
        )

    def can_be_changed_by_traveller(self, now: datetime | None = None) -> bool:
        """The traveller's own change (booking.changes): a paid booking, until its
        departure's online booking closes, with no change already waiting for its payment."""
        return (
            self.status == self.Status.PAID
            and (now or timezone.now()) < self.slot.booking_closes_at()
            and not self.changes.filter(status="pending").exists()
        )


class ReservationLine(models.Model):
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    rate = models.ForeignKey(Rate, on_delete=models.PROTECT, related_name="+")
    label = models.CharField(max_length=60, help_text=_("The rate's name when booked."))
    quantity = models.PositiveSmallIntegerField()
    unit_amount = models.PositiveIntegerField(help_text=_("The rate's price when booked."))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.label}"

    @property
    def line_total(self) -> int:
        return self.quantity * self.unit_amount


@dataclass(frozen=True)
class Seat:
    rate_id: int
    label: str
    number: int


class Passenger(models.Model):
    """Who travels on one seat of a reservation, as much as the activity asks for (its
    `passenger_data`). Written by booking.passengers, all of a reservation's at once."""

    reservation = models.ForeignKey(
        Reservation, on_delete=models.CASCADE, related_name="passengers"
    )
    rate = models.ForeignKey(Rate, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(help_text=_("The seat's place in the booking."))
    full_name = models.CharField(_("full name"), max_length=120)
    document_number = models.CharField(_("document number"), max_length=20, blank=True)
    nationality = models.CharField(
        _("nationality"), max_length=2, blank=True, help_text=_("ISO 3166-1 alpha-2 code.")
    )
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reservation", "position"], name="passenger_position_unique"
            )
        ]

    def __str__(self) -> str:
        return self.full_name


class ReservationEvent(RecordedEntry, models.Model):
    """The reservation's timeline: what happened, when, and who did it."""

    class Kind(models.TextChoices):
        """What booking writes in the timeline (payments and panel sync register theirs:
        audit.kinds.TIMELINE_KINDS)."""

        HELD = "held", _("Seats held")
        HOLD_EXTENDED = "hold_extended", _("Hold extended while paying")
        EXPIRED = "expired", _("Hold expired, seats released")
        CANCELLED = "cancelled", _("Cancelled, seats released")
        PAID = "paid", _("Paid")
        PAID_WITHOUT_SEATS = "paid_without_seats", _("Paid, but the seats were gone")
        SEATS_RETAKEN = "seats_retaken", _("Seats taken again for a late payment")
        REFUNDED = "refunded", _("Refunded in full, seats released")
        CONFIRMATION_RESENT = "confirmation_resent", _("Confirmation to be sent again")
        EMAIL_SENT = "email_sent", _("E-mail sent")
        PASSENGERS_SAVED = "passengers_saved", _("Passenger details saved")
        SOLD_ELSEWHERE = "sold_elsewhere", _("Released: the seats were sold on another channel")
        ARRIVED = "checked_in", _("Checked in: arrived")
        NO_SHOW = "no_show", _("Checked in: did not show up")
        ATTENDANCE_UNDONE = "check_in_undone", _("Check-in undone")
        CHANGE_PENDING = "change_pending", _("Change waiting for the payment of its difference")
        CHANGED = "changed", _("Booking changed")
        CHANGE_RELEASED = "change_released", _("Change dropped, the booking is as it was")
        CHANGE_NOT_APPLIED = "change_not_applied", _("Difference paid after the change ended")
        LATE_PAYMENT_REFUNDED = (
            "late_payment_refunded",
            _("Payment came after the seats were gone: refunded in full"),
        )

    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=32)
    actor = models.CharField(max_length=ACTOR_MAX_LENGTH)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    kinds = TIMELINE_KINDS

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.reservation_id} {self.kind}"


class IdempotencyKey(models.Model):
    """A reservation request seen before: the fingerprint of what was asked and the response
    that was given, so a replay gets the same answer and a different request is refused."""

    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_location = models.CharField(max_length=300)
    reservation_code = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scope}/{self.key}"
