from django.apps import AppConfig


class PanelSyncConfig(AppConfig):
    name = "panel_sync"
    verbose_name = "Panel sync"

    def ready(self) -> None:
        from booking.events import reservation_changed
        from booking.extensions import sale_guard
        from panel_sync.guards import stale_departure
        from panel_sync.records import register_kinds
        from panel_sync.services import push_queue  # registers the outbox consumer

        reservation_changed.connect(push_queue.push_when_changed, dispatch_uid="panel_sync")
        sale_guard(stale_departure)
        register_kinds()
