"""Activities, rates, departures (slots) and reservations, in each operator's schema."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from modeltrans.fields import TranslationField

from audit.kinds import TIMELINE_KINDS, RecordedEntry
from booking.content import TranslatedContent
from booking.days import local_day_bounds
from tenants.actors import ACTOR_MAX_LENGTH

# Crockford's base32 without look-alikes: 12 characters are 60 random bits, unguessable
# and still easy to read out over the phone.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


def new_reservation_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))


# The activity's texts written per language (the operator's own content).
ACTIVITY_TEXTS = ("name", "summary", "description", "meeting_point")


class ActivityQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class PassengerData(models.TextChoices):
    """What an activity collects for each passenger, each level adding to the one before: a
    boat trip in Argentina needs the coast guard's list (Prefectura: name, document and
    nationality), some add the date of birth."""

    NONE = "none", _("Nothing")
    NAME = "name", _("Name")
    DOCUMENT = "document", _("Name, document number and nationality")
    DOCUMENT_BIRTH = "document_birth", _("Name, document, nationality and date of birth")


class Activity(TranslatedContent):
    """An activity the operator sells. Its texts are the operator's own content, in every
    language it writes them in: read `name_i18n` (and so on) for the active language."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120, blank=True)
    summary = models.CharField(max_length=240, blank=True)
    description = models.TextField(blank=True)
    duration = models.DurationField()
    meeting_point = models.CharField(max_length=240, blank=True)
    booking_cutoff = models.DurationField(
        default=timedelta(hours=2), help_text=_("Online booking closes this long before departure.")
    )
    is_active = models.BooleanField(
        default=True, help_text=_("Off: archived, hidden from travellers.")
    )
    position = models.PositiveSmallIntegerField(default=0)
    passenger_data = models.CharField(
        _("passenger data"),
        max_length=16,
        choices=PassengerData.choices,
        default=PassengerData.NONE,
        help_text=_("What travellers enter for each passenger after holding their seats."),
    )
    hold_minutes = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_("How long seats stay held while the traveller pays; empty: the operator's."),
    )
    # The cancellation policy: free until this many hours before departure (None: never
    # free), then this share of the price back.
    free_cancellation_hours = models.PositiveSmallIntegerField(null=True, blank=True)
    late_refund_percent = models.PositiveSmallIntegerField(default=0)
    language = models.CharField(
        max_length=8,
        default=settings.LANGUAGE_CODE,
        help_text=_(
            "The operator's language when written: a missing translation falls back to it."
        ),
    )
    i18n = TranslationField(fields=ACTIVITY_TEXTS, fallback_language_field="language")

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "activities"
        constraints = [
            models.CheckConstraint(
                condition=Q(late_refund_percent__lte=100), name="activity_refund_percent_lte_100"
            )
        ]

    def __str__(self) -> str:
        return self.name_i18n

    @property
    def asks_for_passengers(self) -> bool:
        return self.passenger_data != PassengerData.NONE

    @property
    def asks_for_documents(self) -> bool:
        return self.passenger_data in (PassengerData.DOCUMENT, PassengerData.DOCUMENT_BIRTH)

    @property
    def asks_for_birth_date(self) -> bool:
        return self.passenger_data == PassengerData.DOCUMENT_BIRTH

    def cancellation_policy(self) -> str:
        """The policy in the active language, as travellers read it before paying."""
        if self.free_cancellation_hours is None:
            if self.late_refund_percent:
                return _("Cancellation: %(percent)d%% refund.") % {
                    "percent": self.late_refund_percent
                }
            return _("No refund on cancellation.")
        free = _("Free cancellation until %(hours)d hours before departure;") % {
            "hours": self.free_cancellation_hours
        }
        if self.late_refund_percent:
            later = _("after that, %(percent)d%% refund.") % {"percent": self.late_refund_percent}
        else:
            later = _("after that, no refund.")
        return f"{free} {later}"


class RateQuerySet(models.QuerySet):
    def on_sale(self):
        """Rates travellers can book: not archived."""
        return self.filter(is_archived=False)


class ActivityPhoto(models.Model):
    """One picture of an activity's gallery; the first by position is its cover.

    Its renditions (JPEG, `widths` wide, no metadata) are public objects in the photos bucket,
    under the prefix of the operator whose schema holds this row (booking.photos), so a row
    can only ever name its own operator's objects. `width` and `height` are those of the widest
    rendition: the page reserves the picture's space before it loads."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="photos")
    uuid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    original_extension = models.CharField(max_length=8)
    widths = models.JSONField(default=list)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    alt = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("What the photo shows, for people who cannot see it."),
    )
    position = models.PositiveSmallIntegerField(default=0)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["activity", "position"], name="photo_gallery_order_idx")]

    def __str__(self) -> str:
        return f"{self.activity} photo {self.uuid}"

    def height_at(self, width: int) -> int:
        return max(1, round(self.height * width / self.width))


class Rate(TranslatedContent):
    """A passenger type (adult, child, senior...) with its price for one activity. Its name is
    the operator's content, like the activity's texts (`name_i18n`)."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="rates")
    code = models.SlugField(max_length=32)
    name = models.CharField(max_length=60, blank=True)
    amount = models.PositiveIntegerField(help_text=_("Price in minor units of the currency."))
    currency = models.CharField(max_length=3)
    min_per_booking = models.PositiveSmallIntegerField(default=0)
    max_per_booking = models.PositiveSmallIntegerField(default=20)
    position = models.PositiveSmallIntegerField(default=0)
    is_archived = models.BooleanField(
        default=False, help_text=_("Booked before, no longer sold: kept for its bookings.")
    )
    # The activity's language, kept on the row so that reading a rate's name needs no join.
    language = models.CharField(max_length=8, default=settings.LANGUAGE_CODE)
    i18n = TranslationField(fields=("name",), fallback_language_field="language")

    objects = RateQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "code"], name="rate_code_unique"),
            models.CheckConstraint(
                condition=Q(min_per_booking__lte=F("max_per_booking")), name="rate_min_lte_max"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity} / {self.name_i18n}"


class SlotQuerySet(models.QuerySet):
    def locked(self):
        """SELECT ... FOR NO KEY UPDATE: the seat lock. It excludes every other seat change
        but not the key-share locks that inserting a reservation (a foreign key to the slot)
        takes, so reservation rows can be written before or under it without deadlock."""
        return self.select_for_update(no_key=True, of=("self",))

    def bookable(self, now: datetime | None = None):
        """Open departures whose online booking has not closed yet."""
        now = now or timezone.now()
        return self.filter(is_open=True, starts_at__gt=now + F("activity__booking_cutoff"))

    def between(self, start: datetime, end: datetime):
        return self.filter(starts_at__gte=start, starts_at__lt=end)

    def on_days(self, first: date, days: int = 1):
        """Departures on `days` local days from `first`, in the operator's time zone."""
        return self.between(*local_day_bounds(first, days))

    def with_seat_counts(self):
        """Held and paid seats of each departure, summed in the same query."""
        return self.annotate(
            held_seats=Sum(
                "reservations__lines__quantity",
                filter=Q(reservations__status=Reservation.Status.HELD),
            ),
            paid_seats=Sum(
                "reservations__lines__quantity",
                filter=Q(reservations__status=Reservation.Status.PAID),
            ),
        )


class Slot(models.Model):
    """One departure of an activity, its seats shared by every channel that sells it.

    `taken` counts the seats of this site's live reservations; `taken_elsewhere` the seats
    other channels sold (the operator's activity panel, as its last answer said). Both change
    only under SELECT ... FOR UPDATE on this row, in booking.services; the CHECK constraint,
    that together they never exceed the capacity, is the last line of defence."""

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="slots")
    starts_at = models.DateTimeField()
    capacity = models.PositiveIntegerField()
    taken = models.PositiveIntegerField(default=0)
    taken_elsewhere = models.PositiveIntegerField(default=0)
    is_open = models.BooleanField(default=True)

    objects = SlotQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(taken__gte=0)
                & Q(taken_elsewhere__gte=0)
                & Q(capacity__gte=F("taken") + F("taken_elsewhere")),
                name="slot_taken_within_capacity",
            ),
            models.UniqueConstraint(fields=["activity", "starts_at"], name="slot_unique_start"),
        ]
        indexes = [models.Index(fields=["starts_at"], name="slot_starts_at_idx")]

    def __str__(self) -> str:
        return f"{self.activity} {self.starts_at:%Y-%m-%d %H:%M}Z"

    @property
    def seats_left(self) -> int:
        return self.capacity - self.taken - self.taken_elsewhere

    def booking_closes_at(self) -> datetime:
        return self.starts_at - self.activity.booking_cutoff

    def is_bookable(self, now: datetime | None = None) -> bool:
        return self.is_open and (now or timezone.now()) < self.booking_closes_at()


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


class ReservationChangeQuerySet(models.QuerySet):
    def locked(self):
        return self.select_for_update(no_key=True, of=("self",))

    def pending(self):
        return self.filter(status=ReservationChange.Status.PENDING)

    def overdue(self, now: datetime | None = None):
        return self.pending().filter(expires_at__lte=now or timezone.now())


class ReservationChange(models.Model):
    """New passenger counts and/or another departure for a paid reservation.

    A change that costs no more than the booking is applied at once. One that costs more is
    `pending` until its difference is paid: the seats it needs on the target departure
    (`seats_held`) are taken there meanwhile, and the reservation keeps its own seats, lines
    and total until the provider confirms the difference; then the change is applied. A
    pending change whose payment fails or whose time runs out gives its held seats back
    (`released`) and leaves the reservation exactly as it was."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for payment")
        APPLIED = "applied", _("Applied")
        RELEASED = "released", _("Dropped")

    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="changes")
    from_slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="+")
    to_slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="+")
    # The new lines: [{"rate": id, "label": name, "quantity": n, "unit_amount": minor units}].
    lines = models.JSONField()
    old_total = models.PositiveIntegerField()
    new_total = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    seats_held = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    expires_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.CharField(max_length=ACTOR_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    objects = ReservationChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reservation"],
                condition=Q(status="pending"),
                name="one_pending_change_per_reservation",
            ),
        ]

    def __str__(self) -> str:
        return f"change {self.pk} of {self.reservation_id}"

    @property
    def difference(self) -> int:
        """What the traveller pays (positive) or gets back (negative), in minor units."""
        return self.new_total - self.old_total

    @property
    def seats(self) -> int:
        return sum(line["quantity"] for line in self.lines)


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
