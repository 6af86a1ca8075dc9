from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """The operator staff's pages. A presentation layer over booking, payments and tenants:
    it holds no models, and nothing imports it."""

    name = "backoffice"
    verbose_name = "Backoffice"
