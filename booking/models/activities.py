"""Activities, their photos and rates, and departures (slots), in each operator's schema."""

import uuid
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modeltrans.fields import TranslationField

from booking.content import TranslatedContent
from booking.days import local_day_bounds

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


class ActivityPhoto(TranslatedContent):
    """One picture of an activity's gallery; the first by position is its cover. Its
    alternative text is the operator's content, per language like the activity's texts:
    read `alt_i18n`.

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
    # The operator's language when described, kept on the row as rates keep theirs.
    language = models.CharField(max_length=8, default=settings.LANGUAGE_CODE)
    i18n = TranslationField(fields=("alt",), fallback_language_field="language")

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
        from booking.models.reservations import Reservation  # which imports this module

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
