import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.actors import Actor
from tenants.models import CURRENCIES
from tenants.services import operator_create


class Command(BaseCommand):
    help = "Create an operator (schema cloned from the template, and its domain), ready to sell."

    def add_arguments(self, parser):
        parser.add_argument("schema_name")
        parser.add_argument("--name", required=True)
        parser.add_argument("--domain", required=True)
        parser.add_argument("--time-zone", default="America/Argentina/Ushuaia")
        parser.add_argument("--currency", default="ARS", choices=[c for c, _ in CURRENCIES])
        parser.add_argument("--locale", default="es", choices=["es", "pt-br", "en"])
        parser.add_argument(
            "--email", default="", help="the operator's address: replies to its e-mails go there"
        )

    def handle(self, *args, **options):
        started = time.perf_counter()
        try:
            operator = operator_create(
                actor=Actor.system("manage.py create_operator"),
                schema_name=options["schema_name"],
                name=options["name"],
                domain=options["domain"],
                time_zone=options["time_zone"],
                default_currency=options["currency"],
                locale=options["locale"],
                contact_email=options["email"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Created operator {operator.name} ({operator.schema_name}) "
            f"at {options['domain']} in {elapsed:.2f} s"
        )
