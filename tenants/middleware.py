from django.conf import settings
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import (
    get_supported_language_variant,
    parse_accept_lang_header,
)


def _supported(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return get_supported_language_variant(code)
    except LookupError:
        return None


def request_language(request, operator=None) -> str:
    """The traveller's explicit choice (the language cookie), else their browser's, else the
    operator's, else the platform's. Reads nothing from the database."""
    language = _supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    if language is None:
        accepted = parse_accept_lang_header(request.headers.get("Accept-Language", ""))
        language = next(
            (found for code, _ in accepted if code != "*" and (found := _supported(code))),
            None,
        )
    return language or (operator.locale if operator else settings.LANGUAGE_CODE)


class OperatorLocaleMiddleware:
    """Language: the traveller's explicit choice, else their browser's, else the operator's.
    Time zone: the operator's, so every date on its pages is local to the departures."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        operator = getattr(request, "tenant", None)
        language = request_language(request, operator)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        if operator is not None and operator.schema_name != "public":
            timezone.activate(operator.zone)
        try:
            response = self.get_response(request)
        finally:
            timezone.deactivate()
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response
