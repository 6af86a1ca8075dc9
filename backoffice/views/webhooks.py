"""The webhook log: what the providers sent, what it did, and re-processing a failed one."""

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from backoffice.common import PAGE_SIZE, actor, after_action, posted_id
from booking.errors import BookingError
from payments.models import Anomaly, Provider, WebhookEvent, WebhookRejection
from payments.providers.base import ProviderError
from payments.services.anomalies import anomaly_resolve
from payments.services.webhooks import webhook_reprocess
from tenants.models import Role
from tenants.permissions import membership_require, staff_required


@staff_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    filters = {key: request.GET.get(key, "") for key in ("provider", "outcome", "type")}
    rejected = request.GET.get("show") == "rejected"
    if rejected:
        events = WebhookRejection.objects.all()
    else:
        events = WebhookEvent.objects.select_related("intent__reservation").defer("raw_body")
        if filters["outcome"] in WebhookEvent.Outcome.values:
            events = events.filter(outcome=filters["outcome"])
        if filters["type"]:
            events = events.filter(event_type__icontains=filters["type"])
    if filters["provider"] in Provider.values:
        events = events.filter(provider=filters["provider"])
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "backoffice/webhooks.html",
        {
            "page": page,
            "rejected": rejected,
            "query": query.urlencode(),
            "filters": filters,
            "outcomes": WebhookEvent.Outcome.choices,
            "providers": Provider.choices,
        },
    )


@staff_required
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(WebhookEvent.objects.select_related("intent__reservation"), pk=pk)
    if request.method == "POST" and "reprocess" in request.POST:
        membership_require(request.user, request.tenant, Role.MANAGER)
        try:
            event = webhook_reprocess(event_pk=event.pk, actor=actor(request))
            messages.success(
                request,
                _("Processed again: %(outcome)s.") % {"outcome": event.get_outcome_display()},
            )
        except BookingError as exc:
            messages.error(request, exc.message)
        except ProviderError:
            messages.error(request, _("The payment provider did not answer. Try again shortly."))
        except Exception as exc:  # shown to staff; the event keeps its failure note
            messages.error(request, _("It failed again: %(error)s") % {"error": exc})
        return after_action(request, request.path)
    try:
        payload = json.dumps(json.loads(event.raw_body), indent=2, ensure_ascii=False)
    except ValueError:
        payload = event.raw_body
    return render(request, "backoffice/webhook.html", {"event": event, "payload": payload})


@staff_required
def anomaly_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        membership_require(request.user, request.tenant, Role.MANAGER)
        anomaly = get_object_or_404(
            Anomaly, pk=posted_id(request, "resolve"), resolved_at__isnull=True
        )
        anomaly_resolve(anomaly_id=anomaly.pk, actor=actor(request))
        return after_action(request, request.path)
    anomalies = Anomaly.objects.select_related("reservation", "intent").order_by(
        "resolved_at", "-created_at"
    )
    page = Paginator(anomalies, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "backoffice/anomalies.html", {"page": page})
