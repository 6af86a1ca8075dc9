"""No request answers 500 (DESIGN.md invariant 12; issue 8, acceptance 2).

Hypothesis walks every URL pattern of an operator's site and of the platform's own, taken from
the resolver, so a new URL is walked without being named here: the traveller's pages, the
backoffice as each role (and signed out), the providers' webhooks, staff sign-in. A request is
made of generated path parameters, a query string, a form or raw body and headers, drawn toward
what breaks parsers and columns: huge, empty, non-ASCII, NUL, negative, overflowing dates and
numbers, real ids of the wrong kind, and the shapes issue 8 found (each pattern is also sent
those as explicit examples). The names of the parameters and fields come from each view's
module (what it reads from request.GET and request.POST, its forms' fields), and real bodies of
each page's forms are sent with one field spoiled at a time.

No response may be a 500 (an exception raised through the test client counts as one), and a
refused request (4xx) must leave the operator's tables, and the platform's, as they were (a
refused webhook is logged, on purpose). Each walk must reach its view at least once.

The budget is fixed (EXAMPLES) and derandomized: the walk is the same on every run. Provider
APIs are pointed at a closed port, so an outgoing call fails at once and asks no one.
"""

import inspect
import json
import re
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from urllib.parse import quote, unquote, urlencode, urlsplit

import pytest
import stripe
from django import forms
from django.apps import apps
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import IntConverter, SlugConverter, StringConverter
from django.urls.exceptions import Resolver404
from django.utils import timezone
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from booking.models import Reservation
from panel_sync.models import PanelConflict
from payments.models import Anomaly, PaymentIntent, WebhookEvent, WebhookRejection
from tenants.models import Role
from tenants.services import membership_grant
from tests import factories
from tests.factories import ALPHA_HOST, SYSTEM, book_data, mercadopago_signature

TENANT_URLS, PUBLIC_URLS = django_settings.ROOT_URLCONF, django_settings.PUBLIC_SCHEMA_URLCONF
# Any call to a provider's API fails at once (connection refused): the walk asks no one.
CLOSED_PORT = "http://127.0.0.1:9"
ROLES = [Role.AGENT, Role.MANAGER, Role.OWNER]
# Examples per pattern and walker, by kind of request (Hypothesis' budget, on top of the
# explicit examples): the most where there is the most to do (a webhook's bodies, the real forms
# of a page, field by field), the least where every request is refused the same way (a page
# the walker may not see). Kinds are walked separately so that each gets its share.
EXAMPLES = {
    "refused": {"get": 4, "post": 4},
    "visitor": {"get": 12, "post": 6, "raw": 4},
    "webhook": {"raw": 80, "get": 10, "post": 10},
    # "form": for each field of each real form; "headers": real forms as they are
    "forms": {"get": 12, "post": 12, "form": 4, "headers": 10, "raw": 6},
    "pages": {"get": 16, "post": 8, "raw": 4},
}


# The URL patterns, from the resolver


@dataclass(frozen=True)
class Pattern:
    urlconf: str
    route: str  # "backoffice/departures/<int:slot_id>/"
    name: str  # "backoffice:departure"
    converters: dict
    view_module: str

    def __str__(self) -> str:
        return self.name or self.route


def url_patterns(urlconf: str) -> list[Pattern]:
    found = []

    def walk(patterns, prefix: str, namespace: str, converters: dict) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                inner = ":".join(part for part in (namespace, entry.namespace) if part)
                walk(entry.url_patterns, route, inner, converters | entry.pattern.converters)
            elif isinstance(entry, URLPattern):
                name = ":".join(part for part in (namespace, entry.name) if part)
                found.append(
                    Pattern(
                        urlconf=urlconf,
                        route=route,
                        name=name,
                        converters=converters | entry.pattern.converters,
                        view_module=inspect.unwrap(entry.callback).__module__,
                    )
                )

    walk(get_resolver(urlconf).url_patterns, "", "", {})
    return found


PATTERNS = url_patterns(TENANT_URLS) + url_patterns(PUBLIC_URLS)
PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def walkers(pattern: Pattern) -> list[str]:
    """Who walks a pattern: the backoffice is walked signed out and as each role."""
    if pattern.urlconf == PUBLIC_URLS:
        return ["visitor"]
    if pattern.name.startswith("backoffice:"):
        return ["signed-out", *ROLES]
    return ["traveller"]


WALKS = [(pattern, who) for pattern in PATTERNS for who in walkers(pattern)]


def test_every_url_pattern_is_walked():
    """Every pattern the resolvers know is walked, and the walker can build every path: a
    pattern with a converter (or a regex) it cannot generate fails here until it is taught."""
    walked = {(pattern.urlconf, pattern.route) for pattern, _ in WALKS}
    resolvers = {
        (p.urlconf, p.route) for p in url_patterns(TENANT_URLS) + url_patterns(PUBLIC_URLS)
    }
    assert walked == resolvers
    names = {pattern.name for pattern in PATTERNS}
    assert {"booking:book", "backoffice:team", "payments:webhook", "platform-home"} <= names
    for pattern in PATTERNS:
        assert "^" not in pattern.route and "(?" not in pattern.route, f"regex route {pattern}"
        for converter in pattern.converters.values():
            assert type(converter) in PATH_VALUES, f"{pattern}: no strategy for {converter}"


# The names a view reads, from its module's source and its forms


READS = [
    re.compile(r"""request\.(?:GET|POST)(?:\.get|\.getlist)?[\[(]\s*["']([^"']+)["']"""),
    re.compile(r"""["']([^"']+)["']\s+(?:not\s+)?in\s+request\.(?:GET|POST)"""),
    re.compile(r"""(?:posted_id|query_id)\(\s*request,\s*["']([^"']+)["']"""),
    re.compile(r"""for \w+ in \(((?:\s*["'][\w.-]+["'],?)+)\)"""),
]
# Names every page may be sent, whatever it reads (Django's own, the language switch).
# And the providers' notification parameters, which the webhook view's gateways read.
COMMON_NAMES = ["page", "next", "language", "csrfmiddlewaretoken", "q", "id", "data.id", "type"]


def names_read_by(module_name: str) -> list[str]:
    module = __import__(module_name, fromlist=["_"])
    source = inspect.getsource(module)
    names = set()
    for pattern in READS:
        for found in pattern.findall(source):
            names.update(re.findall(r"[\w.-]+", found))
    for value in vars(module).values():
        if inspect.isclass(value) and issubclass(value, forms.BaseForm):
            names.update(value.base_fields)
    return sorted(names)


# Values: what breaks parsers, columns and date arithmetic


class Long(str):
    """A long value that reports (and Hypothesis prints) as its length and its start."""

    def __repr__(self) -> str:
        return f"Long({len(self)} chars: {str.__repr__(self[:16])}...)"


LONG_EMAIL = Long("a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".com")  # 312: the validator's 320
ISSUE_SHAPES = [
    "9999-12",
    "9999-12-31",
    Long("9" * 36 + "-1"),
    "0001-01-01",
    "²",
    "\x00",
    "abc",
    Long("k" * 300),
    LONG_EMAIL,
]
# By what a real value looks like: a form's field is spoiled with values of its own kind.
EMAILS = [
    LONG_EMAIL,
    Long("e" * 64 + "@" + "d" * 63 + "." + "d" * 63 + "." + "d" * 58 + ".com"),  # 255
    Long("f" * 64 + "@" + ".".join(["d" * 63] * 3) + ".com"),  # 260
    Long("g" * 64 + "@" + ".".join(["d" * 63] * 3) + "." + "d" * 58 + ".com"),  # 319
    Long("a" * 65 + "@example.com"),
    Long("a@" + "b" * 64 + ".com"),
    "a@b",
    "@",
    "ü@ü.de",
    " a@b.co ",
    "a@b.co\x00",
    "A@B.CO",
]
NUMBERS = [
    "abc",
    "²",
    "١٢",
    "１２",
    "-1",
    "0",
    "00",
    "1.5",
    "1e3",
    "NaN",
    " 1",
    "",
    Long("9" * 30),
    Long("-" + "9" * 30),
    "2147483648",
    "9223372036854775808",
]
AMOUNTS = [
    "9999999999.99",
    "21474836.48",
    "21474836.47",
    "-0.01",
    "0.001",
    "1e9",
    "NaN",
    "Infinity",
    "1,5",
    Long("9" * 40),
]
DAYS = [
    "9999-12-31",
    "0001-01-01",
    "9999-12",
    "0001-01",
    Long("9" * 36 + "-1"),
    "2024-02-30",
    "2024-13-01",
    "1899-12-31",
    "3000-01-01",
    "10000-01-01",
    "2030-W01-1",
    "20300101",
    "-2030-06",
    "٢٠٣٠-06",
]
TEXTS = [
    "\x00",
    "x\x00y",
    Long("k" * 300),
    Long("a" * 5000),
    "",
    " ",
    "🙂",
    "ñandú",
    "\u202e",
    "\ufeff",
    "\r\n",
    "%00",
    "<script>",
    "' OR 1=1 --",
    "../..",
    "null",
    "{}",
]
NASTY = [
    *ISSUE_SHAPES,
    *EMAILS,
    *NUMBERS,
    *AMOUNTS,
    *DAYS,
    *TEXTS,
    "stripe:card",
    "mercadopago:pix",
    "calendar",
    "rejected",
    "owner",
    "held",
    "09:00, 25:00",
]
YEARS = [0, 1, 2, 999, 1899, 1900, 1970, 2030, 2999, 3000, 9998, 9999, 10000, 99999]


def pick(choices: list) -> st.SearchStrategy:
    """One of `choices` (like sampled_from, with a short repr in Hypothesis' reports)."""
    choices = list(choices)
    return st.integers(0, len(choices) - 1).map(choices.__getitem__)


def shapes_like(real: str) -> list[str]:
    if "@" in real:
        return EMAILS
    if re.fullmatch(r"\d+", real):
        return NUMBERS
    if re.fullmatch(r"\d+\.\d+", real):
        return AMOUNTS
    if re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", real):
        return DAYS
    return TEXTS


def numbers() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(min_value=-(10**40), max_value=10**40),
        st.integers(min_value=-5, max_value=100),
        st.decimals(allow_nan=True, allow_infinity=True, places=None),
    ).map(str)


def dates() -> st.SearchStrategy[str]:
    """Days and months written as ISO, around the edges of what `date` holds."""
    year = st.one_of(pick(YEARS), st.integers(-(10**6), 10**40))
    month = st.one_of(pick([0, 1, 2, 12, 13]), st.integers(-5, 99))
    day = pick([0, 1, 28, 29, 30, 31, 32])
    return st.builds(
        lambda y, m, d, with_day: f"{y:04d}-{m:02d}" + (f"-{d:02d}" if with_day else ""),
        year,
        month,
        day,
        st.booleans(),
    )


def values(realistic: list[str]) -> st.SearchStrategy[str]:
    """A value for any name: mostly the shapes of issue 8 and other nasty ones, then real
    ids and codes of the wrong kind, numbers, dates at the edges and random text."""
    return st.one_of(
        pick(ISSUE_SHAPES),
        pick(NASTY),
        pick(NUMBERS),
        pick(DAYS),
        pick(realistic),
        numbers(),
        dates(),
        st.text(max_size=12),
        st.text(alphabet=string.printable, min_size=250, max_size=400).map(Long),
    )


def header_value(value: str) -> str:
    """What a WSGI server hands Django: the bytes on the wire read as latin-1."""
    return value.encode("utf-8", "surrogatepass").decode("latin-1")


# The world: one operator with something of everything

# In a real form, a value each page load makes anew (an idempotency key, a new member's sub):
# every request gets its own, as a browser's would.
FRESH = "<fresh>"


@dataclass
class World:
    ids: dict[str, list[str]]  # path parameter name -> real values
    realistic: list[str]
    bodies: dict[str, list[list[tuple[str, str]]]]  # URL name -> real forms of its page
    staff: dict[str, object] = field(default_factory=dict)


@pytest.fixture
def world(alpha, operator_secrets, settings) -> World:
    settings.STRIPE_API_BASE = settings.MERCADOPAGO_API_BASE = CLOSED_PORT
    boat = factories.activity("boat")
    hike = factories.activity("hike", name="Hike")
    upcoming = factories.slot(boat, capacity=10_000)  # every hold the walk makes finds seats
    past = factories.slot(boat, starts_at=timezone.now() - timedelta(days=2))
    closed = factories.slot(hike, capacity=5, is_open=False)
    held = factories.hold(upcoming, 2, scope="someone")
    paid = factories.hold(upcoming, 1, scope="someone else")
    Reservation.objects.filter(pk=paid.pk).update(status=Reservation.Status.PAID)
    card = PaymentIntent.objects.create(
        reservation=paid,
        provider="stripe",
        method="card",
        status=PaymentIntent.Status.SUCCEEDED,
        amount=paid.total_amount,
        currency=paid.currency,
        provider_reference="cs_test_walk",
        provider_payment_id="pi_test_walk",
    )
    pix = PaymentIntent.objects.create(
        reservation=held,
        provider="mercadopago",
        method="pix",
        status=PaymentIntent.Status.PENDING,
        amount=held.total_amount,
        currency=held.currency,
        provider_reference="123456",
    )
    event = WebhookEvent.objects.create(
        provider="stripe",
        event_id="evt_walk",
        event_type="checkout.session.completed",
        raw_body=json.dumps(factories.stripe_event("checkout.session.completed", {})),
        intent=card,
        outcome=WebhookEvent.Outcome.FAILED,
    )
    WebhookRejection.objects.create(provider="stripe", reason="walk", body_excerpt="{}")
    anomaly = Anomaly.objects.create(kind="amount_mismatch", reservation=paid, details="walk")
    conflict = PanelConflict.objects.create(kind="refused", reservation=held, details="walk")
    members = {
        role: membership_grant(
            actor=SYSTEM,
            operator=alpha,
            sub=f"walk-{role}",
            email=f"{role}@alpha.example",
            role=role,
        )
        for role in ROLES
    }
    spare = membership_grant(
        actor=SYSTEM, operator=alpha, sub="walk-spare", email="spare@alpha.example", role="agent"
    )
    rate = boat.rates.get(code="adult")
    prefix = f"rate{rate.pk}"
    today = timezone.localdate()
    slots = [upcoming, past, closed]
    ids = {
        "slot_id": [str(s.pk) for s in slots],
        "pk": [str(event.pk)],
        "intent_id": [str(pix.pk), str(card.pk)],
        "code": [held.code, paid.code],
        "slug": [boat.slug, hike.slug],
        "provider": ["stripe", "mercadopago"],
        "activity_id": [str(boat.pk), str(hike.pk)],
    }
    every_id = [
        str(pk)
        for pk in {
            *(s.pk for s in slots),
            rate.pk,
            card.pk,
            pix.pk,
            event.pk,
            anomaly.pk,
            conflict.pk,
            spare.pk,
            boat.pk,
        }
    ]
    realistic = [*every_id, *ids["code"], *ids["slug"], *ids["provider"], today.isoformat()]
    activity_form = [
        ("name_es", "Kayak"),
        ("name_en", "Kayak trip"),
        ("meeting_point_es", "Muelle"),
        ("duration_minutes", "90"),
        ("booking_cutoff_minutes", "60"),
        ("hold_minutes", "20"),
        ("free_cancellation_hours", "24"),
        ("late_refund_percent", "50"),
        ("passenger_data", "name"),
    ]
    bodies = {
        "booking:book": [[(k, str(v)) for k, v in book_data(upcoming, key=FRESH).items()]],
        "booking:reservation": [[("cancel", "1")]],
        "payments:pay": [[("pay", "stripe:card")], [("pay", "mercadopago:checkout")]],
        "set_language": [[("language", "es"), ("next", "/")]],
        "backoffice:departures-create": [
            [
                ("activity", str(boat.pk)),
                ("first_day", (today + timedelta(days=1)).isoformat()),
                ("last_day", (today + timedelta(days=8)).isoformat()),
                ("weekdays", "0"),
                ("weekdays", "3"),
                ("times", "09:00, 15:30"),
                ("capacity", "8"),
            ]
        ],
        "backoffice:departure": [
            [("capacity", "12"), ("set_capacity", "1")],
            [("close", "1")],
            [("reopen", "1")],
        ],
        "backoffice:activities": [
            [
                ("rate", str(rate.pk)),
                (f"{prefix}-amount", "100.00"),
                (f"{prefix}-min_per_booking", "0"),
                (f"{prefix}-max_per_booking", "5"),
            ]
        ],
        "backoffice:activity-create": [activity_form],
        "backoffice:activity": [
            [*activity_form, ("save", "1")],
            [("archive", "1")],
            [("restore", "1")],
            [
                ("add_rate", "1"),
                ("new-name_es", "Niño"),
                ("new-amount", "1.500,50"),
                ("new-min_per_booking", "0"),
                ("new-max_per_booking", "4"),
            ],
            [
                ("save_rate", str(rate.pk)),
                (f"{prefix}-name_es", "Adulto"),
                (f"{prefix}-amount", "100.00"),
                (f"{prefix}-min_per_booking", "0"),
                (f"{prefix}-max_per_booking", "5"),
            ],
            [("rate_down", str(rate.pk))],
            [("remove_rate", str(rate.pk))],
            [("restore_rate", str(rate.pk))],
        ],
        "backoffice:reservation": [
            [("resend", "1")],
            [("reconcile", str(card.pk))],
            [("cancel", "1"), ("note", "walk")],
            [("refund", str(card.pk)), ("amount", "1.00"), ("reason", "walk")],
        ],
        "backoffice:webhook": [[("reprocess", "1")]],
        "backoffice:anomalies": [[("resolve", str(anomaly.pk))]],
        "backoffice:panel-conflicts": [[("resolve", str(conflict.pk)), ("note", "walk")]],
        "backoffice:team": [
            [
                ("grant", "1"),
                ("sub", FRESH),
                ("email", "new@alpha.example"),
                ("role", "agent"),
            ],
            [("remove", str(spare.pk))],
        ],
    }
    return World(ids=ids, realistic=realistic, bodies=bodies, staff=members)


# Requests


@dataclass(frozen=True)
class Walk:
    method: str = "GET"
    path: dict = field(default_factory=dict)  # parameter -> value; one left out: a real one
    query: tuple | str = ()  # pairs, or a raw query string
    form: tuple | None = None  # pairs, sent urlencoded or as multipart
    multipart: bool = False
    raw: bytes | None = None
    content_type: str = "application/octet-stream"
    headers: tuple = ()  # (name, value)
    sign: bool = False  # a webhook signed with the provider's real scheme

    def describe(self, url: str) -> str:
        body = self.form if self.form is not None else self.raw
        return (
            f"{self.method} {url!r} body={str(body)[:300]!r} "
            f"headers={[(k, v[:80]) for k, v in self.headers]!r}"
        )


HEADERS = [
    "Idempotency-Key",
    "HX-Request",
    "HX-Target",
    "HX-Current-URL",
    "Accept-Language",
    "Referer",
    "Origin",
    "X-Forwarded-For",
    "Stripe-Signature",
    "X-Signature",
    "X-Request-Id",
    "User-Agent",
    "Cookie",
]
# What a header value may be beyond any value: longer than a key's column, control characters.
HEADER_SHAPES = [Long("k" * 256), Long("k" * 300), Long("a" * 8000), "bad\x01key", "\t", " ", ""]
CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=x",
    "text/plain; charset=utf-16",
    "application/json; charset=nonsense",
]
RAW_QUERIES = ["%C2", "%ZZ", "a=%FF%FE", "&&=&", ";", "a=1;b=2", "=", "%00=%00", Long("a" * 3000)]


def walks(pattern: Pattern, world: World) -> dict[str, list[st.SearchStrategy[Walk]]]:
    """Requests to `pattern`, by kind: query strings ("get") and forms ("post") that set one
    name the view reads, or every one of them to the same value, or anything; the page's real
    forms with one field spoiled by a value of its kind, one strategy per field ("form"), or as
    they are with nasty headers ("headers"); raw bodies, signed or not ("raw"); each with nasty
    headers or none."""
    real_forms = world.bodies.get(pattern.name, [])
    own = sorted(
        set(names_read_by(pattern.view_module)) | {n for form in real_forms for n, _ in form}
    )
    value = values(world.realistic)
    noise = st.lists(
        st.tuples(st.one_of(pick(COMMON_NAMES), st.text(max_size=8)), value),
        max_size=4,
    ).map(tuple)
    if own:
        one = st.tuples(pick(own), value).map(lambda pair: (pair,))
        every = value.map(lambda v: tuple((name, v) for name in own))
        params = st.one_of(one, one, every, noise)
    else:
        params = noise
    header = st.one_of(pick(HEADER_SHAPES), pick(HEADER_SHAPES), value).map(header_value)
    nasty_headers = st.one_of(
        st.lists(st.tuples(pick(HEADERS), header), min_size=1, max_size=3).map(tuple),
        header.map(lambda v: tuple((h, v) for h in HEADERS if h != "Cookie")),
    )
    headers = st.one_of(st.just(()), nasty_headers)
    path = st.fixed_dictionaries(
        {
            name: st.one_of(
                pick(world.ids.get(name) or world.realistic),
                pick(world.ids.get(name) or world.realistic),
                PATH_VALUES[type(converter)],
            )
            for name, converter in pattern.converters.items()
        }
    )

    def posting(form: st.SearchStrategy, path=path, headers=headers) -> st.SearchStrategy[Walk]:
        return st.builds(
            Walk,
            method=pick(["POST", "POST", "POST", "PUT"]),
            path=path,
            query=st.one_of(st.just(()), st.just(()), params),
            form=form,
            multipart=st.booleans(),
            headers=headers,
        )

    get = st.builds(
        Walk,
        method=pick(["GET", "GET", "GET", "GET", "HEAD", "DELETE", "OPTIONS"]),
        path=path,
        query=st.one_of(params, params, pick(RAW_QUERIES)),
        headers=headers,
    )
    raw = st.builds(
        Walk,
        method=st.just("POST"),
        path=path,
        query=st.one_of(st.just(()), params),
        raw=st.one_of(st.binary(max_size=64), json_bodies()),
        content_type=pick(CONTENT_TYPES),
        headers=headers,
        sign=st.booleans(),
    )
    # A page's own form goes mostly to the page it came from (its real path).
    own_path = st.one_of(st.just({}), st.just({}), path)
    return {
        "get": [get],
        "post": [posting(params)],
        "raw": [raw],
        "form": [
            posting(spoiled(form, index, value), own_path)
            for form in real_forms
            for index in range(len(form))
        ],
        "headers": [posting(pick(real_forms).map(tuple), own_path, nasty_headers)]
        if real_forms
        else [],
    }


def spoiled(form: list[tuple[str, str]], index: int, value: st.SearchStrategy[str]):
    """A real form of the page with its field `index` replaced, mostly by a value of its kind:
    an e-mail by a long e-mail, a number by a non-number, a day by year 9999."""
    name, real = form[index]
    like = pick(shapes_like(real))
    return st.one_of(like, like, value).map(
        lambda v: tuple((n, v if i == index else r) for i, (n, r) in enumerate(form))
    )


def json_bodies() -> st.SearchStrategy[bytes]:
    """JSON documents of any shape, and Stripe events with one part of their object replaced
    (signed or not, as the walk says)."""
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), pick(NASTY))
    documents = st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(pick(["id", "type", "data", "object", "metadata"]), inner)
        ),
        max_leaves=8,
    )
    event = st.builds(
        lambda kind, obj, value: factories.stripe_event(kind, {"id": "cs_test_walk", obj: value}),
        pick(
            [
                "checkout.session.completed",
                "checkout.session.expired",
                "payment_intent.payment_failed",
                "charge.refunded",
                "x",
            ]
        ),
        pick(["metadata", "amount_total", "payment_intent", "status", "currency"]),
        documents,
    )
    return st.one_of(documents, event).map(lambda doc: json.dumps(doc).encode())


PATH_VALUES = {
    IntConverter: st.one_of(pick(NUMBERS), st.integers(min_value=0, max_value=10**40).map(str)),
    StringConverter: st.one_of(
        pick(["\x00", "x\x00y", "%00"]),
        pick(ISSUE_SHAPES),
        pick(TEXTS),
        pick(NASTY),
        st.text(max_size=20),
    ),
    SlugConverter: st.one_of(pick(TEXTS), st.from_regex(r"\A[-a-zA-Z0-9_]{1,80}\Z")),
}


# Sending, and what must hold


def tables() -> list[tuple[str, str]]:
    """(schema, table) of every table an operator's request could change: the operator's own
    (its sessions aside) and the platform's (operators, domains, staff, memberships)."""
    tenant_only = set(django_settings.TENANT_APPS) - set(django_settings.SHARED_APPS)
    shared_only = set(django_settings.SHARED_APPS) - set(django_settings.TENANT_APPS)
    found = []
    for config in apps.get_app_configs():
        for model in config.get_models(include_auto_created=True):
            if config.name in tenant_only and model._meta.db_table != "django_session":
                found.append(("alpha", model._meta.db_table))
            elif config.name in shared_only:
                found.append(("public", model._meta.db_table))
    return sorted(found)


def fingerprint_query() -> str:
    columns = ", ".join(
        f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
        f'FROM "{schema}"."{table}" t) AS "{schema}.{table}"'
        for schema, table in tables()
    )
    return f"SELECT {columns}"


def fingerprint(query: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(query)
        return dict(zip([c.name for c in cursor.description], cursor.fetchone(), strict=True))


class Walker:
    """One pattern walked by one party: builds each request, sends it, checks the answer."""

    def __init__(self, pattern: Pattern, who: str, world: World):
        self.pattern, self.who, self.world = pattern, who, world
        self.host = "localhost" if pattern.urlconf == PUBLIC_URLS else ALPHA_HOST
        self.client = self.new_client()
        self.query = fingerprint_query()
        self.reached = self.sent = 0

    def new_client(self) -> Client:
        client = Client(HTTP_HOST=self.host, HTTP_ACCEPT_LANGUAGE="en")
        if self.who in ROLES:
            client.force_login(self.world.staff[self.who].user)
        return client

    def url(self, walk: Walk) -> str:
        def value(match: re.Match) -> str:
            given = walk.path.get(match["name"])
            if given is None:
                given = (self.world.ids.get(match["name"]) or ["1"])[0]
            return quote(given, safe="")

        url = "/" + PARAMETER.sub(value, self.pattern.route)
        if isinstance(walk.query, str):
            return f"{url}?{walk.query}" if walk.query else url
        return f"{url}?{urlencode(walk.query)}" if walk.query else url

    def send(self, walk: Walk, url: str):
        extra = {}
        for name, value in walk.headers:
            if name == "Cookie":
                extra["HTTP_COOKIE"] = f"sessionid={value}; django_language={value}"
            else:
                extra["HTTP_" + name.upper().replace("-", "_")] = value
        data, content_type = b"", walk.content_type
        if walk.form is not None:
            self.sent += 1
            fresh = f"walk-{self.sent}"
            walk = replace(walk, form=tuple((n, fresh if v == FRESH else v) for n, v in walk.form))
            if walk.multipart:
                grouped: dict[str, list[str]] = {}
                for name, value in walk.form:
                    grouped.setdefault(name, []).append(value)
                data, content_type = encode_multipart(BOUNDARY, grouped), MULTIPART_CONTENT
            else:
                data = urlencode(walk.form).encode()
                content_type = "application/x-www-form-urlencoded"
        elif walk.raw is not None:
            data = walk.raw
            if walk.sign:
                extra |= self.signature(walk, data)
        return self.client.generic(walk.method, url, data, content_type=content_type, **extra)

    def signature(self, walk: Walk, body: bytes) -> dict[str, str]:
        provider = walk.path.get("provider") or "stripe"
        if provider == "stripe":
            header = stripe.WebhookSignature.generate_signature_header(
                body.decode("utf-8", "replace"), "whsec_alpha_new", timestamp=int(time.time())
            )
            return {"HTTP_STRIPE_SIGNATURE": header}
        query = walk.query if isinstance(walk.query, tuple) else ()
        data_id = dict(query).get("data.id", "")
        return {
            "HTTP_X_SIGNATURE": mercadopago_signature(data_id, "walk-request"),
            "HTTP_X_REQUEST_ID": "walk-request",
        }

    def resolves_here(self, url: str) -> bool:
        try:
            match = resolve(unquote(urlsplit(url).path), urlconf=self.pattern.urlconf)
        except Resolver404:
            return False
        return match.route == self.pattern.route

    def __call__(self, walk: Walk) -> None:
        session = self.client.cookies.get(django_settings.SESSION_COOKIE_NAME)
        if self.who in ROLES and (session is None or not session.value):
            self.client = self.new_client()  # a walk through sign-out ended the session
        if walk.sign and walk.path.get("provider") == "mercadopago" and walk.query == ():
            # A notification names its payment in the query, which the signature covers.
            walk = replace(walk, query=(("data.id", "123456"), ("type", "payment")))
        url = self.url(walk)
        before = fingerprint(self.query)
        try:
            with transaction.atomic():  # a request that broke the transaction is undone
                response = self.send(walk, url)
        except Exception as exc:
            raise AssertionError(f"500 (raised {exc!r}): {walk.describe(url)}") from exc
        status = response.status_code  # a 503 (a provider did not answer) is an answer
        assert status != 500, f"500: {walk.describe(url)}"
        if self.resolves_here(url) and status != 404:
            self.reached += 1
        if 400 <= status < 500:
            after = fingerprint(self.query)
            if self.pattern.name == "payments:webhook":  # a refused webhook is logged, on purpose
                for name in after:
                    if name.endswith(WebhookRejection._meta.db_table):
                        after[name] = before[name]
            changed = sorted(name for name in after if after[name] != before[name])
            assert not changed, f"{status} changed {changed}: {walk.describe(url)}"


def issue_examples(pattern: Pattern, world: World) -> list[Walk]:
    """The requests issue 8 found answering 500, sent to every pattern (each view reads the
    names it knows): its query strings, NUL in a path, ids that are not ids, an Idempotency-Key
    and an e-mail longer than their columns, a price beyond an amount column."""
    found = [
        Walk(
            query=(
                ("month", "9999-12"),
                ("day", "9999-12-31"),
                ("from", "0001-01-01"),
                ("to", "9999-12-31"),
                ("activity", "²"),
            )
        ),
        Walk(
            query=(
                ("month", "9" * 36 + "-1"),
                ("day", "0001-01-01"),
                ("from", "9999-12-31"),
                ("view", "calendar"),
            )
        ),
        Walk(query=(("type", "\x00"),)),
        Walk(
            method="POST",
            form=(("resolve", "abc"), ("rate", "abc"), ("reconcile", "abc"), ("remove", "abc")),
        ),
        Walk(method="POST", form=(("refund", "abc"),)),
    ]
    # Each real form of the page as it is: a request that goes through and changes something,
    # for the walks after it to meet.
    found += [Walk(method="POST", form=tuple(form)) for form in world.bodies.get(pattern.name, [])]
    strings = [name for name, c in pattern.converters.items() if isinstance(c, StringConverter)]
    if strings:
        found.append(Walk(path={strings[0]: "\x00"}))
    for form in world.bodies.get(pattern.name, []):
        names = dict(form)
        if "contact_email" in names or "email" in names:
            found.append(
                Walk(method="POST", form=tuple(form), headers=(("Idempotency-Key", "k" * 300),))
            )
            found.append(
                Walk(
                    method="POST",
                    form=tuple(
                        (k, LONG_EMAIL if k in ("contact_email", "email") else v) for k, v in form
                    ),
                )
            )
        for name, _ in form:
            if name.endswith("-amount"):
                found.append(
                    Walk(
                        method="POST",
                        form=tuple((k, "9999999999.99" if k == name else v) for k, v in form),
                    )
                )
    return found


def budget(walker: "Walker") -> dict[str, int]:
    pattern = walker.pattern
    if walker.who == "visitor":
        return EXAMPLES["visitor"]
    if pattern.name == "payments:webhook":
        return EXAMPLES["webhook"]
    staff_page = walker.who == "signed-out" or walker.who in ROLES
    if staff_page and walker.client.get(walker.url(Walk())).status_code in (302, 403):
        return EXAMPLES["refused"]  # signed out, or a role below the page's
    return EXAMPLES["forms" if pattern.name in walker.world.bodies else "pages"]


@pytest.mark.parametrize(
    ("pattern", "who"), WALKS, ids=[f"{pattern}-{who}" for pattern, who in WALKS]
)
def test_no_request_answers_500(world, pattern, who):
    walker = Walker(pattern, who, world)
    kinds = walks(pattern, world)
    explicit = issue_examples(pattern, world)
    runs = [(strategy, count) for kind, count in budget(walker).items() for strategy in kinds[kind]]
    for strategy, count in runs:

        def walk_one(walk: Walk) -> None:
            walker(walk)

        walk_all: Callable = given(strategy)(walk_one)
        for each in explicit:
            walk_all = example(each)(walk_all)
        explicit = []  # sent once, with the first run
        hypothesis_settings(
            max_examples=count,
            derandomize=True,
            database=None,
            deadline=None,
            print_blob=False,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
                HealthCheck.large_base_example,
                HealthCheck.filter_too_much,
            ],
        )(walk_all)()
    assert walker.reached, f"{pattern} was never reached: teach the walker to build its path"
