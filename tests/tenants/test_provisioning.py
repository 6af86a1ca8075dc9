"""Operators as tenants: provisioning by cloning the template, the public site, unknown hosts."""

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import Client
from django_tenants.utils import schema_context

from booking.models import Activity
from tenants.models import Domain, Operator
from tenants.services import operator_create, tenant_template_refresh
from tests.factories import SYSTEM


def schema_shape(schema: str) -> set[tuple[str, ...]]:
    """Tables, columns, constraints and indexes of a schema, by name."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT 'column', table_name, column_name, data_type FROM information_schema.columns
             WHERE table_schema = %(s)s
            UNION ALL
            SELECT 'constraint', cls.relname, con.conname,
                   replace(pg_get_constraintdef(con.oid), %(s)s || '.', '')
              FROM pg_constraint con JOIN pg_class cls ON cls.oid = con.conrelid
              JOIN pg_namespace ns ON ns.oid = cls.relnamespace WHERE ns.nspname = %(s)s
            UNION ALL
            SELECT 'index', tablename, indexname, '' FROM pg_indexes WHERE schemaname = %(s)s
            """,
            {"s": schema},
        )
        return set(cursor.fetchall())


@pytest.mark.django_db(transaction=False)
def test_a_new_operator_is_a_clone_of_the_template_with_the_same_names():
    operator = operator_create(
        actor=SYSTEM,
        schema_name="gamma",
        name="Gamma Trips",
        domain="gamma.localhost",
        default_currency="CLP",
        time_zone="America/Santiago",
    )

    assert Domain.objects.get(domain="gamma.localhost").tenant == operator
    assert schema_shape("gamma") == schema_shape(settings.TENANT_BASE_SCHEMA)
    with schema_context("gamma"):
        assert Activity.objects.count() == 0


def test_the_template_holds_every_tenant_migration(db):
    tenant_template_refresh()
    loader = MigrationLoader(connection)
    tenant_apps = {"booking", "sessions", "contenttypes"}
    expected = {key for key in loader.disk_migrations if key[0] in tenant_apps}
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{settings.TENANT_BASE_SCHEMA}".django_migrations')
        applied = set(cursor.fetchall())
    assert expected <= applied


def test_operator_create_refuses_bad_input_and_writes_nothing(db):
    with pytest.raises(ValidationError) as refused:
        operator_create(
            actor=SYSTEM,
            schema_name="delta",
            name="Delta",
            domain="alpha.localhost",
            time_zone="Mars/Olympus",
            accent_colour="red",
        )
    assert set(refused.value.message_dict) >= {"time_zone", "accent_colour"}
    with pytest.raises(ValidationError, match="already exists"):
        operator_create(actor=SYSTEM, schema_name="delta", name="Delta", domain="alpha.localhost")
    assert not Operator.objects.filter(schema_name="delta").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'delta'")
        assert cursor.fetchone() is None


def test_the_platform_page_says_what_the_site_is_and_lists_nothing_private(alpha, make_activity):
    make_activity(name="Secret glacier tour")
    response = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en").get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Online booking and payments for tour operators" in body
    for private in (
        "Secret glacier tour",
        "Alpha Expeditions",
        "Beta Aventuras",
        "alpha.localhost",
    ):
        assert private not in body


def test_an_unknown_host_gets_a_clear_404(db):
    response = Client(HTTP_HOST="nobody.localhost", HTTP_ACCEPT_LANGUAGE="en").get("/activities/x/")
    assert response.status_code == 404
    assert "There is no booking site at this address" in response.content.decode()
    assert "nobody.localhost" in response.content.decode()
