from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from tenants.actors import Actor
from tenants.models import Operator, Role
from tenants.services import membership_grant


class Command(BaseCommand):
    help = (
        "Give a staff member (identified by their OIDC `sub` at the identity provider) a role "
        "at an operator, creating the user if new: how an operator gets its first owner."
    )

    def add_arguments(self, parser):
        parser.add_argument("schema_name", help="the operator's schema, e.g. demo")
        parser.add_argument("sub", help="the user's subject at the identity provider (Cognito)")
        parser.add_argument("email")
        parser.add_argument("role", choices=Role.values)
        parser.add_argument("--name", default="", help="shown until their first sign-in")

    def handle(self, *args, **options):
        try:
            operator = Operator.objects.exclude(schema_name="public").get(
                schema_name=options["schema_name"]
            )
        except Operator.DoesNotExist as exc:
            raise CommandError(f"no operator with schema {options['schema_name']!r}") from exc
        try:
            validate_email(options["email"])
        except ValidationError as exc:
            raise CommandError(f"{options['email']!r} is not an e-mail address") from exc
        membership = membership_grant(
            operator=operator,
            sub=options["sub"],
            email=options["email"],
            role=options["role"],
            name=options["name"],
            actor=Actor.system("manage.py add_staff"),
        )
        self.stdout.write(
            f"{membership.user.email} ({membership.user.sub}) is {membership.role} "
            f"at {operator.name} ({operator.schema_name})"
        )
