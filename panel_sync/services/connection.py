"""The operator's connection to its panel: set up by an owner, tested against the panel
(`GET /supplier`, `GET /products`), and the client every push and pull speaks through."""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from panel_sync.credentials import (
    PanelNotConfigured,
    SecretsUnavailable,
    panel_credentials,
)
from panel_sync.models import DEFAULT_SYNC_WINDOW_DAYS, PanelConnection
from panel_sync.octo import OctoClient, PanelError, PanelKeyMissing, PanelUnavailable
from panel_sync.services.catalogue import panel_products_record
from tenants.actors import STAFF, SYSTEM, Actor, actor_require
from tenants.models import Role

logger = logging.getLogger(__name__)


def panel_client(panel: PanelConnection) -> OctoClient:
    """A client for the operator whose schema is in use, with the key from its secret.
    Raises PanelKeyMissing (no secret, no panel key in it) or PanelUnavailable (Secrets
    Manager not answering): nothing can be said to the panel without the key."""
    try:
        credentials = panel_credentials(connection.schema_name)
    except PanelNotConfigured as exc:
        raise PanelKeyMissing(str(exc)) from exc
    except SecretsUnavailable as exc:
        raise PanelUnavailable(f"Secrets Manager: {exc}") from exc
    return OctoClient(panel.base_url, credentials.api_key)


def panel_connect(
    *,
    base_url: str,
    actor: Actor,
    enabled: bool = True,
    sync_window_days: int = DEFAULT_SYNC_WINDOW_DAYS,
    stale_after_minutes: int | None = None,
) -> PanelConnection:
    """Create or change the operator's connection (owners only). The API key is not an
    argument: it lives in the operator's secret."""
    actor_require(actor, STAFF, role=Role.OWNER)
    with transaction.atomic():
        panel, _ = PanelConnection.objects.select_for_update(no_key=True).update_or_create(
            pk=PanelConnection.ONLY,
            defaults={
                "base_url": base_url.rstrip("/"),
                "enabled": enabled,
                "sync_window_days": sync_window_days,
                "stale_after_minutes": stale_after_minutes,
            },
        )
        logger.info("panel connection set to %s (enabled=%s) by %s", base_url, enabled, actor)
    return panel


@dataclass
class ConnectionTest:
    ok: bool
    message: str = ""
    supplier_name: str = ""
    capabilities: list[str] = field(default_factory=list)
    products: int = 0


def panel_test_connection(*, actor: Actor, now: datetime | None = None) -> ConnectionTest:
    """Ask the panel who it is (`GET /supplier`) and what it sells (`GET /products`); record
    the capabilities it agreed to and every product option it listed (for staff to map), or
    the error. Staff from manager up, or the system.

    The calls are made before any transaction; the answer is recorded after."""
    actor_require(actor, STAFF, SYSTEM, role=Role.MANAGER)
    now = now or timezone.now()
    panel = PanelConnection.current()
    if panel is None:
        raise PanelConnection.DoesNotExist("the operator has no panel connection")
    try:
        client = panel_client(panel)
        supplier = client.supplier()
        products = client.products()
    except (PanelError, PanelUnavailable) as exc:
        message = f"{exc.staff_message} ({exc})"
        panel_record_error(message=message, actor=actor, now=now)
        return ConnectionTest(ok=False, message=message)
    with transaction.atomic():
        panel = PanelConnection.objects.select_for_update(no_key=True).get(pk=panel.pk)
        panel.capabilities = client.capabilities
        panel.supplier_id = str(supplier.get("id") or "")[:120]
        panel.supplier_name = str(supplier.get("name") or "")[:200]
        panel.tested_at = now
        panel.last_error, panel.last_error_at = "", None
        panel.save()
        count = panel_products_record(products=products, actor=actor, now=now)
    return ConnectionTest(
        ok=True,
        supplier_name=panel.supplier_name,
        capabilities=list(client.capabilities),
        products=count,
    )


def panel_record_error(*, message: str, actor: Actor, now: datetime | None = None) -> None:
    """The panel could not be spoken to: the connection shows why and since when."""
    actor_require(actor, STAFF, SYSTEM, role=Role.MANAGER)
    now = now or timezone.now()
    PanelConnection.objects.filter(pk=PanelConnection.ONLY).update(
        last_error=message[:2000], last_error_at=now
    )
    logger.warning("panel: %s", message)
