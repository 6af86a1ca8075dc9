"""Recording staff actions."""

from typing import Any

from audit.models import AuditEntry


def audit_record(
    *, actor: str, action: str, target: object, data: dict[str, Any] | None = None
) -> AuditEntry:
    """One entry in the operator's audit log, in the caller's transaction (so an action that
    rolls back leaves no entry)."""
    return AuditEntry.objects.create(
        actor=actor, action=action, target=str(target)[:200], data=data or {}
    )
