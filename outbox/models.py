"""Outbox messages, in each operator's schema."""

from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxMessageQuerySet(models.QuerySet):
    def pending(self):
        """Neither delivered nor given up on."""
        return self.filter(delivered_at__isnull=True, failed_at__isnull=True)

    def due(self, now: datetime | None = None):
        return self.pending().filter(available_at__lte=now or timezone.now())


class OutboxMessage(models.Model):
    """A side effect (an e-mail, a push to the panel) written in the same transaction as the
    change that causes it, and delivered afterwards by Huey, with retries. `topic` names the
    one consumer that handles it; consumers are idempotent."""

    topic = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Set when retries are exhausted: needs a human.")
    )
    last_error = models.TextField(blank=True)

    objects = OutboxMessageQuerySet.as_manager()

    class Meta:
        db_table = "outbox_message"
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["available_at"],
                condition=Q(delivered_at__isnull=True, failed_at__isnull=True),
                name="outbox_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"
