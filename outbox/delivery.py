"""Delivering outbox messages: the consumer registry and `outbox_deliver`.

Consumers register by topic (`@consumer("email.reservation_confirmed")`) from their app's
`ready()`; each message has exactly one consumer. Delivery locks the message row (SKIP LOCKED,
so two workers never deliver it at once), runs the consumer, and marks it delivered in the
same transaction: what the consumer writes to the database happens exactly once, what it
sends outside happens at least once.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from outbox.models import OutboxMessage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
Consumer = Callable[[OutboxMessage], None]
_consumers: dict[str, Consumer] = {}


def consumer(topic: str) -> Callable[[Consumer], Consumer]:
    def register(function: Consumer) -> Consumer:
        if topic in _consumers and _consumers[topic] is not function:
            raise ValueError(f"outbox topic {topic!r} already has a consumer")
        _consumers[topic] = function
        return function

    return register


def has_consumer(topic: str) -> bool:
    return topic in _consumers


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min ... capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def outbox_deliver(*, message_id: int, now: datetime | None = None) -> bool:
    """Deliver one message if it is due and nobody else holds it. Returns True if delivered.

    Locks: the message row (FOR UPDATE SKIP LOCKED) while its consumer runs.
    """
    now = now or timezone.now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .due(now)
            .filter(pk=message_id)
            .first()
        )
        if message is None:
            return False
        try:
            with transaction.atomic():
                _consumers[message.topic](message)
        except Exception as exc:  # any failure of a consumer is retried later
            _record_failed_attempt(message, exc, now)
            return False
        message.attempts += 1
        message.delivered_at = now
        message.save(update_fields=["attempts", "delivered_at"])
    return True


def _record_failed_attempt(message: OutboxMessage, exc: Exception, now: datetime) -> None:
    message.attempts += 1
    message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if message.attempts >= MAX_ATTEMPTS:
        message.failed_at = now
        logger.error(
            "outbox message %s gave up after %d attempts: %s",
            message,
            message.attempts,
            message.last_error,
        )
    else:
        message.available_at = now + retry_delay(message.attempts)
        logger.warning(
            "outbox message %s failed (attempt %d): %s",
            message,
            message.attempts,
            message.last_error,
        )
    message.save(update_fields=["attempts", "last_error", "failed_at", "available_at"])
