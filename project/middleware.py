"""Requests refused once for the whole site, before any view can carry them further."""

from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse

from project.errors import bad_request

NUL = "\x00"

# Views that judge their whole request themselves: a provider's webhook is accepted or refused
# by its signature, and a refused one is logged (as PostgreSQL-safe text) for the on-call
# engineer, NUL and all.
SELF_JUDGING_VIEWS = {"payments:webhook"}


class RefuseNulMiddleware:
    """A NUL character in the path, the query string, a header, a cookie or a form field gets
    the 400 page. PostgreSQL's text cannot hold NUL (psycopg refuses to send it: a 500), and no
    page has a use for one. The webhook view is left to judge its own requests."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if request.resolver_match.view_name in SELF_JUDGING_VIEWS:
            return None
        texts = [
            request.path_info,
            *_pairs(request.GET.lists()),
            *(value for name, value in request.META.items() if name.startswith("HTTP_")),
            *_pairs((name, [value]) for name, value in request.COOKIES.items()),
        ]
        if request.method == "POST":
            texts.extend(_pairs(request.POST.lists()))
        if any(NUL in text for text in texts):
            return bad_request(request)
        return None


def _pairs(items: Iterable[tuple[str, list[str]]]) -> Iterable[str]:
    for key, values in items:
        yield key
        yield from values
