from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Operators"

    def ready(self) -> None:
        from tenants.records import register_kinds

        register_kinds()
