"""The activity editor: managers and owners create an activity, change its texts (per
language) and settings, archive it, and add, change, reorder and remove its rates. Agents
see the activities and prices page only."""

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from backoffice.activity_forms import ActivityForm, RateEditForm
from backoffice.common import actor, posted_id
from booking.activities import (
    activity_save,
    activity_set_archived,
    rate_move,
    rate_remove,
    rate_restore,
    rate_save,
)
from booking.models import Activity, Rate
from tenants.models import Role
from tenants.permissions import membership_require, staff_required

TEMPLATE = "backoffice/activity_edit.html"
RATE_BUTTONS = ("save_rate", "rate_up", "rate_down", "remove_rate", "restore_rate")


@staff_required
def activity_create(request: HttpRequest) -> HttpResponse:
    membership_require(request.user, request.tenant, Role.MANAGER)
    form = ActivityForm.for_activity(None, operator=request.tenant, data=request.POST or None)
    if request.method != "POST":
        return render(request, TEMPLATE, {"form": form, "activity": None})
    if not form.is_valid():
        return render(request, TEMPLATE, {"form": form, "activity": None}, status=400)
    activity = activity_save(activity_id=None, draft=form.draft(), actor=actor(request))
    messages.success(
        request, _("%(activity)s created. Now add its rates.") % {"activity": activity}
    )
    return redirect("backoffice:activity", activity.pk)


@staff_required
def activity_edit(request: HttpRequest, activity_id: int) -> HttpResponse:
    """One page, several actions told apart by the button posted: `save` (the activity's
    texts and settings), `archive` or `restore`, `add_rate`, and a rate's own buttons (its id
    as their value). A form with errors is shown again with them (400)."""
    membership_require(request.user, request.tenant, Role.MANAGER)
    activity = get_object_or_404(Activity, pk=activity_id)
    forms = {}
    if request.method == "POST":
        forms = _carry_out(request, activity)
        if not forms:
            return redirect(request.path)
    operator = request.tenant
    invalid_rate = forms.get("rate")
    context = {
        "activity": activity,
        "form": forms.get("activity") or ActivityForm.for_activity(activity, operator=operator),
        "new_rate": forms.get("new_rate")
        or RateEditForm.for_rate(None, operator=operator, prefix="new"),
        "rates": [
            (
                rate,
                invalid_rate
                if invalid_rate and invalid_rate.prefix == f"rate{rate.pk}"
                else RateEditForm.for_rate(rate, operator=operator, prefix=f"rate{rate.pk}"),
            )
            for rate in activity.rates.all()
        ],
    }
    return render(request, TEMPLATE, context, status=400 if forms else 200)


def _carry_out(request: HttpRequest, activity: Activity) -> dict:
    """The posted action, done; or the form that refused it, with its errors, by its place
    on the page ("activity", "new_rate", "rate")."""
    post, who, operator = request.POST, actor(request), request.tenant
    if "save" in post:
        form = ActivityForm.for_activity(activity, operator=operator, data=post)
        if not form.is_valid():
            return {"activity": form}
        activity_save(activity_id=activity.pk, draft=form.draft(), actor=who)
        messages.success(request, _("Changes saved."))
    elif "archive" in post or "restore" in post:
        archived = "archive" in post
        activity_set_archived(activity_id=activity.pk, archived=archived, actor=who)
        messages.success(
            request,
            _("Archived: travellers no longer see it. Its departures and bookings stay.")
            if archived
            else _("Back on sale."),
        )
    elif "add_rate" in post:
        form = RateEditForm.for_rate(None, operator=operator, data=post, prefix="new")
        if not form.is_valid():
            return {"new_rate": form}
        rate_save(activity_id=activity.pk, rate_id=None, draft=form.draft(), actor=who)
        messages.success(request, _("Rate added."))
    else:
        return _carry_out_on_rate(request, activity)
    return {}


def _carry_out_on_rate(request: HttpRequest, activity: Activity) -> dict:
    button = next((name for name in RATE_BUTTONS if name in request.POST), None)
    if button is None:
        raise BadRequest("no known action posted")
    rate = get_object_or_404(Rate, pk=posted_id(request, button), activity=activity)
    who = actor(request)
    if button == "save_rate":
        form = RateEditForm.for_rate(
            rate, operator=request.tenant, data=request.POST, prefix=f"rate{rate.pk}"
        )
        if not form.is_valid():
            return {"rate": form}
        rate_save(activity_id=activity.pk, rate_id=rate.pk, draft=form.draft(), actor=who)
        messages.success(request, _("Rate saved."))
    elif button in ("rate_up", "rate_down"):
        rate_move(rate_id=rate.pk, step=-1 if button == "rate_up" else 1, actor=who)
    elif button == "remove_rate":
        archived = rate_remove(rate_id=rate.pk, actor=who)
        messages.success(
            request,
            _("The rate has bookings: it is archived, and travellers no longer see it.")
            if archived
            else _("Rate deleted."),
        )
    else:
        rate_restore(rate_id=rate.pk, actor=who)
        messages.success(request, _("The rate is on sale again."))
    return {}
