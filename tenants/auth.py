"""Staff sign-in with OpenID Connect: the authentication backend and the provider's logout URL.

mozilla-django-oidc runs the authorization code flow (state, nonce, PKCE) and fetches the
provider's JWKS; this backend adds what it leaves out: the ID token's issuer, audience and
expiry are checked with its signature, users are matched by `sub` (never by e-mail), and a
user must hold a membership in the operator whose site they are signing in to.
"""

import logging
from urllib.parse import urlencode

import jwt
from django.conf import settings
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest
from django.shortcuts import resolve_url
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from tenants.models import Membership, StaffUser
from tenants.services import staff_user_upsert

logger = logging.getLogger(__name__)

# Clock skew allowed between this server and the provider when checking exp/iat.
TOKEN_LEEWAY_SECONDS = 30
SUB_MAX_LENGTH = StaffUser._meta.get_field("sub").max_length
EMAIL_MAX_LENGTH = StaffUser._meta.get_field("email").max_length


class StaffOIDCBackend(OIDCAuthenticationBackend):
    """Signs staff in from a verified ID token; refuses those with no membership here.

    A refused user is still created or updated (so an owner can grant them access by their
    `sub`), and is left on ``request.staff_refused`` for the callback view to explain."""

    def retrieve_matching_jwk(self, token):
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise SuspiciousOperation(f"ID token unreadable: {exc}") from exc
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO or not header.get("kid"):
            raise SuspiciousOperation(f"ID token header refused: {header}")
        return super().retrieve_matching_jwk(token)

    def _verify_jws(self, payload, key):
        try:
            header = jwt.get_unverified_header(payload)
        except jwt.InvalidTokenError as exc:
            raise SuspiciousOperation(f"ID token unreadable: {exc}") from exc
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation(f"ID token signed with {header.get('alg')!r}")
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.OIDC_OP_ISSUER,
                leeway=TOKEN_LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "sub", "exp", "iat"]},
            )
        except jwt.InvalidTokenError as exc:
            raise SuspiciousOperation(f"ID token refused: {exc}") from exc

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        authorized_party = payload.get("azp")
        if authorized_party is not None and authorized_party != self.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("ID token issued to another client")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        """`payload` is the verified ID token. Userinfo may add the e-mail and name, but only
        when it speaks of the same subject (OIDC Core 5.3.2)."""
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            userinfo = self.get_userinfo(access_token, id_token, payload)
            if userinfo.get("sub") != payload["sub"]:
                raise SuspiciousOperation("userinfo describes another subject")
            claims |= userinfo
        sub, email = _fitting_identity(claims)
        user = staff_user_upsert(sub=sub, email=email, name=_display_name(claims))
        operator = getattr(self.request, "tenant", None)
        if not user.is_active or not Membership.objects.at(operator).filter(user=user).exists():
            logger.info("staff %s refused at %s: no membership", user.sub, operator)
            self.request.staff_refused = user
            return None
        return user

    def get_user(self, user_id):
        return StaffUser.objects.filter(pk=user_id, is_active=True).first()


def _fitting_identity(claims: dict) -> tuple[str, str]:
    """The subject and e-mail address, refused (the sign-in-failed page, a 400) unless they are
    strings a staff user can hold: a provider's odd claim is not a server error."""
    sub, email = claims.get("sub"), claims.get("email")
    if not email:
        raise SuspiciousOperation("the provider gave no e-mail address")
    if not isinstance(sub, str) or not 0 < len(sub) <= SUB_MAX_LENGTH:
        raise SuspiciousOperation("the provider's subject is not a short string")
    try:
        validate_email(email)
    except (ValidationError, TypeError) as exc:
        raise SuspiciousOperation("the provider's e-mail address is not one") from exc
    if len(email) > EMAIL_MAX_LENGTH:
        raise SuspiciousOperation("the provider's e-mail address is too long to keep")
    return sub, email


def _display_name(claims: dict) -> str:
    name = claims.get("name") or " ".join(
        part for part in (claims.get("given_name"), claims.get("family_name")) if part
    )
    return str(name)[:200]


def provider_logout_url(request: HttpRequest) -> str:
    """Where sign-out sends the browser so the provider's session ends too; the provider then
    returns it to LOGOUT_REDIRECT_URL on this operator's site (which must be registered with
    the client at the provider). Used as OIDC_OP_LOGOUT_URL_METHOD, and by the no-access
    page for a user who is signed in at the provider but not here."""
    return_to = request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL))
    if settings.OIDC_OP_LOGOUT_PROTOCOL == "cognito":
        params = {"client_id": settings.OIDC_RP_CLIENT_ID, "logout_uri": return_to}
    else:
        params = {"client_id": settings.OIDC_RP_CLIENT_ID, "post_logout_redirect_uri": return_to}
        id_token = request.session.get("oidc_id_token")
        if id_token:
            params["id_token_hint"] = id_token
    return f"{settings.OIDC_OP_LOGOUT_ENDPOINT}?{urlencode(params)}"
