"""Small things every backoffice page uses."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRefresh

from tenants.actors import Actor

PAGE_SIZE = 25


def actor(request: HttpRequest) -> Actor:
    """The signed-in staff member acting, by their membership here (set by staff_required);
    timelines and the audit log record their e-mail."""
    return Actor.staff(request.membership)


def after_action(request: HttpRequest, url: str) -> HttpResponse:
    """After a POST: htmx reloads the page in place, a plain form gets a redirect."""
    return HttpResponseClientRefresh() if request.htmx else redirect(url)
