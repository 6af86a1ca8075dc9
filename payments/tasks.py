"""Background work for payments."""

from datetime import timedelta

from django.conf import settings
from django_tenants.utils import schema_context
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from payments.services.reconciliation import payments_reconcile_stale
from tenants.actors import Actor
from tenants.models import Operator


@db_task(retries=2, retry_delay=60)
def reconcile_operator(schema_name: str) -> int:
    with schema_context(schema_name):
        return payments_reconcile_stale(
            actor=Actor.system("reconciliation"),
            older_than=timedelta(minutes=settings.PAYMENT_RECONCILE_AFTER_MINUTES),
        )


@db_periodic_task(crontab(minute="*/5"))
def reconcile_stale_payments() -> None:
    """Every five minutes, ask the providers about attempts that never got a webhook."""
    for schema_name in Operator.objects.schema_names():
        reconcile_operator(schema_name)
