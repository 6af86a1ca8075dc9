"""A season of bookings for the demo operators (see demo/season.py): run by `make demo` after
`seed_demo`, not by the browser tests, whose world stays empty of bookings."""

import time

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tenants.utils import tenant_context

from demo.management.commands.seed_demo import DEMO_OPERATORS
from demo.season import season_seed
from tenants.models import Operator

# The (provider, method) pairs each demo operator's travellers pay with, and the weeks back
# and ahead it is booked for (the Brazilian one, a second look, less).
SEASONS = {
    "demo": ([("stripe", "card"), ("stripe", "card"), ("mercadopago", "checkout")], 3, 2),
    "demo_br": ([("stripe", "card"), ("stripe", "pix"), ("mercadopago", "pix")], 1, 1),
}


class Command(BaseCommand):
    help = "Book the demo operators through a season (once; run again, it does nothing)."

    def handle(self, *args, **options):
        for demo in DEMO_OPERATORS:
            operator = Operator.objects.get(schema_name=demo["schema_name"])
            started = time.monotonic()
            with tenant_context(operator), timezone.override(operator.zone):
                methods, weeks_back, weeks_ahead = SEASONS[operator.schema_name]
                made = season_seed(
                    methods=methods,
                    seed=operator.schema_name,
                    weeks_back=weeks_back,
                    weeks_ahead=weeks_ahead,
                )
            if options["verbosity"]:
                self.stdout.write(
                    f"{operator.name}: {made} bookings seeded in {time.monotonic() - started:.1f} s"
                )
