"""What tenants writes in an operator's audit log (its team), and how it reads (registered in
audit.kinds from TenantsConfig.ready)."""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _

from audit.kinds import ACTOR_NAMES, AUDIT_ACTIONS, old_to_new
from tenants.models import Operator, Role


class TeamAction(TextChoices):
    MEMBER_GRANTED = "member_granted", _("Access given")
    MEMBER_REMOVED = "member_removed", _("Access removed")


class SettingsAction(TextChoices):
    SETTINGS_CHANGED = "settings_changed", _("Settings changed")
    SENDER_VERIFIED = "sender_verified", _("Sender address verified")
    SENDER_VERIFICATION_SENT = "sender_verification_sent", _("Sender address verification sent")


class TenantsActor(TextChoices):
    """The platform's commands that act on an operator's team."""

    ADD_STAFF = "manage.py add_staff", _("The platform's administrators")
    CREATE_OPERATOR = "manage.py create_operator", _("The platform's administrators")


def _granted(entry) -> str:
    role = entry.data.get("role", "")
    return str(Role(role).label) if role in Role.values else ""


def _settings_changed(entry) -> str:
    """Each setting changed, by its label: "e-mail for travellers: a → b"."""
    empty = _("(none)")
    return "; ".join(
        f"{Operator._meta.get_field(name).verbose_name}: "
        + old_to_new(change["old"] or empty, change["new"] or empty)
        for name, change in entry.data["changes"].items()
    )


def register_kinds() -> None:
    AUDIT_ACTIONS.register("tenants", TeamAction, {TeamAction.MEMBER_GRANTED: _granted})
    AUDIT_ACTIONS.register(
        "tenants", SettingsAction, {SettingsAction.SETTINGS_CHANGED: _settings_changed}
    )
    ACTOR_NAMES.register(TenantsActor)
