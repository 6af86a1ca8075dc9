"""Audit entries, in each operator's schema."""

from django.db import models
from django.utils import timezone

from audit.kinds import AUDIT_ACTIONS, RecordedEntry


class AuditEntry(RecordedEntry, models.Model):
    """A staff action on the catalogue, departures or team: who, when, what. (Actions on a
    reservation are in its own timeline.)"""

    at = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=254)
    action = models.CharField(max_length=64)
    target = models.CharField(max_length=200)
    data = models.JSONField(default=dict, blank=True)

    kinds = AUDIT_ACTIONS

    class Meta:
        db_table = "audit_entry"
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target}"
