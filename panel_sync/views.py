"""The panel's notifications, on the operator's own domain.

A notification only says that something changed (a product, some days); it is never trusted
for what changed: it triggers a pull of what it names, and the pull asks the panel itself.
It must carry the operator's notification token (`Authorization: Bearer <token>`, the token in
the operator's secret); anything else gets 401 and changes nothing. A body that is not a JSON
object gets 400; Secrets Manager not answering gets 503 with Retry-After.
"""

import hmac
import json
import logging
from datetime import date

from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from booking.days import parse_day
from panel_sync.credentials import PanelNotConfigured, SecretsUnavailable, panel_credentials
from panel_sync.models import PanelConnection, ProductMapping
from panel_sync.tasks import pull_named

logger = logging.getLogger(__name__)


def _refuse(request: HttpRequest, reason: str) -> HttpResponse:
    logger.warning(
        "panel notification refused for %s from %s: %s",
        connection.schema_name,
        request.META.get("REMOTE_ADDR"),
        reason,
    )
    response = JsonResponse({"error": "UNAUTHORIZED", "errorMessage": reason}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="panel notifications"'
    return response


def _bad(message: str) -> HttpResponse:
    return JsonResponse({"error": "BAD_REQUEST", "errorMessage": message}, status=400)


@csrf_exempt
@require_POST
def notification(request: HttpRequest, operator: str | None = None) -> HttpResponse:
    if operator is not None and operator != connection.schema_name:
        raise Http404
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    try:
        expected = panel_credentials(connection.schema_name).notification_token
    except PanelNotConfigured:
        expected = ""
    except SecretsUnavailable:
        response = JsonResponse({"error": "UNAVAILABLE", "errorMessage": "try again"}, status=503)
        response["Retry-After"] = "10"
        return response
    if not expected:
        return _refuse(request, "no notification token is configured")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected):
        return _refuse(request, "missing or wrong token")
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _bad("the body is not JSON")
    if not isinstance(body, dict):
        return _bad("the body must be a JSON object")

    if PanelConnection.enabled_one() is None:  # told, but not listening: nothing to pull
        return JsonResponse({"received": True, "pull": None}, status=202)
    mappings = ProductMapping.objects.mapped()
    product_id, option_id = body.get("productId"), body.get("optionId")
    if isinstance(product_id, str) and product_id:
        mappings = mappings.filter(panel_product_id=product_id)
        if isinstance(option_id, str) and option_id:
            mappings = mappings.filter(panel_option_id=option_id)
    mapping_ids = list(mappings.values_list("pk", flat=True))
    first, last = _days(body)
    if first and last and last < first:
        return _bad("localDateEnd is before localDateStart")
    if not mapping_ids:  # nothing of ours: nothing to pull
        return JsonResponse({"received": True, "pull": None}, status=202)
    pull_named(
        connection.schema_name,
        mapping_ids,
        first.isoformat() if first else None,
        last.isoformat() if last else None,
    )
    return JsonResponse(
        {
            "received": True,
            "pull": {
                "products": len(mapping_ids),
                "first_day": first.isoformat() if first else None,
                "last_day": last.isoformat() if last else None,
            },
        },
        status=202,
    )


def _days(body: dict) -> tuple[date | None, date | None]:
    """The local days a notification names (hints for what to pull, nothing more)."""

    def day(name: str) -> date | None:
        value = body.get(name)
        return parse_day(value) if isinstance(value, str) else None

    one = day("localDate")
    return day("localDateStart") or one, day("localDateEnd") or one
