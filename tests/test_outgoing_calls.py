"""Every outgoing call has a budget (DESIGN.md, invariant 12; settings, "Outgoing calls").

Each client the product builds is looked at as built, and the HTTP ones are pointed at a
server that accepts the connection and never answers: they give up within their budget.
A module of the product that starts talking to the network must be listed here with how its
budget is checked, and its calls must name their timeout: a new client without one fails."""

import ast
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from payments.credentials import MercadoPagoCredentials, StripeCredentials
from payments.models import Method, PaymentIntent
from payments.providers.base import ProviderNoAnswer
from payments.providers.mercadopago import BudgetedHttpClient, MercadoPagoProvider
from payments.providers.stripe import BudgetedRequestsClient, StripeProvider

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = [
    "project", "audit", "tenants", "outbox", "booking", "payments", "panel_sync", "backoffice",
]  # fmt: skip
NETWORK = {
    "aiohttp", "boto3", "botocore", "http.client", "httpx", "mercadopago", "redis", "requests",
    "smtplib", "socket", "stripe", "urllib.request", "urllib3",
}  # fmt: skip
# The product's modules that import one of those, and where the budget of what they call is
# checked. A module that only catches a library's errors says so.
KNOWN = {
    "project/settings.py": "AWS_CLIENT_CONFIG, OIDC_TIMEOUT, Huey's Redis pool: tests below",
    "project/aws_secrets.py": "Secrets Manager: test_the_secrets_manager_client_is_bounded",
    "payments/providers/stripe.py": "test_stripe_gives_up_within_its_budget",
    "payments/providers/mercadopago.py": "test_mercadopago_gives_up_within_its_budget",
    "payments/credentials.py": "only catches botocore's errors",
    "payments/panels.py": "only catches botocore's errors",
    "payments/services/returns.py": "only catches botocore's errors",
    "tenants/views.py": "only catches requests' errors (mozilla-django-oidc's calls)",
    "panel_sync/octo.py": "test_the_panel_client_gives_up_within_its_budget",
    "panel_sync/credentials.py": "only catches botocore's errors",
    "booking/photos.py": "only catches botocore's errors (the photo store's): "
    "test_the_photo_store_gives_up_within_its_budget",
    "tenants/operator_settings.py": "test_the_ses_sender_check_gives_up_within_its_budget",
}
# Calls that make a client or a request, and the argument that bounds them.
BOUNDED_BY = {
    ("requests", "get"): "timeout",
    ("requests", "post"): "timeout",
    ("requests", "put"): "timeout",
    ("requests", "patch"): "timeout",
    ("requests", "delete"): "timeout",
    ("requests", "head"): "timeout",
    ("requests", "request"): "timeout",
    ("urllib.request", "urlopen"): "timeout",
    ("http.client", "HTTPConnection"): "timeout",
    ("http.client", "HTTPSConnection"): "timeout",
    ("socket", "create_connection"): "timeout",
    ("boto3", "client"): "config",
    ("boto3", "resource"): "config",
    ("stripe", "StripeClient"): "http_client",
    ("mercadopago", "SDK"): "http_client",
    ("redis.ConnectionPool", "from_url"): "socket_timeout",
    ("redis", "Redis"): "socket_timeout",
}


def product_modules():
    for app in PRODUCT:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text())


def network_imports(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        modules = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        for module in modules:
            names |= {lib for lib in NETWORK if module == lib or module.startswith(lib + ".")}
    return names


def dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return ""


def test_every_module_that_talks_to_the_network_is_known():
    found = {path for path, tree in product_modules() if network_imports(tree)}
    assert found == set(KNOWN), (
        "a module started (or stopped) importing a network library: give each of its calls "
        "a budget from the settings' 'Outgoing calls', and list it in KNOWN with its check"
    )


def test_every_call_that_makes_a_client_or_a_request_names_its_budget():
    unbounded = []
    for path, tree in product_modules():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = dotted(node.func)
            for (library, function), argument in BOUNDED_BY.items():
                # `requests.get`, or a name imported from the library (`urlopen`); never a
                # bare `get`, which is anything's.
                as_imported = {f"{library}.{function}"} | (
                    {function} if library != "requests" else set()
                )
                if name in as_imported:
                    keywords = {keyword.arg for keyword in node.keywords}
                    if argument not in keywords and None not in keywords:  # None: **kwargs
                        unbounded.append(f"{path}:{node.lineno} {name}() without {argument}=")
    assert unbounded == []


def test_the_budgets_answer_a_traveller_within_seconds():
    """A provider call that hangs ends after one read timeout (not repeated); at worst, after
    a try that could not connect, one that connects slowly and stalls: under 10 s. A "Pay"
    (a credentials read, then two provider calls) stays under gunicorn's 30 s."""
    hang = settings.PROVIDER_CONNECT_TIMEOUT + settings.PROVIDER_READ_TIMEOUT
    assert hang <= 7
    sleep = 0.5  # Stripe's SDK waits this long before trying again
    call = settings.PROVIDER_MAX_RETRIES * (settings.PROVIDER_CONNECT_TIMEOUT + sleep) + hang
    assert call < 10
    attempts = max(settings.AWS_MAX_ATTEMPTS, 2)  # production's default (the tests set 1)
    aws_read = attempts * (settings.AWS_CONNECT_TIMEOUT + settings.AWS_READ_TIMEOUT) + 1
    assert aws_read + 2 * call < 30
    assert all(0 < seconds <= 5 for seconds in settings.OIDC_TIMEOUT)
    assert 0 < settings.REDIS_CONNECT_TIMEOUT <= settings.REDIS_SOCKET_TIMEOUT <= 5


class BlackHole:
    """A server that accepts connections and never answers (until closed)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.held: list[socket.socket] = []
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.held.append(connection)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        self.sock.close()
        for connection in self.held:
            connection.close()


@pytest.fixture
def black_hole():
    server = BlackHole()
    yield server
    server.close()


def given_up_within(seconds: float, call) -> Exception:
    started = time.monotonic()
    with pytest.raises(Exception) as caught:
        call()
    elapsed = time.monotonic() - started
    assert elapsed < seconds, f"gave up after {elapsed:.1f} s: {caught.value!r}"
    return caught.value


def an_intent(**fields) -> PaymentIntent:
    """Never saved: only read by the provider's call."""
    return PaymentIntent(pk=7, **{"provider_reference": "ref_7", **fields})


def test_stripe_gives_up_within_its_budget(black_hole, settings):
    """A read that timed out is not tried again (the SDK would, after 0.5 s)."""
    provider = StripeProvider(StripeCredentials("sk_test_x", ()))
    transport = provider.client._requestor._client
    assert isinstance(transport, BudgetedRequestsClient)
    assert transport._timeout == (settings.PROVIDER_CONNECT_TIMEOUT, settings.PROVIDER_READ_TIMEOUT)

    settings.PROVIDER_READ_TIMEOUT = 1.0
    settings.STRIPE_API_BASE = black_hole.url
    provider = StripeProvider(StripeCredentials("sk_test_x", ()))
    error = given_up_within(1.8, lambda: provider.fetch_state(an_intent(method=Method.CARD)))
    assert isinstance(error, ProviderNoAnswer)
    assert black_hole.accepted == 1  # asked once


def test_mercadopago_gives_up_within_its_budget(black_hole, settings):
    """Whatever the call's RequestOptions say (the SDK's default: 60 s, and 3 retries that
    urllib3 makes after read timeouts on GETs)."""
    provider = MercadoPagoProvider(MercadoPagoCredentials("TEST-x", "secret"))
    assert isinstance(provider.sdk.http_client, BudgetedHttpClient)

    settings.PROVIDER_READ_TIMEOUT = 1.0
    settings.MERCADOPAGO_API_BASE = black_hole.url
    intent = an_intent(method=Method.PIX, provider_payment_id="123")
    error = given_up_within(1.8, lambda: provider.fetch_state(intent))
    assert isinstance(error, ProviderNoAnswer)
    assert black_hole.accepted == 1  # asked once


def test_the_panel_client_gives_up_within_its_budget(black_hole, settings):
    """A panel that hangs costs a push or a pull one read timeout: the call is not repeated
    (the outbox retries the push later, the next pull the reads)."""
    from panel_sync.octo import OctoClient, PanelUnavailable

    assert settings.PANEL_CONNECT_TIMEOUT + settings.PANEL_READ_TIMEOUT <= 15
    client = OctoClient(black_hole.url, "key")
    assert client.timeout == (settings.PANEL_CONNECT_TIMEOUT, settings.PANEL_READ_TIMEOUT)

    settings.PANEL_READ_TIMEOUT = 1.0
    client = OctoClient(black_hole.url, "key")
    error = given_up_within(1.8, client.supplier)
    assert isinstance(error, PanelUnavailable)
    assert black_hole.accepted == 1  # asked once


def test_the_secrets_manager_client_is_bounded(black_hole, monkeypatch):
    from project import aws_secrets

    config = aws_secrets.secrets_client(settings.AWS_CLIENT_CONFIG).meta.config
    assert (config.connect_timeout, config.read_timeout) == (
        settings.AWS_CONNECT_TIMEOUT,
        settings.AWS_READ_TIMEOUT,
    )
    assert config.retries["total_max_attempts"] == settings.AWS_MAX_ATTEMPTS

    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", black_hole.url)
    aws_secrets.forget_cached_secrets()
    try:
        attempt = settings.AWS_CONNECT_TIMEOUT + settings.AWS_READ_TIMEOUT
        budget = settings.AWS_MAX_ATTEMPTS * attempt + 1
        given_up_within(budget, lambda: aws_secrets.read_secret("andes-booking/x"))
    finally:
        aws_secrets.forget_cached_secrets()


def test_the_photo_store_gives_up_within_its_budget(black_hole, settings, make_activity):
    """django-storages' S3 client is built with AWS_CLIENT_CONFIG (settings.PHOTOS_STORAGE)."""
    from django.core.files.storage import storages

    from booking.images import prepare_photo
    from booking.photos import PhotoStoreUnavailable, photo_add
    from tests.factories import SYSTEM, picture, upload

    options = settings.PHOTOS_STORAGE["OPTIONS"] | {"endpoint_url": black_hole.url}
    settings.STORAGES = settings.STORAGES | {
        "photos": {**settings.PHOTOS_STORAGE, "OPTIONS": options}
    }
    config = storages["photos"].connection.meta.client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (
        settings.AWS_CONNECT_TIMEOUT,
        settings.AWS_READ_TIMEOUT,
    )
    assert config.retries["total_max_attempts"] == settings.AWS_MAX_ATTEMPTS
    activity = make_activity()
    prepared = prepare_photo(upload(picture(600, 400)))

    attempt = settings.AWS_CONNECT_TIMEOUT + settings.AWS_READ_TIMEOUT
    refused = given_up_within(
        settings.AWS_MAX_ATTEMPTS * attempt + 1,
        lambda: photo_add(activity_id=activity.pk, prepared=prepared, alt="", actor=SYSTEM),
    )
    assert isinstance(refused, PhotoStoreUnavailable)
    assert not activity.photos.exists()


def test_the_ses_sender_check_gives_up_within_its_budget(black_hole, settings):
    """The settings page's Verify asks SES with AWS_CLIENT_CONFIG, at the e-mail's endpoint."""
    from tenants.operator_settings import SesUnavailable, _ses, ses_sender_verified

    settings.AWS_SES_REGION_ENDPOINT_URL = black_hole.url
    config = _ses().meta.config
    assert (config.connect_timeout, config.read_timeout) == (
        settings.AWS_CONNECT_TIMEOUT,
        settings.AWS_READ_TIMEOUT,
    )
    attempt = settings.AWS_CONNECT_TIMEOUT + settings.AWS_READ_TIMEOUT
    refused = given_up_within(
        settings.AWS_MAX_ATTEMPTS * attempt + 1,
        lambda: ses_sender_verified("reservas@alpha.example"),
    )
    assert isinstance(refused, SesUnavailable)


def test_ses_is_sent_with_the_aws_budget():
    import django_ses

    backend = django_ses.SESBackend()
    backend.open()
    config = backend.connection.meta.config
    assert (config.connect_timeout, config.read_timeout) == (
        settings.AWS_CONNECT_TIMEOUT,
        settings.AWS_READ_TIMEOUT,
    )
    assert config.retries["total_max_attempts"] == settings.AWS_MAX_ATTEMPTS


def test_staff_sign_in_calls_are_bounded(black_hole, settings):
    from tenants.auth import StaffOIDCBackend

    assert StaffOIDCBackend().get_settings("OIDC_TIMEOUT") == settings.OIDC_TIMEOUT
    settings.OIDC_TIMEOUT = (1.0, 1.0)
    settings.OIDC_OP_TOKEN_ENDPOINT = black_hole.url + "/token"
    backend = StaffOIDCBackend()
    error = given_up_within(2.0, lambda: backend.get_token({"code": "x"}))
    assert isinstance(error, requests.Timeout)


def test_the_huey_broker_is_bounded():
    """Production's Redis pool, as the settings build it from REDIS_URL (nothing connects)."""
    code = (
        "import django; django.setup(); from huey.contrib.djhuey import HUEY; "
        "kwargs = HUEY.storage.pool.connection_kwargs; "
        "print(kwargs['socket_connect_timeout'], kwargs['socket_timeout'])"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "project.settings_test",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        str(settings.REDIS_CONNECT_TIMEOUT),
        str(settings.REDIS_SOCKET_TIMEOUT),
    ]
