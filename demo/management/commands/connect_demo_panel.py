"""Connect the demo operator to its activity panel (the OCTO emulator with the demo panel,
`emulators/octo_demo.py`), as its owner would in production:

1. the panel's API key and a fresh notification token go into the operator's secret in (moto's)
   Secrets Manager, key "panel", beside its payment credentials;
2. the panel is told to notify `/panel/notifications/` on the operator's site with that token;
3. the demo owner sets the panel's address and enables sync, and tests the connection (the
   panel's products are listed);
4. the demo manager maps the boat trip and the trek to our activities; the penguin tour is left
   unmapped, for staff to map in the backoffice (the browser test does);
5. a first pull brings the panel's departures and the bookings made at its desk.

Run by scripts/serve.sh (`make demo`) and the browser tests once seed_demo and
scripts/demo_payments.py have run. Safe to run again."""

import json
import secrets
import urllib.request

import boto3
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from booking.models import Activity
from emulators.octo_demo import DEMO_API_KEY, DEMO_SUPPLIER_ID
from panel_sync.models import ProductMapping
from panel_sync.services.catalogue import product_map
from panel_sync.services.connection import panel_connect, panel_test_connection
from panel_sync.services.pull import panel_pull
from project.aws_secrets import forget_cached_secrets
from tenants.actors import Actor
from tenants.models import Membership, Operator, Role

SCHEMA = "demo"
# The demo panel's products sold here from the start, and the activity each is sold as.
MAPPED = {"PNL-BEAGLE-CAT": "beagle-channel", "PNL-MARTIAL-TREK": "glaciar-martial"}
CONTROL_TIMEOUT_SECONDS = 10


class Command(BaseCommand):
    help = "Connect the demo operator to the demo activity panel (the OCTO emulator)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--panel", required=True, help="the emulator's address, e.g. http://127.0.0.1:12113"
        )
        parser.add_argument(
            "--site", required=True, help="the operator's site as the panel reaches it"
        )

    def handle(self, *args, panel: str, site: str, **options):
        panel, site = panel.rstrip("/"), site.rstrip("/")
        operator = Operator.objects.get(schema_name=SCHEMA)
        token = secrets.token_urlsafe(24)
        self._store_credentials(token)
        _control(
            panel,
            f"/_emulator/suppliers/{DEMO_SUPPLIER_ID}/notifications",
            {"url": f"{site}/panel/notifications/", "token": token},
        )
        with tenant_context(operator):
            owner = _staff(operator, Role.OWNER)
            panel_connect(base_url=f"{panel}/octo/v1", enabled=True, actor=owner)
            tested = panel_test_connection(actor=owner)
            if not tested.ok:
                raise CommandError(f"the demo panel did not answer: {tested.message}")
            manager = _staff(operator, Role.MANAGER)
            for product_id, slug in MAPPED.items():
                mapping = ProductMapping.objects.get(panel_product_id=product_id)
                if mapping.activity_id is None:
                    activity = Activity.objects.get(slug=slug)
                    product_map(mapping_id=mapping.pk, activity_id=activity.pk, actor=manager)
            pulled = panel_pull(actor=Actor.system("demo seed"))
            if not pulled.ok:
                raise CommandError(f"the demo panel's first pull failed: {pulled.error}")
        if options["verbosity"]:
            self.stdout.write(
                f"Demo panel connected: {tested.products} products, "
                f"{pulled.external_bookings} desk bookings"
            )

    def _store_credentials(self, token: str) -> None:
        """The panel's key and our notification token, merged into the operator's secret."""
        client = boto3.client("secretsmanager")
        name = settings.OPERATOR_SECRET_ID.format(schema=SCHEMA)
        panel = {"panel": {"api_key": DEMO_API_KEY, "notification_token": token}}
        try:
            secret = json.loads(client.get_secret_value(SecretId=name)["SecretString"])
        except client.exceptions.ResourceNotFoundException:
            client.create_secret(Name=name, SecretString=json.dumps(panel))
        else:
            client.put_secret_value(SecretId=name, SecretString=json.dumps(secret | panel))
        forget_cached_secrets()


def _staff(operator: Operator, role: str) -> Actor:
    """The demo's staff member in `role` (seed_demo made them), acting as themselves."""
    membership = (
        Membership.objects.select_related("user")
        .filter(operator=operator, role=role)
        .order_by("pk")
        .first()
    )
    if membership is None:
        raise CommandError(f"the demo operator has no {role}: run seed_demo first")
    membership.operator = operator
    return Actor.staff(membership)


def _control(base_url: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        base_url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=CONTROL_TIMEOUT_SECONDS) as response:
        return json.loads(response.read() or b"null")
