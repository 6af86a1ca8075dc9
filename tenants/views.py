import logging

import requests
from django.core.exceptions import SuspiciousOperation
from django.shortcuts import render
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView

from tenants.permissions import no_access_response

logger = logging.getLogger(__name__)


def platform_home(request):
    """The public schema's page: what this site is. It lists no operator and nothing private."""
    return render(request, "tenants/platform_home.html")


def unknown_host(request):
    return render(request, "tenants/unknown_host.html", {"host": request.get_host()}, status=404)


class StaffSignInCallbackView(OIDCAuthenticationCallbackView):
    """The provider sends staff back here. A verified user without a membership at this
    operator gets the no-access page; any other failure (a token that fails verification,
    an error from the provider, a stale sign-in) gets a page that offers to try again."""

    def get(self, request):
        try:
            return super().get(request)
        except SuspiciousOperation as exc:
            logger.warning("staff sign-in refused at %s: %s", request.get_host(), exc)
            return self.sign_in_failed(status=400)
        except requests.RequestException as exc:
            logger.error("identity provider unreachable or refusing: %s", exc)
            return self.sign_in_failed(status=502)

    def login_failure(self):
        refused = getattr(self.request, "staff_refused", None)
        if refused is not None:
            return no_access_response(
                self.request, email=refused.email, sub=refused.sub, signed_in=False
            )
        return self.sign_in_failed(status=400)

    def sign_in_failed(self, *, status: int):
        return render(self.request, "tenants/sign_in_failed.html", status=status)


def signed_out(request):
    """Where the identity provider returns staff after signing them out."""
    return render(request, "tenants/signed_out.html")
