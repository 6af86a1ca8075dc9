"""What tenants writes in an operator's audit log (its team), and how it reads (registered in
audit.kinds from TenantsConfig.ready)."""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _

from audit.kinds import ACTOR_NAMES, AUDIT_ACTIONS
from tenants.models import Role


class TeamAction(TextChoices):
    MEMBER_GRANTED = "member_granted", _("Access given")
    MEMBER_REMOVED = "member_removed", _("Access removed")


class TenantsActor(TextChoices):
    """The platform's commands that act on an operator's team."""

    ADD_STAFF = "manage.py add_staff", _("The platform's administrators")
    CREATE_OPERATOR = "manage.py create_operator", _("The platform's administrators")


def _granted(entry) -> str:
    role = entry.data.get("role", "")
    return str(Role(role).label) if role in Role.values else ""


def register_kinds() -> None:
    AUDIT_ACTIONS.register("tenants", TeamAction, {TeamAction.MEMBER_GRANTED: _granted})
    ACTOR_NAMES.register(TenantsActor)
