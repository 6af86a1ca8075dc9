"""Settings fail closed (production is the default) and every response carries its security
headers. Production settings are exercised in child processes started without the
development opt-in, exactly as a pod starts."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def production_environment(**overrides) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env |= {
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "EMAIL_BACKEND": "django_ses.SESBackend",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def manage(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("missing", "reason"),
    [
        ("DJANGO_SECRET_KEY", "set DJANGO_SECRET_KEY"),
        ("DJANGO_ALLOWED_HOSTS", "set DJANGO_ALLOWED_HOSTS"),
        ("EMAIL_BACKEND", "set EMAIL_BACKEND"),
        ("REDIS_URL", "set REDIS_URL"),
    ],
)
def test_production_refuses_to_start_without_what_it_needs(missing, reason):
    result = manage("check", env=production_environment(**{missing: None}))
    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("andes-booking: refusing to start with production settings")
    assert reason in line


def test_production_refuses_the_console_email_backend_and_debug():
    console = "django.core.mail.backends.console.EmailBackend"
    result = manage("check", env=production_environment(EMAIL_BACKEND=console, DJANGO_DEBUG="1"))
    assert result.returncode == 1
    assert "set EMAIL_BACKEND" in result.stderr and "unset DJANGO_DEBUG" in result.stderr


def test_without_the_development_opt_in_nothing_is_generated():
    """No secret key of its own: every pod would otherwise have a different one."""
    result = manage("check", env=production_environment(DJANGO_SECRET_KEY=None))
    assert result.returncode == 1 and "DJANGO_SECRET_KEY" in result.stderr


def test_check_deploy_has_nothing_to_say():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="localhost")
secure = client.get("/", HTTP_X_FORWARDED_PROTO="https")
plain = client.get("/", HTTP_X_FORWARDED_PROTO="http")
print(json.dumps({
    "secure": [secure.status_code, dict(secure.headers)],
    "plain": [plain.status_code, dict(plain.headers)],
    "cookies": {name: dict(morsel) for name, morsel in secure.cookies.items()},
}))
"""


@pytest.mark.django_db
def test_production_answers_with_hsts_csp_and_redirects_plain_http(tmp_path):
    database = connection.settings_dict
    login = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    url = f"postgres://{login}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    env = production_environment(DATABASE_URL=url, STATIC_ROOT=str(tmp_path / "static"))
    collected = manage("collectstatic", "--noinput", "-v", "0", env=env)
    assert collected.returncode == 0, collected.stderr
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    status, headers = probe["secure"]
    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers = probe["plain"]
    assert status == 301 and headers["Location"] == "https://localhost/"


def test_every_page_carries_the_content_security_policy(alpha_client, make_slot):
    make_slot()
    for path in ("/", "/activities/boat/", "/no-such-page/"):
        policy = alpha_client.get(path)["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "object-src 'none'" in policy
