from django.core.management.base import BaseCommand

from tenants.services import public_site_ensure, tenant_template_refresh


class Command(BaseCommand):
    help = "Migrate the template schema new operators are cloned from; ensure the public site."

    def handle(self, *args, **options):
        tenant_template_refresh(verbosity=max(options["verbosity"] - 1, 0))
        public_site_ensure()
