"""The 400 page: rendered with the request, so it has the operator's layout and the visitor's
language (Django's own handler renders 400.html without a request, hence without either)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "400.html", status=400)
