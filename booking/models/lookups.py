"""Misses of "find my booking", counted per key (a client's address, a code) and time window,
so that guessing codes is slowed down across every web worker (the database is the store
they share: the project configures no shared cache)."""

from django.db import models


class LookupAttempts(models.Model):
    """How many lookups one key spent in one window (booking.manage claims them)."""

    key = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="lookup_attempts_unique")
        ]
        indexes = [models.Index(fields=["window_start"], name="lookup_attempts_window_idx")]

    def __str__(self) -> str:
        return f"{self.key} {self.window_start:%H:%M}: {self.count}"
