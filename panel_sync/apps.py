from django.apps import AppConfig


class PanelSyncConfig(AppConfig):
    name = "panel_sync"
    verbose_name = "Panel sync"

    def ready(self) -> None:
        from booking.events import reservation_changed
        from panel_sync.services import push  # registers the outbox consumer

        reservation_changed.connect(push.push_when_changed, dispatch_uid="panel_sync")
