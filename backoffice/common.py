"""Small things every backoffice page uses."""

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRefresh

from tenants.actors import Actor

PAGE_SIZE = 25
# Row ids are PostgreSQL bigints (BigAutoField).
MAX_ID = 2**63 - 1


def actor(request: HttpRequest) -> Actor:
    """The signed-in staff member acting, by their membership here (set by staff_required);
    timelines and the audit log record their e-mail."""
    return Actor.staff(request.membership)


def after_action(request: HttpRequest, url: str) -> HttpResponse:
    """After a POST: htmx reloads the page in place, a plain form gets a redirect."""
    return HttpResponseClientRefresh() if request.htmx else redirect(url)


def as_id(value: str | None) -> int | None:
    """A row id written in ASCII digits (`"²".isdigit()` is true, yet int() refuses it), or
    None for anything else."""
    if not value or not value.isascii() or not value.isdigit() or len(value) > 19:
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def posted_id(request: HttpRequest, name: str) -> int:
    """The row id a button posted under `name`; a missing or malformed one is a bad request
    (400). Whether such a row exists here is the caller's question (404)."""
    number = as_id(request.POST.get(name))
    if number is None:
        raise BadRequest(f"{name} is not a row id")
    return number


def query_id(request: HttpRequest, name: str) -> int | None:
    """A row id filter from the query string, or None (ignored like an unknown filter) when it
    is not one."""
    return as_id(request.GET.get(name))
