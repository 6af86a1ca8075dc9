"""The operator's connection to its activity panel, the mappings between the panel's catalogue
and ours, and what each side last said about the other's bookings: all in the operator's
schema. The panel's API key is never here (the operator's secret holds it)."""

import zoneinfo
from datetime import datetime, timedelta

from django.db import connection, models
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from booking.models import Activity, Rate, Reservation, Slot
from tenants.actors import ACTOR_MAX_LENGTH
from tenants.models import Operator

DEFAULT_SYNC_WINDOW_DAYS = 120


class PanelConnection(models.Model):
    """One per operator (its primary key is always 1): where the panel is, what it agreed to
    speak, how far ahead we sync, and how the last pull went."""

    ONLY = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=ONLY, editable=False)
    base_url = models.URLField(
        _("panel address"),
        help_text=_("The OCTO API's base address, e.g. https://api.example/octo"),
    )
    enabled = models.BooleanField(default=False)
    capabilities = models.JSONField(
        default=list,
        blank=True,
        help_text=_("The OCTO capabilities the panel agreed to (Octo-Capabilities)."),
    )
    supplier_id = models.CharField(max_length=120, blank=True)
    supplier_name = models.CharField(max_length=200, blank=True)
    sync_window_days = models.PositiveSmallIntegerField(
        default=DEFAULT_SYNC_WINDOW_DAYS,
        help_text=_("How many days ahead departures are pulled from the panel."),
    )
    stale_after_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "Stop selling a departure here when the panel has not been heard from for this "
            "long. Empty: keep selling from the last known seats."
        ),
    )
    tested_at = models.DateTimeField(null=True, blank=True)
    last_pull_at = models.DateTimeField(
        null=True, blank=True, help_text=_("The last pull that completed.")
    )
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="panel_connection_one")]

    def __str__(self) -> str:
        return self.supplier_name or self.base_url

    @classmethod
    def current(cls) -> "PanelConnection | None":
        return cls.objects.filter(pk=cls.ONLY).first()

    @classmethod
    def enabled_one(cls) -> "PanelConnection | None":
        return cls.objects.filter(pk=cls.ONLY, enabled=True).first()

    def pull_age(self, now: datetime | None = None) -> timedelta | None:
        if self.last_pull_at is None:
            return None
        return (now or timezone.now()) - self.last_pull_at


class ProductMappingQuerySet(models.QuerySet):
    def mapped(self):
        return self.filter(activity__isnull=False)

    def unmapped(self):
        return self.filter(activity__isnull=True)


class ProductMapping(models.Model):
    """A product option of the panel, as the panel last described it, and the activity it is
    sold as here. Every option the panel lists has a row (listed for staff until mapped, never
    dropped); only mapped ones are synced."""

    panel_product_id = models.CharField(max_length=200)
    panel_option_id = models.CharField(max_length=200)
    panel_name = models.CharField(max_length=300)
    panel_option_name = models.CharField(max_length=300, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    description = models.TextField(blank=True)
    activity = models.OneToOneField(
        Activity,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="panel_mapping",
    )
    listed_at = models.DateTimeField(
        default=timezone.now, help_text=_("When the panel last listed this option.")
    )

    objects = ProductMappingQuerySet.as_manager()

    class Meta:
        ordering = ["panel_name", "panel_option_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["panel_product_id", "panel_option_id"], name="product_mapping_unique"
            )
        ]

    def __str__(self) -> str:
        if self.panel_option_name not in ("", "DEFAULT", self.panel_name):
            return f"{self.panel_name} / {self.panel_option_name}"
        return self.panel_name

    def zone(self) -> zoneinfo.ZoneInfo:
        """The product's time zone (its local days are the panel's), else the operator's."""
        try:
            if self.time_zone:
                return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
        return Operator.objects.get(schema_name=connection.schema_name).zone


class UnitMapping(models.Model):
    """A passenger type of a panel option (its unit: ADULT, CHILD...) and our rate for it."""

    product = models.ForeignKey(ProductMapping, on_delete=models.CASCADE, related_name="units")
    panel_unit_id = models.CharField(max_length=200)
    unit_type = models.CharField(max_length=16)
    panel_name = models.CharField(max_length=200)
    pax_count = models.PositiveSmallIntegerField(default=1)
    max_quantity = models.PositiveSmallIntegerField(null=True, blank=True)
    # The unit's own price as the panel last listed it (octo/pricing), in our minor units.
    panel_amount = models.PositiveIntegerField(null=True, blank=True)
    panel_currency = models.CharField(max_length=3, blank=True)
    rate = models.OneToOneField(
        Rate, null=True, blank=True, on_delete=models.SET_NULL, related_name="panel_unit"
    )

    class Meta:
        ordering = ["product", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "panel_unit_id"], name="unit_mapping_unique")
        ]

    def __str__(self) -> str:
        return f"{self.product} / {self.panel_name} ({self.unit_type})"


class AvailabilityMapping(models.Model):
    """A departure of the panel (its availability id) and ours, with what the panel last said
    about it."""

    product = models.ForeignKey(
        ProductMapping, on_delete=models.CASCADE, related_name="availabilities"
    )
    panel_availability_id = models.CharField(max_length=200)
    slot = models.OneToOneField(Slot, on_delete=models.CASCADE, related_name="panel_availability")
    status = models.CharField(max_length=16, blank=True)
    capacity = models.PositiveIntegerField(null=True, blank=True)
    vacancies = models.PositiveIntegerField(null=True, blank=True)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["slot__starts_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "panel_availability_id"], name="availability_mapping_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.panel_availability_id}"


class PanelBookingQuerySet(models.QuerySet):
    def holding(self, now: datetime | None = None):
        """Bookings of ours that hold seats at the panel: confirmed, or on hold and not past
        the expiry the panel gave them."""
        now = now or timezone.now()
        return self.filter(
            Q(status=PanelBooking.Status.CONFIRMED)
            | Q(status=PanelBooking.Status.ON_HOLD)
            & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        )

    def seats_by_slot(self, slot_ids, now: datetime | None = None) -> dict[int, int]:
        rows = (
            self.holding(now)
            .filter(reservation__slot_id__in=slot_ids)
            .values("reservation__slot_id")
            .annotate(total=Sum("seats"))
        )
        return {row["reservation__slot_id"]: row["total"] or 0 for row in rows}

    def current(self):
        return self.order_by("-attempt")


class PanelBooking(models.Model):
    """Our reservation as a booking at the panel, named by an OCTO `uuid` that is the
    reservation's own (`Reservation.uuid`) on the first attempt. A reservation the panel let
    lapse or cancelled and that must hold seats again (a payment landing after the panel's
    hold ran out) is booked again as the next attempt, under a uuid derived from the first,
    so that every retry of a push names the same booking."""

    class Status(models.TextChoices):
        ON_HOLD = "ON_HOLD", _("On hold at the panel")
        CONFIRMED = "CONFIRMED", _("Confirmed at the panel")
        CANCELLED = "CANCELLED", _("Cancelled at the panel")
        EXPIRED = "EXPIRED", _("Expired at the panel")
        REFUSED = "REFUSED", _("Refused by the panel")

    reservation = models.ForeignKey(
        Reservation, on_delete=models.CASCADE, related_name="panel_bookings"
    )
    attempt = models.PositiveSmallIntegerField(default=0)
    uuid = models.UUIDField(unique=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    panel_id = models.CharField(max_length=200, blank=True)
    supplier_reference = models.CharField(max_length=120, blank=True)
    availability_id = models.CharField(max_length=200, blank=True)
    seats = models.PositiveIntegerField(
        default=0, help_text=_("The seats the panel counts for this booking.")
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    last_push_at = models.DateTimeField(default=timezone.now)

    objects = PanelBookingQuerySet.as_manager()

    class Meta:
        ordering = ["reservation", "attempt"]
        constraints = [
            models.UniqueConstraint(
                fields=["reservation", "attempt"], name="panel_booking_attempt_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.uuid} {self.status}"

    def holds_seats(self, now: datetime | None = None) -> bool:
        if self.status == self.Status.CONFIRMED:
            return True
        return self.status == self.Status.ON_HOLD and (
            self.expires_at is None or self.expires_at > (now or timezone.now())
        )


# OCTO statuses read as one of ours (a booking awaiting the supplier is a hold...).
PANEL_STATUS_NAMES = {"PENDING": "ON_HOLD", "REDEEMED": "CONFIRMED", "REJECTED": "CANCELLED"}


class ExternalBookingQuerySet(models.QuerySet):
    def holding(self):
        return self.filter(status__in=ExternalBooking.HOLDING_STATUSES)


class ExternalBooking(models.Model):
    """A booking made on the panel, not by us (its desk, agencies, hotels), as `GET /bookings`
    last showed it: read-only here, for the manifest and the reservation search."""

    HOLDING_STATUSES = ("ON_HOLD", "CONFIRMED")

    panel_uuid = models.UUIDField(unique=True)
    supplier_reference = models.CharField(max_length=120, blank=True)
    reseller_reference = models.CharField(max_length=120, blank=True)
    product = models.ForeignKey(
        ProductMapping, on_delete=models.CASCADE, related_name="external_bookings"
    )
    panel_availability_id = models.CharField(max_length=200)
    slot = models.ForeignKey(
        Slot, null=True, blank=True, on_delete=models.SET_NULL, related_name="external_bookings"
    )
    status = models.CharField(max_length=16)
    units = models.JSONField(
        default=list, help_text=_("[{unit_id, type, name, quantity}] as the panel listed them.")
    )
    seats = models.PositiveIntegerField(default=0)
    contact_name = models.CharField(max_length=200, blank=True)
    panel_created_at = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField(default=timezone.now)

    objects = ExternalBookingQuerySet.as_manager()

    class Meta:
        ordering = ["slot__starts_at", "panel_created_at", "id"]

    def __str__(self) -> str:
        return f"{self.supplier_reference or self.panel_uuid} ({self.status})"

    def status_label(self) -> str:
        """The panel's status in the staff's words."""
        try:
            return str(PanelBooking.Status(PANEL_STATUS_NAMES.get(self.status, self.status)).label)
        except ValueError:
            return self.status

    def units_summary(self) -> str:
        """ "2 × Adulto, 1 × Menor", as the panel listed the passengers."""
        return ", ".join(
            f"{line.get('quantity', 0)} × {line.get('name') or line.get('type') or '?'}"
            for line in self.units
            if isinstance(line, dict)
        )


class PanelConflictQuerySet(models.QuerySet):
    def open(self):
        return self.filter(resolved_at__isnull=True)


class PanelConflict(models.Model):
    """Something between the panel and us that needs a human: a booking sold here that the
    panel refused, seats sold on both sides beyond the capacity, a cancellation the panel did
    not take. Never dropped; resolved by staff, with who and when.

    Its own model, not payments' Anomaly: these are about seats, not money, often have no
    payment at all (a hold), and panel_sync may not import payments (they are independent
    layers). The backoffice lists both."""

    class Kind(models.TextChoices):
        REFUSED = "refused", _("Sold here, refused by the panel")
        OVERSOLD = "oversold", _("Sold on both sides beyond the capacity")
        CANCEL_REFUSED = "cancel_refused", _("Released here, the panel kept it")

    kind = models.CharField(max_length=32, choices=Kind.choices)
    reservation = models.ForeignKey(
        Reservation, null=True, blank=True, on_delete=models.CASCADE, related_name="panel_conflicts"
    )
    slot = models.ForeignKey(
        Slot, null=True, blank=True, on_delete=models.CASCADE, related_name="panel_conflicts"
    )
    details = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=ACTOR_MAX_LENGTH, blank=True)

    objects = PanelConflictQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open conflict per reservation and kind, and one open over-sale per departure:
            # the same fact told again (a replayed push, the next pull) updates it.
            models.UniqueConstraint(
                fields=["kind", "reservation"],
                condition=Q(resolved_at__isnull=True, reservation__isnull=False),
                name="panel_conflict_open_per_reservation",
            ),
            models.UniqueConstraint(
                fields=["kind", "slot"],
                condition=Q(resolved_at__isnull=True, reservation__isnull=True),
                name="panel_conflict_open_per_slot",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.reservation or self.slot})"

    def staff_details(self) -> str:
        """The details in the reader's language where the data says them (an over-sale's
        numbers), else as they were recorded."""
        data = self.data if isinstance(self.data, dict) else {}
        numbers = ("oversold", "capacity", "here", "panel")
        if self.kind == self.Kind.OVERSOLD and all(isinstance(data.get(n), int) for n in numbers):
            return ngettext(
                "%(oversold)d seat sold on both sides beyond the capacity of %(capacity)d: "
                "%(here)d here, %(panel)d at the panel.",
                "%(oversold)d seats sold on both sides beyond the capacity of %(capacity)d: "
                "%(here)d here, %(panel)d at the panel.",
                data["oversold"],
            ) % {name: data[name] for name in numbers}
        return self.details
