from django.apps import AppConfig
from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class DemoActor(TextChoices):
    """Who the demo's own changes are recorded by (seed_demo, connect_demo_panel)."""

    SEED = "demo seed", _("Demo data")


class DemoConfig(AppConfig):
    name = "demo"
    verbose_name = "Demo data (development only)"

    def ready(self) -> None:
        from audit.kinds import ACTOR_NAMES

        ACTOR_NAMES.register(DemoActor)
