"""Small things every backoffice page uses."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRefresh

PAGE_SIZE = 25


def actor(request: HttpRequest) -> str:
    """Who did it, as the timeline and the audit log record it."""
    return request.user.email


def after_action(request: HttpRequest, url: str) -> HttpResponse:
    """After a POST: htmx reloads the page in place, a plain form gets a redirect."""
    return HttpResponseClientRefresh() if request.htmx else redirect(url)
