"""The browser tests' world: a database of their own, created afresh for every session and
filled by the product's own commands (`migrate_schemas --shared`, `refresh_tenant_template`,
`seed_demo`), the app served by gunicorn on a free port, and Debian's Chromium.

moto's server stands in for AWS (Secrets Manager holds the operators' payment and panel
credentials, SES takes the e-mails), the provider emulators for Stripe and Mercado Pago, and
the OCTO emulator for the demo operator's activity panel, connected as `make demo` connects it.
The tests drive state through the served site (and the panel's control API, as its desk
would); this process never opens the e2e database except to drop and create it.

Traces and screenshots of failed tests are kept in pytest-playwright's output folder
(`test-results/`). The server's and moto's logs are written to `var/e2e/`, out of that folder,
which any pytest run in the checkout empties; the server's lines written during a failed test
are printed in its report.
"""

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import boto3
import psycopg
import pytest
from psycopg import sql

from emulators.aws import running_moto
from emulators.octo_demo import demo_supplier
from emulators.octo_testing import OctoPanel, running_octo_panel
from emulators.oidc import DEMO_STAFF, running_oidc_provider
from emulators.testing import Emulators, running_emulators

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / "var" / "e2e"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5544/booking"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# The operator that `seed_demo` creates. Chromium resolves *.localhost to 127.0.0.1 itself;
# this process's C library does not, so the readiness check sends the Host header instead.
DEMO_HOST = "demo.localhost"
BRAZIL_HOST = "demo-br.localhost"
SENDER = "reservas@demo.example"
DEMO_TIME_ZONE = "America/Argentina/Ushuaia"
SERVER_START_TIMEOUT = 30

SERVER_LOG = pytest.StashKey[Path]()
LOG_OFFSET = pytest.StashKey[int]()


def pytest_configure(config: pytest.Config) -> None:
    # A failed browser test is only debuggable with its trace and screenshot: keep them unless
    # the command line asks for more.
    if config.option.tracing == "off":
        config.option.tracing = "retain-on-failure"
    if config.option.screenshot == "off":
        config.option.screenshot = "only-on-failure"


def pytest_runtest_setup(item: pytest.Item) -> None:
    log = item.config.stash.get(SERVER_LOG, None)
    item.stash[LOG_OFFSET] = log.stat().st_size if log and log.exists() else 0


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item):
    report = yield
    log = item.config.stash.get(SERVER_LOG, None)
    if report.failed and report.when != "teardown" and log and log.exists():
        with log.open("rb") as file:
            file.seek(item.stash.get(LOG_OFFSET, 0))
            lines = file.read().decode(errors="replace")
        report.sections.append((f"e2e server log ({log})", lines or "(nothing written)"))
    return report


def _e2e_database_url() -> str:
    """DATABASE_URL with `_e2e` appended to the database name: same server, own database."""
    url = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    return urlunsplit(url._replace(path=f"{url.path}_e2e"))


def _recreate_database(database_url: str) -> None:
    url = urlsplit(database_url)
    name = sql.Identifier(url.path.lstrip("/"))
    maintenance = urlunsplit(url._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        # FORCE: a server left behind by an interrupted run must not keep the old one alive.
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))


def _manage(*args: str, env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        pytest.fail(
            f"manage.py {' '.join(args)} exited with {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}",
            pytrace=False,
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/", headers={"Host": DEMO_HOST})
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _wait_until_serving(server: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while not _answers(port):
        if server.poll() is not None or time.monotonic() > deadline:
            state = (
                f"exited with {server.returncode}"
                if server.returncode is not None
                else f"did not answer within {SERVER_START_TIMEOUT} s"
            )
            pytest.fail(f"the e2e server {state}:\n{log.read_text()}", pytrace=False)
        time.sleep(0.1)


@pytest.fixture(scope="session")
def log_dir() -> Path:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    return LOG_DIR


@pytest.fixture(scope="session")
def aws(log_dir: Path) -> Iterator[str]:
    """moto's server, with this process's environment (inherited by the app) pointed at it."""
    (log_dir / "moto.log").unlink(missing_ok=True)
    with running_moto(log=log_dir / "moto.log") as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def emulators(log_dir: Path) -> Iterator[Emulators]:
    """The payment providers' emulators; their hosted pages are what the browser pays on."""
    with (log_dir / "emulators.log").open("wb") as log, running_emulators(stderr=log) as running:
        yield running


@pytest.fixture(scope="session")
def demo_panel(log_dir: Path) -> Iterator[OctoPanel]:
    """The demo operator's activity panel: the OCTO emulator with the demo supplier and its
    desk bookings, as `python -m emulators.octo --demo` serves it for `make demo`."""
    with (log_dir / "octo.log").open("wb") as log, running_octo_panel(stderr=log) as panel:
        panel.supplier(demo_supplier())
        yield panel


@pytest.fixture(scope="session")
def demo_site(
    pytestconfig: pytest.Config,
    tmp_path_factory: pytest.TempPathFactory,
    log_dir: Path,
    aws: str,
    emulators: Emulators,
    demo_panel: OctoPanel,
) -> Iterator[str]:
    """The demo operators, freshly seeded into a new database, given payment credentials and
    connected to the demo panel as `make demo` does, and served by gunicorn with a Huey worker.
    E-mail goes through SES (moto's server); staff sign in at a real OIDC provider."""
    stack = contextlib.ExitStack()
    database_url = _e2e_database_url()
    _recreate_database(database_url)
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        # DEBUG off, as in production: the browser sees the site's own 404 page (checked by
        # e2e/test_accessibility.py), not Django's debug page. A failing request's traceback
        # is in the server log, which is printed in the failing test's report.
        "DJANGO_DEBUG": "0",
        "STRICT_TEMPLATES": "1",
        "HUEY_SQLITE_PATH": str(tmp_path_factory.mktemp("huey") / "huey.sqlite3"),
        "PYTHONUNBUFFERED": "1",
        "DEMO_PORT": str(port),
        # Links in e-mails, as `make demo` sets them: the demo's scheme and port.
        "OPERATOR_SITE_URL": f"http://{{domain}}:{port}",
        "STRIPE_API_BASE": emulators.stripe_url,
        "MERCADOPAGO_API_BASE": emulators.mercadopago_url,
        "EMAIL_BACKEND": "django_ses.SESBackend",
        "DEFAULT_FROM_EMAIL": SENDER,
    }
    oidc = stack.enter_context(
        running_oidc_provider(
            DEMO_STAFF, site_urls=[f"http://{DEMO_HOST}:{port}", f"http://{BRAZIL_HOST}:{port}"]
        )
    )
    env |= oidc.environment()
    boto3.client("ses").verify_email_identity(EmailAddress=SENDER)
    _manage("migrate_schemas", "--shared", "-v", "0", env=env)
    _manage("refresh_tenant_template", env=env)
    _manage("seed_demo", env=env)
    subprocess.run(
        [sys.executable, "scripts/demo_payments.py"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    _manage(
        "connect_demo_panel",
        "--panel",
        demo_panel.url,
        "--site",
        f"http://{DEMO_HOST}:{port}",
        env=env,
    )

    worker_log = (log_dir / "huey.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_huey", "-w", "2", "-k", "thread"],
        cwd=ROOT,
        env=env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    log = log_dir / "server.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "project.wsgi:application",
                f"--bind=127.0.0.1:{port}",
                "--workers=2",
                "--threads=4",
                "--graceful-timeout=5",
                # Its default socket in $HOME would be shared with any other gunicorn.
                "--no-control-socket",
                "--access-logfile=-",
                "--error-logfile=-",
            ],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    pytestconfig.stash[SERVER_LOG] = log
    try:
        _wait_until_serving(server, port, log)
        yield f"http://{DEMO_HOST}:{port}"
    finally:
        stack.close()
        worker.terminate()
        worker.wait(timeout=10)
        worker_log.close()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def base_url(demo_site: str) -> str:
    return demo_site


@pytest.fixture(scope="session")
def operator_today() -> date:
    """Today where the demo operator's departures are: its calendar starts here."""
    return datetime.now(ZoneInfo(DEMO_TIME_ZONE)).date()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser`", pytrace=False)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    # English pages: locators follow the source strings while translations are in progress.
    # A test that wants another language switches it on the page, as a traveller does.
    return {**browser_context_args, "locale": "en-US"}


@pytest.fixture(autouse=True)
def no_content_security_policy_violations(request):
    """Every page a test opens keeps to the Content-Security-Policy: a blocked script, style
    or inline handler would break a page silently for travellers, so it fails the test."""
    if "page" not in request.fixturenames:
        yield
        return
    page = request.getfixturevalue("page")
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield
    assert violations == []
