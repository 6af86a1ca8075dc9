"""Security headers Django's SecurityMiddleware does not set: the Content-Security-Policy of
every response (settings.CONTENT_SECURITY_POLICY). HSTS, nosniff, the referrer policy and the
SSL redirect are Django's own; `Cache-Control: no-store` on staff pages comes with
`tenants.permissions.staff_required`."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
