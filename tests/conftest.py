"""Fixtures for the suite: a real PostgreSQL test database with real tenant schemas.

Two operators are provisioned once per session (cloned from the template schema, as in
production). Most tests run inside pytest-django's per-test transaction; race tests use
`committed`, which gives real committed rows (other connections must see them) and wipes
the operator's booking tables afterwards.
"""

import json
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone, translation
from django_tenants.utils import tenant_context
from psycopg import sql

from booking.models import Activity, Slot
from project.logging import MissingTemplateVariable
from tenants.models import Operator
from tenants.services import operator_create
from tests import factories
from tests.factories import ALPHA_HOST, ALPHA_SECRETS, BETA_HOST, BETA_SECRETS, SYSTEM


@pytest.fixture(scope="session", autouse=True)
def strict_templates():
    template_logger = logging.getLogger("django.template")
    level = template_logger.level
    strict = MissingTemplateVariable()
    template_logger.setLevel(logging.DEBUG)
    template_logger.addFilter(strict)
    yield
    template_logger.removeFilter(strict)
    template_logger.setLevel(level)


@pytest.fixture(scope="session")
def unregistered_kinds() -> Iterator[list[str]]:
    """Timeline kinds and audit actions written during the session that no app registered
    (audit.kinds): pages would show them as "Other event". Collected on every write, from any
    thread, and failed by `only_registered_kinds` after the test that wrote them (a raise in
    the write itself could be swallowed by a retrying outbox or task)."""
    from django.db.models.signals import pre_save

    from audit.kinds import AUDIT_ACTIONS, TIMELINE_KINDS
    from audit.models import AuditEntry
    from booking.models import ReservationEvent

    written: list[str] = []

    def check(sender, instance, **kwargs):
        registry, code = (
            (TIMELINE_KINDS, instance.kind)
            if sender is ReservationEvent
            else (AUDIT_ACTIONS, instance.action)
        )
        if code not in registry:
            written.append(f"{sender.__name__} {code!r}")

    for model in (ReservationEvent, AuditEntry):
        pre_save.connect(check, sender=model, dispatch_uid=f"registered-kinds-{model.__name__}")
    yield written
    for model in (ReservationEvent, AuditEntry):
        pre_save.disconnect(sender=model, dispatch_uid=f"registered-kinds-{model.__name__}")


@pytest.fixture(autouse=True)
def only_registered_kinds(unregistered_kinds):
    """No test writes a kind nobody registered. (Old, unknown kinds are written on purpose
    with bulk_create, which sends no signal: tests/backoffice/test_record_kinds.py.)"""
    yield
    found, unregistered_kinds[:] = list(unregistered_kinds), []
    assert found == [], f"written but not registered in audit.kinds: {found}"


@pytest.fixture(autouse=True)
def english():
    """Requests activate the traveller's language on the thread; each test starts in English."""
    with translation.override("en"):
        yield


@pytest.fixture(scope="session", autouse=True)
def huey_runs_tasks_at_once():
    """Tasks run when enqueued (on commit), in the thread that commits: the outbox path is
    exercised end to end and nothing lands in a development queue."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield
    HUEY.immediate = False


@pytest.fixture(scope="session", autouse=True)
def no_aws_unless_asked():
    """AWS is reached only by tests that ask for `aws`: any other call fails at once on a
    closed local port, never reaching (or waiting for) the real AWS."""
    closed = "http://127.0.0.1:9"
    unreachable = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": closed,
        "AWS_ENDPOINT_URL_SES": closed,
        "AWS_ENDPOINT_URL_S3": closed,
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in unreachable.items():
            patch.setenv(name, value)
        yield


@pytest.fixture(scope="session")
def aws(no_aws_unless_asked):
    """moto's server speaking the AWS APIs (Secrets Manager, SES) on a free port, started
    by the first test that asks for it."""
    from emulators.aws import running_moto
    from project.aws_secrets import forget_cached_secrets

    with running_moto() as endpoint:
        forget_cached_secrets()
        yield endpoint
    forget_cached_secrets()


@pytest.fixture
def photo_store(aws, settings):
    """The photos storage on moto's S3, its bucket made with production's policy and emptied:
    renditions are read from moto's path-style addresses, as the demo's browser reads them."""
    from django.core.files.storage import storages

    from demo.gallery import photo_bucket_ensure

    host = aws.removeprefix("http://")
    options = settings.PHOTOS_STORAGE["OPTIONS"] | {
        "endpoint_url": aws,
        "custom_domain": f"{host}/{settings.PHOTOS_BUCKET}",
        "url_protocol": "http:",
    }
    settings.STORAGES = settings.STORAGES | {
        "photos": {**settings.PHOTOS_STORAGE, "OPTIONS": options}
    }
    photo_bucket_ensure()
    store = storages["photos"]
    store.bucket.objects.all().delete()  # what earlier tests stored (their rows rolled back)
    return store


@pytest.fixture(scope="session")
def operator_secrets(aws):
    """Each operator's credentials, in (moto's) Secrets Manager as in production."""
    import boto3

    from project.aws_secrets import forget_cached_secrets

    client = boto3.client("secretsmanager")
    for schema, secret in (("alpha", ALPHA_SECRETS), ("beta", BETA_SECRETS)):
        client.create_secret(
            Name=f"andes-booking/operators/{schema}", SecretString=json.dumps(secret)
        )
    forget_cached_secrets()
    return {"alpha": ALPHA_SECRETS, "beta": BETA_SECRETS}


@pytest.fixture(scope="session")
def emulators():
    """The payment providers' emulators (one process for the session)."""
    import subprocess

    from emulators.testing import running_emulators

    with running_emulators(stderr=subprocess.DEVNULL) as running:
        yield running


@pytest.fixture(scope="session")
def octo_panel():
    """The OCTO panel emulator (one process for the session); tests reset it and give it
    their supplier."""
    import subprocess

    from emulators.octo_testing import running_octo_panel

    with running_octo_panel(stderr=subprocess.DEVNULL) as panel:
        yield panel


@pytest.fixture(scope="session")
def panel_secrets(aws):
    """Alpha's (and Beta's) panel credentials, in secrets of their own name (the payments
    tests own the operators' usual ones): tests point OPERATOR_SECRET_ID at them."""
    import json

    import boto3

    from project.aws_secrets import forget_cached_secrets
    from tests.panel_sync.world import PANEL_SECRET_ID, PANEL_SECRETS

    client = boto3.client("secretsmanager")
    for schema, secret in PANEL_SECRETS.items():
        client.create_secret(
            Name=PANEL_SECRET_ID.format(schema=schema), SecretString=json.dumps(secret)
        )
    forget_cached_secrets()
    return PANEL_SECRETS


@pytest.fixture(scope="session")
def app_server():
    """The app served over HTTP in a thread of this process, for what calls it back (the
    payment emulators' webhooks, the panel's notifications), on the test database. Unlike
    pytest-django's live_server it flushes nothing: those tests use `committed` rows."""
    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.test.testcases import LiveServerThread, _StaticFilesHandler

    class BurstServer(ThreadedWSGIServer):
        request_queue_size = 128  # providers deliver in bursts (storm tests: 60 at once)

    class ServerThread(LiveServerThread):
        server_class = BurstServer

    server = ServerThread("127.0.0.1", _StaticFilesHandler)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    yield server.port
    server.terminate()


@pytest.fixture(scope="session")
def django_db_setup(
    request, django_test_environment, django_db_blocker, django_db_modify_db_settings
):
    """The test database, always (pytest-django only makes it when some collected test asks
    for `db`; race and flow tests use `committed` instead, and must never touch the
    development database), with two operators cloned from the template schema."""
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        databases = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        assert connection.settings_dict["NAME"].startswith("test_")
        call_command("refresh_tenant_template")
        operator_create(
            actor=SYSTEM,
            schema_name="alpha",
            name="Alpha Expeditions",
            domain=ALPHA_HOST,
            time_zone="America/Argentina/Ushuaia",
            default_currency="ARS",
            locale="es",
        )
        operator_create(
            actor=SYSTEM,
            schema_name="beta",
            name="Beta Aventuras",
            domain=BETA_HOST,
            time_zone="America/Sao_Paulo",
            default_currency="BRL",
            locale="pt-br",
        )
    yield
    with django_db_blocker.unblock():
        teardown_databases(databases, verbosity=0)


@pytest.fixture
def alpha(db) -> Iterator[Operator]:
    """Alpha Expeditions, with the connection on its schema for the test."""
    operator = Operator.objects.get(schema_name="alpha")
    with tenant_context(operator):
        yield operator


@pytest.fixture
def beta_operator(db) -> Operator:
    return Operator.objects.get(schema_name="beta")


@pytest.fixture
def alpha_client() -> Client:
    return Client(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def make_activity(alpha) -> Callable[..., Activity]:
    return factories.activity


@pytest.fixture
def make_slot(alpha) -> Callable[..., Slot]:
    return factories.slot


class Committed:
    """Committed rows on Alpha's schema, and threads with their own connections."""

    def __init__(self, operator: Operator):
        self.operator = operator

    def slot(self, *, capacity: int, **kwargs) -> Slot:
        with tenant_context(self.operator):
            activity = Activity.objects.filter(slug="race").first() or factories.activity("race")
            starts_at = kwargs.pop("starts_at", timezone.now() + timedelta(days=5))
            return Slot.objects.create(
                activity=activity, starts_at=starts_at, capacity=capacity, **kwargs
            )

    def run_concurrently(self, count: int, work: Callable[[int], object]) -> list[object]:
        """Run `work(i)` in `count` threads released together; each thread has its own
        connection on the operator's schema and closes it. Exceptions are returned."""
        barrier = threading.Barrier(count)

        def thread(index: int) -> object:
            try:
                with tenant_context(self.operator):
                    barrier.wait(timeout=30)
                    return work(index)
            except Exception as exc:  # returned so the test can assert on every outcome
                return exc
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=count) as pool:
            return list(pool.map(thread, range(count)))

    def reload(self, slot: Slot) -> Slot:
        with tenant_context(self.operator):
            return Slot.objects.get(pk=slot.pk)


@pytest.fixture
def committed(django_db_setup, django_db_blocker) -> Iterator[Committed]:
    with django_db_blocker.unblock():
        operator = Operator.objects.get(schema_name="alpha")
        yield Committed(operator)
        with tenant_context(operator), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(operator_tables())} CASCADE")
        connection.close()


@pytest.fixture
def other_connection() -> dict:
    """How to open a connection of its own to the test database (psycopg's keywords), for a
    test that plays another process."""
    settings = connection.settings_dict
    return {
        "dbname": settings["NAME"],
        "user": settings["USER"],
        "host": settings["HOST"],
        "port": settings["PORT"],
        "password": settings["PASSWORD"] or None,
    }


@pytest.fixture
def row_locked_elsewhere(other_connection):
    """`with row_locked_elsewhere(table, pk):` an operator's row locked FOR UPDATE by another
    connection's open transaction (a stuck request or task) for the block's duration."""

    @contextmanager
    def lock(table: str, pk: int, schema: str = "alpha"):
        locked, release = threading.Event(), threading.Event()

        def stuck_transaction():
            with psycopg.connect(**other_connection) as other, other.transaction():
                other.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
                other.execute(
                    sql.SQL("SELECT 1 FROM {} WHERE id = %s FOR UPDATE").format(
                        sql.Identifier(table)
                    ),
                    [pk],
                )
                locked.set()
                release.wait(timeout=60)

        holder = threading.Thread(target=stuck_transaction)
        holder.start()
        try:
            assert locked.wait(timeout=10), "the other connection did not get the lock"
            yield
        finally:
            release.set()
            holder.join()

    return lock


def operator_tables() -> list[str]:
    """Every table that lives only in an operator's schema, from the models of the apps that
    are tenant apps and not shared ones."""
    from django.apps import apps
    from django.conf import settings

    tenant_only = set(settings.TENANT_APPS) - set(settings.SHARED_APPS)
    return sorted(
        model._meta.db_table
        for config in apps.get_app_configs()
        if config.name in tenant_only
        for model in config.get_models(include_auto_created=True)
    )
