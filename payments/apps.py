from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from booking.events import reservation_changed
        from payments import cancel, panels  # noqa: F401  (register their panels on booking's pages)
        from payments.records import register_kinds
        from payments.services import late_money

        register_kinds()
        reservation_changed.connect(late_money.checkouts_end_when_released, dispatch_uid="payments")
