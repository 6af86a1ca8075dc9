"""Delivering the outbox: on commit, and every minute for what is due."""

from django_tenants.utils import schema_context
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from outbox.delivery import outbox_deliver
from outbox.models import OutboxMessage
from tenants.models import Operator

SWEEP_BATCH = 500


@db_task()
def deliver_outbox_message(schema_name: str, message_id: int) -> bool:
    """Enqueued on commit of the transaction that wrote the message. A failure is not
    retried by Huey: the message keeps its own retry time, and the sweep picks it up."""
    with schema_context(schema_name):
        return outbox_deliver(message_id=message_id)


@db_periodic_task(crontab(minute="*"))
def sweep_outbox() -> None:
    """Every minute, deliver what is due: retries, and messages whose enqueue was lost (a
    worker or the broker died between the commit and the delivery)."""
    for schema_name in Operator.objects.schema_names():
        with schema_context(schema_name):
            due = OutboxMessage.objects.due().values_list("pk", flat=True)[:SWEEP_BATCH]
            for message_id in list(due):
                outbox_deliver(message_id=message_id)
