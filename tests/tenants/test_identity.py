"""Staff identity: sign-in through a real OpenID Connect provider (oidc-provider, started for the
session), users matched by `sub`, memberships per operator, the 403 page, sign-out at both ends,
and the permission helpers the backoffice views and services use.

Sign-ins follow the real authorization code flow: Django's test client starts it, `requests`
plays the browser at the provider (its login page, filled in with a demo account), and the
callback with the provider's code is handed back to Django, which calls the provider's token,
JWKS and userinfo endpoints over HTTP.
"""

import base64
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.management import CommandError, call_command
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import override_settings

from emulators.oidc import DEMO_STAFF, running_oidc_provider
from tenants.auth import StaffOIDCBackend
from tenants.models import Membership, Operator, Role, StaffUser
from tenants.permissions import membership_require, staff_required
from tenants.services import membership_grant
from tests.factories import ALPHA_HOST, BETA_HOST, SYSTEM

OWNER, MANAGER, AGENT, OUTSIDER = DEMO_STAFF
ANY_PASSWORD = "whatever-you-like"


@pytest.fixture(autouse=True)
def public_schema_afterwards():
    """Requests through the test client leave the connection on the operator's schema; the
    next test (on this worker) must start on the public one."""
    yield
    connection.set_schema_to_public()


@pytest.fixture(scope="session")
def oidc_provider():
    """The development provider, allowed to return to alpha's and beta's sites."""
    sites = [f"http://{ALPHA_HOST}", f"http://{BETA_HOST}"]
    with running_oidc_provider(DEMO_STAFF, site_urls=sites) as provider:
        yield provider


@pytest.fixture
def oidc(oidc_provider, settings):
    """Django pointed at the provider, as the environment does in development and e2e."""
    for name, value in oidc_provider.settings().items():
        setattr(settings, name, value)
    return oidc_provider


@pytest.fixture
def alpha_operator(db) -> Operator:
    return Operator.objects.get(schema_name="alpha")


@pytest.fixture
def beta(db) -> Operator:
    return Operator.objects.get(schema_name="beta")


def staff_client(host: str) -> Client:
    return Client(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE="en")


class Forms(HTMLParser):
    """The forms of a page: action, method and the named inputs with their values."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"attrs": attrs, "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""


class ProviderBrowser:
    """What a browser does at the identity provider, with its cookies (its session there)."""

    def __init__(self):
        self.http = requests.Session()
        self.login_pages_seen = 0

    def until_back_at(self, url: str, host: str, account: str | None) -> str:
        """Follow the provider's redirects and fill in its login page until it sends the
        browser back to `host`; return that URL."""
        response = self.http.get(url, allow_redirects=False, timeout=10)
        for _ in range(20):
            if response.is_redirect:
                url = urljoin(response.url, response.headers["Location"])
                if urlsplit(url).hostname == host:
                    return url
                response = self.http.get(url, allow_redirects=False, timeout=10)
                continue
            forms = Forms(response.text).forms
            if response.status_code == 200 and forms and "login" in forms[0]["fields"]:
                assert account is not None, "the provider asked to sign in"
                self.login_pages_seen += 1
                action = urljoin(response.url, forms[0]["attrs"]["action"])
                response = self.http.post(
                    action,
                    data={"login": account, "password": ANY_PASSWORD},
                    allow_redirects=False,
                    timeout=10,
                )
                continue
            if response.status_code == 200 and forms:  # the end-session page
                form = forms[0]
                action = urljoin(response.url, form["attrs"]["action"])
                response = self.http.post(action, data=form["fields"], allow_redirects=False)
                continue
            raise AssertionError(f"unexpected page at the provider: {response.status_code}")
        raise AssertionError("too many redirects at the provider")


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def sign_in(client: Client, account: str | None, *, browser: ProviderBrowser | None = None):
    """A full authorization code sign-in; returns Django's answer to the callback."""
    host = client.defaults["HTTP_HOST"]
    start = client.get("/backoffice/login/")
    assert start.status_code == 302
    back = (browser or ProviderBrowser()).until_back_at(start["Location"], host, account)
    assert urlsplit(back).path == "/oidc/callback/"
    return client.get(path_of(back))


def signed_in_user(client: Client) -> StaffUser | None:
    user_id = client.session.get(SESSION_KEY)
    return StaffUser.objects.get(pk=user_id) if user_id else None


# --- sign-in -------------------------------------------------------------------------------


def test_sign_in_goes_to_the_provider_with_nonce_and_pkce(oidc, alpha_operator):
    response = staff_client(ALPHA_HOST).get("/backoffice/login/")

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    params = {key: values[0] for key, values in parse_qs(target.query).items()}
    assert (
        f"{target.scheme}://{target.netloc}{target.path}"
        == (oidc.settings()["OIDC_OP_AUTHORIZATION_ENDPOINT"])
    )
    assert params["client_id"] == oidc.client_id
    assert params["redirect_uri"] == f"http://{ALPHA_HOST}/oidc/callback/"
    assert params["scope"] == "openid email profile"
    assert params["nonce"] and params["state"]
    assert params["code_challenge_method"] == "S256"


def test_anonymous_backoffice_visit_is_sent_to_sign_in_and_brought_back(oidc, alpha_operator):
    membership_grant(
        actor=SYSTEM, operator=alpha_operator, sub=AGENT.sub, email=AGENT.email, role="agent"
    )
    client = staff_client(ALPHA_HOST)

    response = client.get("/backoffice/")
    assert response.status_code == 302
    assert response["Location"] == "/backoffice/login/?next=/backoffice/"

    callback = sign_in(client, AGENT.sub)
    assert callback.status_code == 302
    assert callback["Location"] == "/backoffice/"


def test_first_sign_in_creates_the_user_and_refuses_without_membership(oidc, alpha_operator):
    client = staff_client(ALPHA_HOST)

    response = sign_in(client, OUTSIDER.sub)

    assert response.status_code == 403
    assert "tenants/no_access.html" in [t.name for t in response.templates]
    page = response.content.decode()
    assert "You have no access to Alpha Expeditions" in page
    assert OUTSIDER.email in page and OUTSIDER.sub in page
    user = StaffUser.objects.get(sub=OUTSIDER.sub)
    assert (user.email, user.name, user.is_active) == (OUTSIDER.email, OUTSIDER.name, True)
    assert not user.has_usable_password()
    assert signed_in_user(client) is None
    # Its sign-out link ends the session at the provider and comes back here.
    sign_out = response.context["provider_logout_url"]
    assert sign_out.startswith(oidc.settings()["OIDC_OP_LOGOUT_ENDPOINT"] + "?")
    query = parse_qs(urlsplit(sign_out).query)
    assert query["client_id"] == [oidc.client_id]
    assert query["post_logout_redirect_uri"] == [f"http://{ALPHA_HOST}/backoffice/signed-out/"]
    assert f'href="{sign_out.replace("&", "&amp;")}"' in page


def test_member_signs_in_and_is_updated_from_the_provider_each_time(oidc, alpha_operator):
    membership_grant(
        actor=SYSTEM,
        operator=alpha_operator,
        sub=MANAGER.sub,
        email="old@example.com",
        role="manager",
        name="Old Name",
    )
    client = staff_client(ALPHA_HOST)

    response = sign_in(client, MANAGER.sub)

    assert response.status_code == 302
    assert response["Location"] == "/backoffice/"
    user = StaffUser.objects.get(sub=MANAGER.sub)
    assert (user.email, user.name) == (MANAGER.email, MANAGER.name)
    assert user.last_login is not None
    assert signed_in_user(client) == user
    home = client.get("/backoffice/")
    assert home.status_code == 200
    assert f"Signed in as {MANAGER.email} (Manager) at Alpha Expeditions" in home.content.decode()

    StaffUser.objects.filter(pk=user.pk).update(email="changed@example.com", name="Changed")
    second = sign_in(client, MANAGER.sub)

    assert second.status_code == 302
    user.refresh_from_db()
    assert (user.email, user.name) == (MANAGER.email, MANAGER.name)
    assert StaffUser.objects.filter(sub=MANAGER.sub).count() == 1


def test_member_of_alpha_is_refused_at_beta(oidc, alpha_operator, beta):
    membership_grant(
        actor=SYSTEM, operator=alpha_operator, sub=OWNER.sub, email=OWNER.email, role="owner"
    )
    browser = ProviderBrowser()
    alpha_client, beta_client = staff_client(ALPHA_HOST), staff_client(BETA_HOST)

    assert sign_in(alpha_client, OWNER.sub, browser=browser).status_code == 302
    assert alpha_client.get("/backoffice/").status_code == 200

    # Still signed in at the provider: no login page this time, and still no way in at beta.
    refused = sign_in(beta_client, None, browser=browser)

    assert browser.login_pages_seen == 1
    assert refused.status_code == 403
    assert "You have no access to Beta Aventuras" in refused.content.decode()
    assert signed_in_user(beta_client) is None
    assert beta_client.get("/backoffice/").status_code == 302
    assert alpha_client.get("/backoffice/").status_code == 200


def test_inactive_user_is_refused_even_with_a_membership(oidc, alpha_operator):
    membership = membership_grant(
        actor=SYSTEM, operator=alpha_operator, sub=OWNER.sub, email=OWNER.email, role="owner"
    )
    StaffUser.objects.filter(pk=membership.user_id).update(is_active=False)

    response = sign_in(staff_client(ALPHA_HOST), OWNER.sub)

    assert response.status_code == 403


def test_deactivating_a_user_ends_their_sessions(oidc, alpha_operator):
    membership = membership_grant(
        actor=SYSTEM, operator=alpha_operator, sub=OWNER.sub, email=OWNER.email, role="owner"
    )
    client = staff_client(ALPHA_HOST)
    assert sign_in(client, OWNER.sub).status_code == 302

    StaffUser.objects.filter(pk=membership.user_id).update(is_active=False)

    assert client.get("/backoffice/").status_code == 302


def test_removed_membership_gets_the_no_access_page_with_a_sign_out_button(oidc, alpha_operator):
    membership = membership_grant(
        actor=SYSTEM, operator=alpha_operator, sub=AGENT.sub, email=AGENT.email, role="agent"
    )
    client = staff_client(ALPHA_HOST)
    assert sign_in(client, AGENT.sub).status_code == 302

    membership.delete()
    response = client.get("/backoffice/")

    assert response.status_code == 403
    page = response.content.decode()
    assert "You have no access to Alpha Expeditions" in page
    assert 'action="/oidc/logout/"' in page and 'method="post"' in page


def test_replayed_callback_is_refused(oidc, alpha_operator):
    membership_grant(
        actor=SYSTEM, operator=alpha_operator, sub=AGENT.sub, email=AGENT.email, role="agent"
    )
    client = staff_client(ALPHA_HOST)
    start = client.get("/backoffice/login/")
    back = ProviderBrowser().until_back_at(start["Location"], ALPHA_HOST, AGENT.sub)
    assert client.get(path_of(back)).status_code == 302

    replay = staff_client(ALPHA_HOST).get(path_of(back))

    assert replay.status_code == 400
    assert "Sign-in did not complete" in replay.content.decode()


def test_provider_error_gets_the_sign_in_failed_page(oidc, alpha_operator):
    client = staff_client(ALPHA_HOST)
    start = client.get("/backoffice/login/")
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]

    response = client.get("/oidc/callback/", {"error": "access_denied", "state": state})

    assert response.status_code == 400
    assert "Try again" in response.content.decode()


# --- ID tokens that must not be accepted -------------------------------------------------


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "long-mail", "email": "a" * 250 + "@example.com"},
        {"sub": "not-mail", "email": "not an address"},
        {"sub": "list-mail", "email": ["a@example.com"]},
        {"sub": "x" * 256, "email": "x@example.com"},
        {"sub": 42, "email": "x@example.com"},
    ],
)
def test_claims_a_staff_user_cannot_hold_are_refused_before_anything_is_written(
    alpha_operator, settings, claims
):
    """A provider's odd claim ends on the sign-in-failed page (the callback turns the refusal
    into a 400), not in a database error."""
    settings.OIDC_OP_USER_ENDPOINT = None  # the verified ID token's claims alone
    backend = StaffOIDCBackend()
    backend.request = RequestFactory(HTTP_HOST=ALPHA_HOST).get("/oidc/callback/")

    with pytest.raises(SuspiciousOperation):
        backend.get_or_create_user("access-token", "id-token", claims)

    assert not StaffUser.objects.exists()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed_by_another_key(id_token: str, secret: str) -> str:
    header = jwt.get_unverified_header(id_token)
    claims = jwt.decode(id_token, options={"verify_signature": False})
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, impostor, algorithm="RS256", headers={"kid": header["kid"]})


def _payload_altered(id_token: str, secret: str) -> str:
    header, payload, signature = id_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = OWNER.sub
    return ".".join([header, _b64(json.dumps(claims).encode()), signature])


def _hs256_with_client_secret(id_token: str, secret: str) -> str:
    header = jwt.get_unverified_header(id_token)
    claims = jwt.decode(id_token, options={"verify_signature": False})
    return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": header["kid"]})


def _unsigned(id_token: str, secret: str) -> str:
    claims = jwt.decode(id_token, options={"verify_signature": False})
    return ".".join([_b64(b'{"alg":"none","typ":"JWT"}'), _b64(json.dumps(claims).encode()), ""])


@pytest.mark.parametrize(
    "forge",
    [_signed_by_another_key, _payload_altered, _hs256_with_client_secret, _unsigned],
    ids=["another-key", "altered-payload", "hs256-client-secret", "alg-none"],
)
def test_forged_id_token_is_refused_before_any_claim_is_used(
    oidc, alpha_operator, monkeypatch, forge
):
    """The provider's real answer, with its ID token swapped for a forged one on the way."""
    membership_grant(
        actor=SYSTEM, operator=alpha_operator, sub=OWNER.sub, email=OWNER.email, role="owner"
    )
    genuine_get_token = StaffOIDCBackend.get_token

    def tampered_get_token(self, payload):
        tokens = genuine_get_token(self, payload)
        return tokens | {"id_token": forge(tokens["id_token"], oidc.client_secret)}

    monkeypatch.setattr(StaffOIDCBackend, "get_token", tampered_get_token)
    client = staff_client(ALPHA_HOST)

    response = sign_in(client, AGENT.sub)

    assert response.status_code == 400
    assert "Sign-in did not complete" in response.content.decode()
    assert signed_in_user(client) is None
    assert not StaffUser.objects.filter(sub=AGENT.sub).exists()
    assert client.get("/backoffice/").status_code == 302


def test_token_from_another_issuer_is_refused(oidc, settings, alpha_operator):
    membership_grant(
        actor=SYSTEM, operator=alpha_operator, sub=OWNER.sub, email=OWNER.email, role="owner"
    )
    settings.OIDC_OP_ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/another-pool"
    client = staff_client(ALPHA_HOST)

    assert sign_in(client, OWNER.sub).status_code == 400
    assert signed_in_user(client) is None


# --- sign-out ------------------------------------------------------------------------------


def test_sign_out_ends_both_sessions(oidc, alpha_operator):
    membership_grant(
        actor=SYSTEM, operator=alpha_operator, sub=OWNER.sub, email=OWNER.email, role="owner"
    )
    browser = ProviderBrowser()
    client = staff_client(ALPHA_HOST)
    assert sign_in(client, OWNER.sub, browser=browser).status_code == 302
    assert client.get("/backoffice/").status_code == 200

    response = client.post("/oidc/logout/")

    assert response.status_code == 302
    end_session = urlsplit(response["Location"])
    assert response["Location"].startswith(oidc.discovery["end_session_endpoint"] + "?")
    query = {key: values[0] for key, values in parse_qs(end_session.query).items()}
    assert query["client_id"] == oidc.client_id
    assert query["post_logout_redirect_uri"] == f"http://{ALPHA_HOST}/backoffice/signed-out/"
    assert jwt.decode(query["id_token_hint"], options={"verify_signature": False})["sub"] == (
        OWNER.sub
    )
    assert signed_in_user(client) is None
    assert client.get("/backoffice/").status_code == 302

    # The provider signs the browser out and sends it back to the signed-out page...
    back = browser.until_back_at(response["Location"], ALPHA_HOST, None)
    assert back == f"http://{ALPHA_HOST}/backoffice/signed-out/"
    signed_out = client.get(path_of(back))
    assert signed_out.status_code == 200
    assert "You have signed out" in signed_out.content.decode()
    # ...and the next sign-in asks for the login again.
    assert sign_in(client, OWNER.sub, browser=browser).status_code == 302
    assert browser.login_pages_seen == 2


def test_sign_out_needs_a_post(oidc, alpha_operator):
    assert staff_client(ALPHA_HOST).get("/oidc/logout/").status_code == 405


@override_settings(
    OIDC_OP_LOGOUT_PROTOCOL="cognito",
    OIDC_OP_LOGOUT_ENDPOINT="https://andes.auth.us-east-1.amazoncognito.com/logout",
    OIDC_RP_CLIENT_ID="cognito-client",
)
def test_cognito_logout_url():
    from tenants.auth import provider_logout_url

    request = RequestFactory(HTTP_HOST=ALPHA_HOST).get("/oidc/logout/")
    request.session = {"oidc_id_token": "not-sent-to-cognito"}

    url = urlsplit(provider_logout_url(request))

    assert (url.scheme, url.netloc, url.path) == (
        "https",
        "andes.auth.us-east-1.amazoncognito.com",
        "/logout",
    )
    assert parse_qs(url.query) == {
        "client_id": ["cognito-client"],
        "logout_uri": [f"http://{ALPHA_HOST}/backoffice/signed-out/"],
    }


def test_cognito_endpoints_follow_from_the_pool_unless_overridden():
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({n: getattr(s, n) for n in dir(s) if n.startswith('OIDC_')}))"
    )
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("OIDC_", "COGNITO_"))
    } | {
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "COGNITO_REGION": "sa-east-1",
        "COGNITO_USER_POOL_ID": "sa-east-1_Pool42",
        "COGNITO_DOMAIN": "andes-staff",
        "OIDC_OP_USER_ENDPOINT": "http://127.0.0.1:9/me",
        "OIDC_RP_CLIENT_ID": "client-42",
        "OIDC_RP_CLIENT_SECRET": "secret-42",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    oidc = json.loads(result.stdout)

    hosted = "https://andes-staff.auth.sa-east-1.amazoncognito.com"
    pool = "https://cognito-idp.sa-east-1.amazonaws.com/sa-east-1_Pool42"
    assert oidc["OIDC_OP_AUTHORIZATION_ENDPOINT"] == f"{hosted}/oauth2/authorize"
    assert oidc["OIDC_OP_TOKEN_ENDPOINT"] == f"{hosted}/oauth2/token"
    assert oidc["OIDC_OP_USER_ENDPOINT"] == "http://127.0.0.1:9/me"
    assert oidc["OIDC_OP_LOGOUT_ENDPOINT"] == f"{hosted}/logout"
    assert oidc["OIDC_OP_JWKS_ENDPOINT"] == f"{pool}/.well-known/jwks.json"
    assert oidc["OIDC_OP_ISSUER"] == pool
    assert oidc["OIDC_OP_LOGOUT_PROTOCOL"] == "cognito"
    assert (oidc["OIDC_RP_CLIENT_ID"], oidc["OIDC_RP_CLIENT_SECRET"]) == ("client-42", "secret-42")
    assert oidc["OIDC_RP_SIGN_ALGO"] == "RS256"
    assert oidc["OIDC_USE_NONCE"] is True


# --- permission helpers ----------------------------------------------------------------------


@staff_required(role="manager")
def managers_page(request):
    return HttpResponse(f"hello {request.membership.role}")


@staff_required
def agents_page(request):
    return HttpResponse(f"hello {request.membership.role}")


def _request(operator: Operator, user, *, htmx: bool = False):
    request = RequestFactory(HTTP_HOST=ALPHA_HOST).get("/backoffice/reports/?page=2")
    request.tenant = operator
    request.user = user
    request.session = {}
    request.htmx = htmx
    return request


@pytest.mark.parametrize(
    ("role", "page", "status"),
    [
        ("agent", agents_page, 200),
        ("agent", managers_page, 403),
        ("manager", agents_page, 200),
        ("manager", managers_page, 200),
        ("owner", managers_page, 200),
    ],
)
def test_staff_required_checks_the_role_here(alpha_operator, role, page, status):
    membership = membership_grant(
        actor=SYSTEM, operator=alpha_operator, sub="s", email="s@example.com", role=role
    )

    response = page(_request(alpha_operator, membership.user))

    assert response.status_code == status
    if status == 200:
        assert response.content.decode() == f"hello {role}"
    else:
        assert "This page needs the Manager role" in response.content.decode()


def test_staff_required_owner_only(alpha_operator):
    @staff_required(role=Role.OWNER)
    def owners_page(request):
        return HttpResponse("ok")

    for role, status in [("agent", 403), ("manager", 403), ("owner", 200)]:
        membership = membership_grant(
            actor=SYSTEM, operator=alpha_operator, sub="s", email="s@example.com", role=role
        )
        assert owners_page(_request(alpha_operator, membership.user)).status_code == status


def test_staff_required_refuses_a_member_of_another_operator(alpha_operator, beta):
    membership = membership_grant(
        actor=SYSTEM, operator=beta, sub="s", email="s@example.com", role="owner"
    )

    response = agents_page(_request(alpha_operator, membership.user))

    assert response.status_code == 403
    assert "You have no access to Alpha Expeditions" in response.content.decode()


def test_staff_required_sends_anonymous_users_to_sign_in(alpha_operator):
    from django.contrib.auth.models import AnonymousUser

    response = agents_page(_request(alpha_operator, AnonymousUser()))
    assert response.status_code == 302
    assert response["Location"] == "/backoffice/login/?next=/backoffice/reports/%3Fpage%3D2"

    fragment = agents_page(_request(alpha_operator, AnonymousUser(), htmx=True))
    assert fragment["HX-Redirect"] == "/backoffice/login/"


def test_staff_required_refuses_an_unknown_role_at_import_time():
    with pytest.raises(ValueError):
        staff_required(role="admin")


def test_membership_require_for_services(alpha_operator, beta):
    agent = membership_grant(
        actor=SYSTEM, operator=alpha_operator, sub="a", email="a@example.com", role="agent"
    )
    owner = membership_grant(
        actor=SYSTEM, operator=alpha_operator, sub="o", email="o@example.com", role="owner"
    )

    assert membership_require(agent.user, alpha_operator, "agent") == agent
    assert membership_require(owner.user, alpha_operator, Role.MANAGER) == owner
    with pytest.raises(PermissionDenied):
        membership_require(agent.user, alpha_operator, "manager")
    with pytest.raises(PermissionDenied):
        membership_require(owner.user, beta, "agent")
    owner.user.is_active = False
    with pytest.raises(PermissionDenied):
        membership_require(owner.user, alpha_operator, "agent")


def test_role_order():
    def grants(held, wanted):
        return Membership(role=held).grants(wanted)

    assert [grants("owner", r) for r in Role.values] == [True, True, True]
    assert [grants("manager", r) for r in Role.values] == [False, True, True]
    assert [grants("agent", r) for r in Role.values] == [False, False, True]


# --- bootstrapping staff ---------------------------------------------------------------------


def test_add_staff_creates_the_user_and_membership(alpha_operator, capsys):
    call_command("add_staff", "alpha", "cognito-sub-1", "first@example.com", "owner", name="Fi")

    membership = Membership.objects.get(user__sub="cognito-sub-1", operator=alpha_operator)
    assert membership.role == "owner"
    assert (membership.user.email, membership.user.name) == ("first@example.com", "Fi")
    assert not membership.user.has_usable_password()
    assert "owner at Alpha Expeditions" in capsys.readouterr().out

    call_command("add_staff", "alpha", "cognito-sub-1", "first@example.com", "agent")

    assert Membership.objects.get(user__sub="cognito-sub-1").role == "agent"
    assert StaffUser.objects.filter(sub="cognito-sub-1").count() == 1


@pytest.mark.parametrize(
    "args",
    [
        ["nowhere", "sub", "x@example.com", "owner"],
        ["public", "sub", "x@example.com", "owner"],
        ["alpha", "sub", "not-an-email", "owner"],
    ],
)
def test_add_staff_refuses_bad_input(db, args):
    with pytest.raises(CommandError):
        call_command("add_staff", *args)
    assert not StaffUser.objects.exists()


def test_add_staff_refuses_an_unknown_role(db):
    with pytest.raises(CommandError):
        call_command("add_staff", "alpha", "sub", "x@example.com", "admin")


def test_users_have_no_usable_password(db):
    user = StaffUser.objects.create_user("sub-9", "nine@example.com", "Nine")

    assert not user.has_usable_password()
    assert not user.check_password("")
