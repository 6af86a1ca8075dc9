"""Background work of panel sync: the pull every minute for each operator with an enabled
connection, and the pull a notification asks for. Tasks take plain values and enter the
operator's schema; the same operator is never pulled twice at once (a Huey lock)."""

import logging
from datetime import date

from django_tenants.utils import schema_context
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task
from huey.exceptions import TaskLockedException

from panel_sync.models import PanelConnection
from panel_sync.services.pull import panel_pull
from tenants.actors import Actor
from tenants.models import Operator

logger = logging.getLogger(__name__)

ACTOR = Actor.system("panel pull")


def _pull(schema_name: str, **scope) -> bool:
    try:
        with HUEY.lock_task(f"panel_pull:{schema_name}"), schema_context(schema_name):
            return panel_pull(actor=ACTOR, **scope).ok
    except TaskLockedException:
        logger.info("panel pull of %s skipped: another one is running", schema_name)
        return False


@db_task()
def pull_operator(schema_name: str) -> bool:
    """The whole sync window of one operator. Not retried by Huey: the next minute's pull is
    the retry."""
    return _pull(schema_name)


@db_task()
def pull_named(
    schema_name: str, mapping_ids: list[int], first_day: str | None, last_day: str | None
) -> bool:
    """What a notification named (its products and days), pulled at once."""
    return _pull(
        schema_name,
        mapping_ids=mapping_ids,
        first_day=date.fromisoformat(first_day) if first_day else None,
        last_day=date.fromisoformat(last_day) if last_day else None,
    )


@db_periodic_task(crontab(minute="*"))
def pull_panels() -> None:
    """Every minute, a pull for each operator whose panel connection is enabled."""
    for schema_name in Operator.objects.schema_names():
        with schema_context(schema_name):
            enabled = PanelConnection.objects.filter(enabled=True).exists()
        if enabled:
            pull_operator(schema_name)
