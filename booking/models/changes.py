"""Changes to a paid reservation (new counts, another departure), in each operator's schema."""

from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models.activities import Slot
from booking.models.reservations import Reservation
from tenants.actors import ACTOR_MAX_LENGTH


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
