"""Settings, read from the environment (in production, filled from AWS Secrets Manager).

Production is the default, and fails closed: a process without its secret key, allowed hosts,
a real e-mail backend and a Huey broker refuses to start, with one line saying what is
missing. Development, the tests and the demo opt in to relaxed settings explicitly with
`DJANGO_DEVELOPMENT=1` (the Makefile sets it; the tests use `project.settings_test`): a
throwaway secret key kept under var/, e-mail printed to the console, a file queue, cookies
over plain http. Nothing secret has a value here.
"""

import os
import secrets
import sys
from pathlib import Path

import dj_database_url
import redis
from botocore.config import Config as AwsConfig
from django.utils.translation import gettext_lazy as _

from project.aws_secrets import load_configuration_secret

BASE_DIR = Path(__file__).resolve().parent.parent

# Outgoing calls: every one has a budget (DESIGN.md, invariant 12), named here. The SDKs'
# defaults would have a traveller wait minutes for a provider that hangs (Stripe: 80 s read
# timeout, 3 tries; Mercado Pago: 60 s, 4 tries on GETs) and gunicorn kill the worker first.
# - Payment providers (Stripe, Mercado Pago; Pix goes through one of them): a call may take
#   PROVIDER_CONNECT_TIMEOUT to connect and PROVIDER_READ_TIMEOUT for each read. A connection
#   that fails at once (refused, reset) is tried again PROVIDER_MAX_RETRIES times; a call that
#   timed out is not repeated in the same request: the provider may have done it, and the
#   reconciler asks later, with the same idempotency key. So a hanging provider gets the
#   traveller the "not answering" page in about 5 s, and one call takes under 10 s at worst
#   (a try that cannot connect in 2 s, then one that connects in 2 s and stalls).
# - AWS (Secrets Manager: the configuration, and operators' credentials cached 5 minutes; SES,
#   from the Huey worker): AWS_MAX_ATTEMPTS tries of 1 + 2 s (botocore's own AWS_MAX_ATTEMPTS
#   variable wins when set: the tests set 1, to fail at once on a closed port).
# - The operator's activity panel (OCTO, panel_sync): PANEL_CONNECT_TIMEOUT to connect and
#   PANEL_READ_TIMEOUT for each read, never repeated in the same call: only Huey workers call
#   it (pushes through the outbox, which retries with backoff; pulls, retried by the next one).
# - Staff sign-in (mozilla-django-oidc's token, JWKS and userinfo calls) and the Huey broker
#   (Redis) likewise; PostgreSQL: DATABASE_CONNECT_TIMEOUT and DATABASE_LOCK_TIMEOUT_MS below.
# gunicorn's worker timeout must stay above what one request can spend: 30 s, its default
# (nothing in this repository starts gunicorn with less; e2e uses the default, bench 60 s),
# is above a traveller's worst "Pay" (a credentials read, ~7 s, then two provider calls:
# expire the earlier attempt, open the new one, under 10 s each), which stops anyway at the
# first call that does not answer.
PROVIDER_CONNECT_TIMEOUT = 2.0
PROVIDER_READ_TIMEOUT = 5.0
PROVIDER_MAX_RETRIES = 1
PANEL_CONNECT_TIMEOUT = float(os.environ.get("PANEL_CONNECT_TIMEOUT", "3"))
PANEL_READ_TIMEOUT = float(os.environ.get("PANEL_READ_TIMEOUT", "10"))
AWS_CONNECT_TIMEOUT = 1.0
AWS_READ_TIMEOUT = 2.0
AWS_MAX_ATTEMPTS = int(os.environ.get("AWS_MAX_ATTEMPTS") or 2)
AWS_CLIENT_CONFIG = AwsConfig(
    connect_timeout=AWS_CONNECT_TIMEOUT,
    read_timeout=AWS_READ_TIMEOUT,
    retries={"mode": "standard", "total_max_attempts": AWS_MAX_ATTEMPTS},
)
AWS_SES_CONFIG = AWS_CLIENT_CONFIG  # django-ses builds its boto3 client with it
OIDC_TIMEOUT = (PROVIDER_CONNECT_TIMEOUT, PROVIDER_READ_TIMEOUT)  # mozilla-django-oidc's calls
REDIS_CONNECT_TIMEOUT = 1.0
# Above Huey's own blocking read of the queue (1 s), which answers empty when nothing came.
REDIS_SOCKET_TIMEOUT = 5.0

load_configuration_secret(config=AWS_CLIENT_CONFIG)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def _development_secret_key() -> str:
    """A random key kept in var/, so a development checkout never ships one in code."""
    path = BASE_DIR / "var" / "dev-secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


DEVELOPMENT = env_bool("DJANGO_DEVELOPMENT", default=False)
PRODUCTION = not DEVELOPMENT


def _refuse_to_start(missing: list[str]) -> None:
    """One line on stderr and exit 1: a production process never runs half-configured."""
    if missing:
        sys.exit(
            "andes-booking: refusing to start with production settings: "
            + "; ".join(missing)
            + " (development, tests and the demo set DJANGO_DEVELOPMENT=1)"
        )


_refuse_to_start(
    [
        reason
        for reason, wanted in [
            ("set DJANGO_SECRET_KEY", not os.environ.get("DJANGO_SECRET_KEY")),
            ("set DJANGO_ALLOWED_HOSTS", not os.environ.get("DJANGO_ALLOWED_HOSTS")),
            (
                "set EMAIL_BACKEND to a real backend (django_ses.SESBackend)",
                not os.environ.get("EMAIL_BACKEND")
                or any(
                    f".{kind}." in os.environ["EMAIL_BACKEND"]
                    for kind in ("console", "locmem", "dummy", "filebased")
                ),
            ),
            ("set REDIS_URL (the Huey broker)", not os.environ.get("REDIS_URL")),
            ("unset DJANGO_DEBUG", env_bool("DJANGO_DEBUG")),
        ]
        if PRODUCTION and wanted
    ]
)

DEBUG = DEVELOPMENT and env_bool("DJANGO_DEBUG", default=False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or _development_secret_key()
ALLOWED_HOSTS = os.environ.get(
    "DJANGO_ALLOWED_HOSTS", ".localhost,127.0.0.1" if DEVELOPMENT else ""
).split(",")

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "huey.contrib.djhuey",
    "modeltrans",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "audit",
    "outbox",
    "booking",
    "payments",
    "panel_sync",
    "backoffice",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]
if DEVELOPMENT:
    INSTALLED_APPS.append("demo")  # `seed_demo`: development, tests and the demo only

TENANT_MODEL = "tenants.Operator"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "project.urls_public"
ROOT_URLCONF = "project.urls_tenant"
DEFAULT_NOT_FOUND_TENANT_VIEW = "tenants.views.unknown_host"
# One SET search_path per schema switch instead of one before every statement. Safe: the
# backend forgets the cached path on rollback and savepoint rollback, which revert a SET.
TENANT_LIMIT_SET_CALLS = True
# New operators are cloned from this schema, which `refresh_tenant_template` keeps migrated.
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
PUBLIC_DOMAINS = os.environ.get("PUBLIC_DOMAINS", "localhost,127.0.0.1").split(",")

MIDDLEWARE = [
    "django_tenants.middleware.main.TenantMainMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "project.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tenants.middleware.OperatorLocaleMiddleware",
    "project.middleware.RefuseNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.operator",
                "booking.context_processors.shop_links",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

WSGI_APPLICATION = "project.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5544/booking"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
# A lock not granted within this many milliseconds fails the statement (as pretix does, 3 s):
# one stuck transaction on a hot departure must not stall every traveller behind it. The
# request answers 503 with Retry-After (project.unavailable) and changes nothing. It holds for
# every statement of every process, migrations included: a migration waiting on a busy table
# gives up instead of queueing the site's traffic behind its own lock.
DATABASE_LOCK_TIMEOUT_MS = int(os.environ.get("DATABASE_LOCK_TIMEOUT_MS", "3000"))
# A server that does not answer a new connection within DATABASE_CONNECT_TIMEOUT seconds is
# treated as down (503 with Retry-After) rather than holding the worker.
DATABASE_CONNECT_TIMEOUT = int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5"))
DATABASES["default"].setdefault("OPTIONS", {}).update(
    options=f"-c lock_timeout={DATABASE_LOCK_TIMEOUT_MS}",
    connect_timeout=DATABASE_CONNECT_TIMEOUT,
)
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
# Production runs behind a TLS-terminating load balancer that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_SSL_REDIRECT = PRODUCTION
# Kubernetes probes reach the pods over plain http, inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
# Operators' domains are their own: the platform does not ask browsers to preload them.
SECURE_HSTS_PRELOAD = False
SILENCED_SYSTEM_CHECKS = ["security.W021"]  # the preload warning, for the reason above
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy, set on every response by project.security: scripts only from our
# own origin (htmx is vendored), no plugins, no framing. Inline styles are allowed: the
# operator's accent colour and a chart's bar widths are style attributes, always escaped.
# Activity photos: django-storages' S3 backend, one bucket for every operator, each operator's
# objects under operators/<schema>/ (booking.photos). The renditions are public objects (the
# bucket policy booking.photos.photo_bucket_policy grants s3:GetObject on operators/*/photos/*
# and nothing else), loaded by browsers from PHOTOS_BASE_URL (the bucket's own address, or a CDN
# in front of it) and cached for a year: a key never changes, a new upload is a new key. The
# originals, EXIF and GPS included, stay private. Development, the demo and the tests point
# AWS_ENDPOINT_URL_S3 at moto's server, whose path-style addresses the browser loads. Calls
# have the AWS budget above (AWS_CLIENT_CONFIG).
PHOTOS_BUCKET = os.environ.get("PHOTOS_BUCKET", "andes-booking-photos")
PHOTOS_ENDPOINT_URL = os.environ.get("AWS_ENDPOINT_URL_S3") or None
PHOTOS_BASE_URL = os.environ.get("PHOTOS_BASE_URL") or (
    f"{PHOTOS_ENDPOINT_URL}/{PHOTOS_BUCKET}"
    if PHOTOS_ENDPOINT_URL
    else f"https://{PHOTOS_BUCKET}.s3.{os.environ.get('AWS_REGION', 'us-east-1')}.amazonaws.com"
)
_PHOTOS_SCHEME, _PHOTOS_HOST_AND_PATH = PHOTOS_BASE_URL.rstrip("/").split("://", 1)
PHOTOS_ORIGIN = f"{_PHOTOS_SCHEME}://{_PHOTOS_HOST_AND_PATH.split('/', 1)[0]}"
PHOTOS_STORAGE = {
    "BACKEND": "storages.backends.s3.S3Storage",
    "OPTIONS": {
        "bucket_name": PHOTOS_BUCKET,
        "endpoint_url": PHOTOS_ENDPOINT_URL,
        "region_name": os.environ.get("AWS_REGION", "us-east-1"),
        "client_config": AWS_CLIENT_CONFIG,
        # URLs are written, not signed: public objects, the same address on every page view.
        "custom_domain": _PHOTOS_HOST_AND_PATH,
        "url_protocol": f"{_PHOTOS_SCHEME}:",
        "querystring_auth": False,
        "file_overwrite": True,  # keys are new uuids: no existence check before each write
        "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
    },
}

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        f"img-src 'self' data: https: {PHOTOS_ORIGIN}",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)

LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Spanish")), ("pt-br", _("Portuguese (Brazil)")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The operator's own content (activities, rates) in every language above, kept in one JSONB
# column per row (django-modeltrans): a language added to LANGUAGES needs no migration. The
# plain columns hold LANGUAGE_CODE's text; a missing translation falls back to the operator's
# own language first (booking.models.OperatorLanguage), then along this chain.
MODELTRANS_AVAILABLE_LANGUAGES = [code for code, _name in LANGUAGES]
MODELTRANS_FALLBACK = {"default": tuple(MODELTRANS_AVAILABLE_LANGUAGES)}
MODELTRANS_ADD_FIELD_HELP_TEXT = False
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
# collectstatic writes here for production images; development serves from the finders.
STATIC_ROOT = os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles") if PRODUCTION else None
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "photos": PHOTOS_STORAGE,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# Background work. A file queue needs nothing running; production points REDIS_URL at
# ElastiCache. `immediate` is explicit: it would otherwise follow DEBUG.
if os.environ.get("REDIS_URL"):
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "andes-booking",
        "connection_pool": redis.ConnectionPool.from_url(
            os.environ["REDIS_URL"],
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
            socket_timeout=REDIS_SOCKET_TIMEOUT,
        ),
        "immediate": False,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "andes-booking",
        "filename": os.environ.get("HUEY_SQLITE_PATH", str(BASE_DIR / "var" / "huey.sqlite3")),
        "immediate": env_bool("HUEY_IMMEDIATE", default=False),
    }

# Production sends through Amazon SES (django-ses); development and tests point
# AWS_SES_REGION_ENDPOINT_URL at moto's server, which keeps what was sent.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
AWS_SES_REGION_NAME = os.environ.get("AWS_REGION", "us-east-1")
AWS_SES_REGION_ENDPOINT = os.environ.get("AWS_SES_REGION_ENDPOINT", "email.us-east-1.amazonaws.com")
AWS_SES_REGION_ENDPOINT_URL = os.environ.get("AWS_SES_REGION_ENDPOINT_URL")
# The platform's sender, an identity verified at SES. E-mails for an operator's travellers show
# the operator's name with it and reply to the operator's own address (Operator.email_from).
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "reservas@andes-booking.example")
# Where an operator's site is, from its primary domain: the links in e-mails (made outside any
# request) start with this. Production serves every operator's domain over https on the usual
# port; the demo, whose sites are http://demo.localhost:8000, sets "http://{domain}:8000".
OPERATOR_SITE_URL = os.environ.get("OPERATOR_SITE_URL", "https://{domain}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "booking": {"level": "INFO"},
        "tenants": {"level": "INFO"},
        # One line per event: Django's own console handler (DEBUG only) and the one run_huey
        # adds to a "huey" logger without handlers would each print it a second time.
        "django": {"handlers": [], "level": "INFO"},
        "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.request": {"filters": ["database_unavailable"]},
    },
    "filters": {"database_unavailable": {"()": "project.unavailable.DatabaseUnavailableLogFilter"}},
}
if env_bool("STRICT_TEMPLATES"):
    # Tests and the e2e server: a template that reads a variable it was not given fails.
    LOGGING["filters"]["missing_template_variable"] = {
        "()": "project.logging.MissingTemplateVariable"
    }
    LOGGING["loggers"]["django.template"] = {
        "level": "DEBUG",
        "filters": ["missing_template_variable"],
    }

# Payments. Each operator's provider credentials and webhook secrets live in one secret in
# AWS Secrets Manager (JSON), named by this template. The API addresses are the providers'
# unless configured otherwise (development and tests point them at the local emulators).
OPERATOR_SECRET_ID = os.environ.get("OPERATOR_SECRET_ID", "andes-booking/operators/{schema}")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "https://api.stripe.com")
MERCADOPAGO_API_BASE = os.environ.get("MERCADOPAGO_API_BASE", "https://api.mercadopago.com")
# An intent still open after this long is asked about at the provider by the reconciler.
PAYMENT_RECONCILE_AFTER_MINUTES = int(os.environ.get("PAYMENT_RECONCILE_AFTER_MINUTES", "20"))

# Staff identity: OpenID Connect (mozilla-django-oidc) against a Cognito user pool. Endpoints
# follow from the pool and its domain; each can be overridden by the environment (development
# and tests point them at the provider started by emulators.oidc). The ID token is verified
# against the JWKS (RS256), issuer, audience, expiry and nonce before any claim is used; users
# are matched by `sub` and must hold a membership in the operator whose site they are on.
AUTH_USER_MODEL = "tenants.StaffUser"
AUTHENTICATION_BACKENDS = ["tenants.auth.StaffOIDCBackend"]
COGNITO_REGION = os.environ.get("COGNITO_REGION", "us-east-1")
COGNITO_USER_POOL_ID = os.environ.get("COGNITO_USER_POOL_ID", "")
COGNITO_DOMAIN = os.environ.get("COGNITO_DOMAIN", "")
_COGNITO_HOSTED_UI = f"https://{COGNITO_DOMAIN}.auth.{COGNITO_REGION}.amazoncognito.com"
_COGNITO_POOL = f"https://cognito-idp.{COGNITO_REGION}.amazonaws.com/{COGNITO_USER_POOL_ID}"
OIDC_OP_ISSUER = os.environ.get("OIDC_OP_ISSUER", _COGNITO_POOL)
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get(
    "OIDC_OP_AUTHORIZATION_ENDPOINT", f"{_COGNITO_HOSTED_UI}/oauth2/authorize"
)
OIDC_OP_TOKEN_ENDPOINT = os.environ.get(
    "OIDC_OP_TOKEN_ENDPOINT", f"{_COGNITO_HOSTED_UI}/oauth2/token"
)
OIDC_OP_USER_ENDPOINT = os.environ.get(
    "OIDC_OP_USER_ENDPOINT", f"{_COGNITO_HOSTED_UI}/oauth2/userInfo"
)
OIDC_OP_JWKS_ENDPOINT = os.environ.get(
    "OIDC_OP_JWKS_ENDPOINT", f"{_COGNITO_POOL}/.well-known/jwks.json"
)
OIDC_OP_LOGOUT_ENDPOINT = os.environ.get("OIDC_OP_LOGOUT_ENDPOINT", f"{_COGNITO_HOSTED_UI}/logout")
# "cognito": GET /logout?client_id=…&logout_uri=…; "oidc": RP-Initiated Logout 1.0
# (end_session_endpoint with post_logout_redirect_uri and id_token_hint).
OIDC_OP_LOGOUT_PROTOCOL = os.environ.get("OIDC_OP_LOGOUT_PROTOCOL", "cognito")
OIDC_OP_LOGOUT_URL_METHOD = "tenants.auth.provider_logout_url"
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_RP_CLIENT_SECRET", "")
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid email profile"
OIDC_USE_NONCE = True
OIDC_USE_PKCE = True
OIDC_STORE_ID_TOKEN = True  # the id_token_hint of RP-initiated logout
OIDC_CALLBACK_CLASS = "tenants.views.StaffSignInCallbackView"
LOGIN_URL = "/backoffice/login/"
LOGIN_REDIRECT_URL = "/backoffice/"
LOGOUT_REDIRECT_URL = "/backoffice/signed-out/"
