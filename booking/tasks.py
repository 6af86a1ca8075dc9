"""Background work for bookings. Tasks take plain values and enter the operator's schema."""

from django_tenants.utils import get_tenant_model, schema_context
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from booking.outbox import outbox_deliver, outbox_due
from booking.services import reservations_expire_overdue


def operator_schemas() -> list[str]:
    return list(
        get_tenant_model()
        .objects.exclude(schema_name="public")
        .values_list("schema_name", flat=True)
    )


@db_task(retries=3, retry_delay=10)
def expire_holds_of(schema_name: str) -> int:
    with schema_context(schema_name):
        return reservations_expire_overdue()


@db_periodic_task(crontab(minute="*"))
def expire_holds() -> None:
    """Every minute, release the seats of holds that ran out, operator by operator."""
    for schema_name in operator_schemas():
        expire_holds_of(schema_name)


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
    for schema_name in operator_schemas():
        with schema_context(schema_name):
            for message_id in outbox_due():
                outbox_deliver(message_id=message_id)
