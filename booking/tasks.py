"""Background work for bookings. Tasks take plain values and enter the operator's schema."""

from django_tenants.utils import schema_context
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from booking.changes import reservation_changes_expire_overdue
from booking.services import reservations_expire_overdue
from tenants.actors import Actor
from tenants.models import Operator


@db_task(retries=3, retry_delay=10)
def expire_holds_of(schema_name: str) -> int:
    """Holds, and the seats held for changes whose difference was not paid in time."""
    with schema_context(schema_name):
        expired = reservations_expire_overdue(actor=Actor.system())
        return expired + reservation_changes_expire_overdue(actor=Actor.system())


@db_periodic_task(crontab(minute="*"))
def expire_holds() -> None:
    """Every minute, release the seats of holds (and of unpaid changes) that ran out,
    operator by operator."""
    for schema_name in Operator.objects.schema_names():
        expire_holds_of(schema_name)
