"""The reports page: the season in charts, each report also as JSON (`?format=json`, all of
them, or `&report=<name>`, one). Managers and owners: revenue and refunds are not an agent's
business."""

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from backoffice.reports import pictures
from backoffice.reports.period import Period, PeriodForm
from backoffice.reports.queries import REPORTS, report
from tenants.models import Role
from tenants.permissions import staff_required


@staff_required(role=Role.MANAGER)
def reports(request: HttpRequest) -> HttpResponse:
    wants = request.GET.get("format", "html")
    if wants not in ("html", "json"):
        raise BadRequest("format is html or json")
    only = request.GET.get("report")
    if only is not None and only not in REPORTS:
        raise BadRequest("no such report")
    form = PeriodForm(request.GET)
    if not form.is_valid():
        if wants == "json":
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
        return render(
            request, "backoffice/reports.html", {"form": form, "period": None}, status=400
        )
    period = form.period_chosen()
    names = [only] if only else list(REPORTS)
    data = {name: report(name, period) for name in names}
    if wants == "json":
        return JsonResponse({"period": _period_json(period), "reports": data})
    query = request.GET.copy()
    for name in ("format", "report"):
        query.pop(name, None)
    return render(
        request,
        "backoffice/reports.html",
        {
            "form": form,
            "period": period,
            "query": query.urlencode(),
            "data": data,
            "charts": _charts(data),
            "method_rows": pictures.method_rows(data["payment_methods"]),
            "refund_states": pictures.refund_states(data["refunds"]),
        },
    )


def _period_json(period: Period) -> dict:
    return {"first": period.first, "last": period.last, "days": period.days}


def _charts(data: dict) -> dict:
    channels = data["channels"]
    return {
        "bookings": pictures.bookings_chart(data["bookings"]),
        "revenue": pictures.revenue_charts(data["bookings"]),
        "activities": pictures.activities_chart(data["activities"]),
        "weeks": pictures.weeks_chart(data["weeks"]),
        "departures": pictures.departures_chart(data["departures"]),
        "methods": pictures.methods_chart(data["payment_methods"]),
        "refunds": pictures.refunds_charts(data["refunds"]),
        "channels": None if channels is None else pictures.channels_chart(channels),
    }
