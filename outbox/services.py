"""Writing to the outbox: `outbox_emit`, inside the transaction of the change that causes
the side effect; Huey delivers the message once that transaction commits."""

from django.db import connection, transaction

from outbox.delivery import has_consumer
from outbox.models import OutboxMessage
from outbox.tasks import deliver_outbox_message


def outbox_emit(*, topic: str, payload: dict) -> OutboxMessage:
    """Write a message in the caller's transaction; it is handed to Huey once that commits
    (if the hand-over is lost, the periodic sweep delivers it)."""
    if not has_consumer(topic):
        raise ValueError(f"no consumer for outbox topic {topic!r}")
    message = OutboxMessage.objects.create(topic=topic, payload=payload)
    schema_name = connection.schema_name
    transaction.on_commit(lambda: deliver_outbox_message(schema_name, message.pk))
    return message
