from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = "Booking"

    def ready(self) -> None:
        from booking import emails  # noqa: F401  (registers its outbox consumers)
        from booking.records import register_kinds

        register_kinds()
