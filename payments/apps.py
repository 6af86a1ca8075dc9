from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from payments import cancel, panels  # noqa: F401  (register their panels on booking's pages)
        from payments.records import register_kinds

        register_kinds()
