"""Departures: list and calendar, recurring creation, capacity, close and reopen."""

from collections import defaultdict
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from backoffice.common import actor, after_action, query_id
from backoffice.forms import CapacityForm, RecurringDeparturesForm
from booking.catalogue import slot_set_capacity, slot_set_open, slots_create_recurring
from booking.days import parse_day
from booking.errors import BookingError
from booking.models import Activity, Reservation, Slot
from panel_sync.models import ExternalBooking, PanelConnection, ProductMapping
from tenants.models import Role
from tenants.permissions import membership_require, staff_required

LIST_DAYS = 7


@staff_required
def departure_list(request: HttpRequest) -> HttpResponse:
    """A week of departures from a day (list), or a month (calendar), for one activity or all."""
    today = timezone.localdate()
    first = parse_day(request.GET.get("from"), today)
    calendar = request.GET.get("view") == "calendar"
    if calendar:
        first = first.replace(day=1)
        days = ((first + timedelta(days=32)).replace(day=1) - first).days
    else:
        days = LIST_DAYS
    activities = list(Activity.objects.all())
    activity_id = query_id(request, "activity")
    slots = Slot.objects.on_days(first, days).select_related("activity")
    if activity_id is not None:
        slots = slots.filter(activity_id=activity_id)
    by_day = defaultdict(list)
    for slot in slots.with_seat_counts().order_by("starts_at"):
        by_day[timezone.localtime(slot.starts_at).date()].append(slot)
    day_list = [first + timedelta(days=n) for n in range(days)]
    return render(
        request,
        "backoffice/departures.html",
        {
            "activities": activities,
            "activity_id": str(activity_id or ""),
            "calendar": calendar,
            "first": first,
            "days": [(day, by_day.get(day, [])) for day in day_list],
            "previous": first - timedelta(days=days if not calendar else 1),
            "next": first + timedelta(days=days),
            "panel_connected": PanelConnection.objects.exists(),
        },
    )


@staff_required(role=Role.MANAGER)
def departures_create(request: HttpRequest) -> HttpResponse:
    form = RecurringDeparturesForm(
        request.POST or None, initial={"first_day": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created = slots_create_recurring(
            activity=data["activity"],
            first_day=data["first_day"],
            last_day=data["last_day"],
            weekdays=set(data["weekdays"]),
            times=data["times"],
            capacity=data["capacity"],
            actor=actor(request),
        )
        messages.success(
            request,
            ngettext("%(count)d departure created.", "%(count)d departures created.", created)
            % {"count": created},
        )
        url = (
            reverse("backoffice:departures") + f"?from={data['first_day']}&activity="
            f"{data['activity'].pk}"
        )
        return after_action(request, url)
    return render(
        request,
        "backoffice/departures_create.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@staff_required
def departure_detail(request: HttpRequest, slot_id: int) -> HttpResponse:
    """One departure, its reservations; managers change capacity, close and reopen it."""
    slot = get_object_or_404(Slot.objects.select_related("activity").with_seat_counts(), pk=slot_id)
    form = CapacityForm(initial={"capacity": slot.capacity})
    status = 200
    if request.method == "POST":
        membership_require(request.user, request.tenant, Role.MANAGER)
        try:
            # Told apart by the button pressed, whose name is never a field's: a button named
            # `capacity` would post `capacity=25&capacity=1`, and the view would read the 1.
            if "set_capacity" in request.POST:
                form = CapacityForm(request.POST)
                if form.is_valid():
                    slot_set_capacity(
                        slot_id=slot.pk,
                        capacity=form.cleaned_data["capacity"],
                        actor=actor(request),
                    )
                    messages.success(request, _("Capacity changed."))
                    return after_action(request, request.path)
                status = 400
            elif "close" in request.POST or "reopen" in request.POST:
                slot_set_open(
                    slot_id=slot.pk,
                    is_open="reopen" in request.POST,
                    actor=actor(request),
                )
                return after_action(request, request.path)
            else:
                raise BadRequest("no known action was posted")
        except BookingError as exc:
            form.add_error("capacity", exc.message)
            status = 409
    reservations = Reservation.objects.filter(slot=slot).with_seats().order_by("created_at")
    return render(
        request,
        "backoffice/departure.html",
        {"slot": slot, "form": form, "reservations": reservations, **panel_side(slot)},
        status=status,
    )


def panel_side(slot: Slot) -> dict:
    """The departure as the panel sells it too: the bookings made on the panel (read-only)
    and whether its seats are shared with the panel."""
    desk = list(ExternalBooking.objects.filter(slot=slot).holding().order_by("panel_created_at"))
    synced = bool(desk) or slot.taken_elsewhere > 0
    synced = synced or ProductMapping.objects.filter(activity_id=slot.activity_id).exists()
    return {"desk_bookings": desk, "on_panel": synced}
