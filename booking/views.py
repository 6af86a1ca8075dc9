"""The traveller's pages on the operator's domain. Each view serves its full page and, for
htmx requests, the named fragment that changed."""

import uuid

from django.contrib import messages
from django.db.models import F, OuterRef, Prefetch, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseStopPolling

from booking.calendar import month_calendar
from booking.calendar_links import ICS_CONTENT_TYPE, ics_text, reservation_event
from booking.days import parse_day, parse_month
from booking.errors import BookingError, IdempotencyKeyInUse, PassengersClosed
from booking.extensions import reservation_panels_render
from booking.forms import HoldForm, PassengersForm, QuoteForm, counts_stepped
from booking.models import Activity, ActivityPhoto, IdempotencyKey, Rate, Reservation, Slot
from booking.passengers import passengers_save
from booking.services import IdempotencyClaim, reservation_cancel, reservation_hold
from tenants.actors import Actor, client_scope


def _partial(template: str, request: HttpRequest, fragment: str) -> str:
    return f"{template}#{fragment}" if request.htmx else template


def catalogue(request: HttpRequest) -> HttpResponse:
    cheapest = Rate.objects.on_sale().filter(activity=OuterRef("pk")).order_by("amount")
    covers = Prefetch("photos", ActivityPhoto.objects.filter(position=0), to_attr="covers")
    activities = (
        Activity.objects.active()
        .prefetch_related(covers)
        .annotate(
            from_amount=Subquery(cheapest.values("amount")[:1]),
            from_currency=Subquery(cheapest.values("currency")[:1]),
            next_departure=Subquery(
                Slot.objects.bookable()
                .filter(activity=OuterRef("pk"), taken__lt=F("capacity") - F("taken_elsewhere"))
                .order_by("starts_at")
                .values("starts_at")[:1]
            ),
        )
    )
    return render(request, "booking/catalogue.html", {"activities": activities})


def activity_detail(request: HttpRequest, slug: str) -> HttpResponse:
    activity = get_object_or_404(
        Activity.objects.active().prefetch_related(
            Prefetch("rates", queryset=Rate.objects.on_sale(), to_attr="rates_on_sale"), "photos"
        ),
        slug=slug,
    )
    today = timezone.localdate()
    this_month = today.replace(day=1)
    day = parse_day(request.GET.get("day"))
    if "month" in request.GET or day is None:
        month = max(parse_month(request.GET.get("month"), this_month), this_month)
    else:
        month = day.replace(day=1)
    departures = []
    if day is not None and day >= today:
        departures = list(activity.slots.bookable().on_days(day))
    context = {
        "activity": activity,
        "calendar": month_calendar(activity, month, today),
        "day": day,
        "departures": departures,
    }
    return render(request, _partial("booking/activity.html", request, "availability"), context)


def _bookable_slot(slot_id: int) -> Slot:
    return get_object_or_404(
        Slot.objects.select_related("activity"), pk=slot_id, activity__is_active=True
    )


def _replay(request: HttpRequest, stored: IdempotencyKey, fingerprint: str) -> HttpResponse:
    if stored.fingerprint != fingerprint:
        return render(request, "booking/idempotency_conflict.html", status=422)
    response = HttpResponse(status=stored.response_status)
    response["Location"] = stored.response_location
    return response


@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, slot_id: int) -> HttpResponse:
    """Passenger counts, contact details and the hold. A POST with `quote` only prices the
    counts (the live total), one with a stepper's `more` or `fewer` moves a count first; a
    POST with `hold` takes the seats."""
    slot = _bookable_slot(slot_id)
    rates = list(slot.activity.rates.on_sale())
    scope = client_scope(request)
    template = "booking/book.html"

    if request.method == "POST" and "hold" not in request.POST:
        form = QuoteForm(
            counts_stepped(request.POST, rates), rates=rates, seats_left=slot.seats_left
        )
        form.is_valid()
        return render(
            request,
            _partial(template, request, "total"),
            {"slot": slot, "form": form, "open_for_booking": True},
        )

    if request.method == "GET":
        form = HoldForm(rates=rates, initial={"idempotency_key": uuid.uuid4().hex})
        open_for_booking = slot.is_bookable() and slot.seats_left > 0
        return render(
            request, template, {"slot": slot, "form": form, "open_for_booking": open_for_booking}
        )

    form = HoldForm(
        request.POST, rates=rates, idempotency_header=request.headers.get("Idempotency-Key")
    )
    status = 200
    if form.is_valid():
        key = form.effective_idempotency_key()
        if not key:
            form.add_error(
                None, _("This form has expired. Please check the details and try again.")
            )
            status = 400
        else:
            fingerprint = form.fingerprint(slot.pk)
            stored = IdempotencyKey.objects.filter(scope=scope, key=key).first()
            if stored is not None:
                return _replay(request, stored, fingerprint)
            try:
                reservation = reservation_hold(
                    slot_id=slot.pk,
                    lines=form.lines,
                    contact=form.contact(),
                    actor=Actor.traveller(scope),
                    language=request.LANGUAGE_CODE,
                    idempotency=IdempotencyClaim(scope=scope, key=key, fingerprint=fingerprint),
                )
            except IdempotencyKeyInUse:
                return _replay(
                    request, IdempotencyKey.objects.get(scope=scope, key=key), fingerprint
                )
            except BookingError as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                return _see_other(reservation)
    else:
        status = 400
    slot.refresh_from_db(fields=["taken", "is_open"])
    form.data = form.data.copy()
    form.data["idempotency_key"] = uuid.uuid4().hex
    return render(
        request, template, {"slot": slot, "form": form, "open_for_booking": True}, status=status
    )


def _see_other(reservation: Reservation) -> HttpResponse:
    response = HttpResponse(status=303)
    response["Location"] = reservation.get_absolute_url()
    return response


@require_http_methods(["GET", "POST"])
def reservation_detail(request: HttpRequest, code: str) -> HttpResponse:
    """The traveller's reservation: its status (polled while held), the passengers' details
    when the activity asks for them (before the ways to pay are shown, and editable until
    departure), and the panels other apps register (payment choices)."""
    reservation = get_object_or_404(
        Reservation.objects.select_related("slot__activity").prefetch_related(
            "lines", "passengers"
        ),
        code=code,
    )
    scope = client_scope(request)
    if request.method == "POST" and "cancel" in request.POST:
        if not reservation.can_be_cancelled_by_traveller(scope):
            raise Http404
        try:
            reservation_cancel(reservation_id=reservation.pk, actor=Actor.traveller(scope))
        except BookingError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Your seats were released."))
        return redirect(reservation)

    context = {
        "reservation": reservation,
        "can_cancel": reservation.can_be_cancelled_by_traveller(scope),
    }
    if request.htmx and request.method == "GET":
        response = render(request, "booking/reservation.html#status", context)
        if reservation.status != Reservation.Status.HELD or reservation.hold_has_lapsed():
            response.status_code = HttpResponseStopPolling.status_code
        return response

    status = 200
    passengers_form = None
    if reservation.passengers_open_to_traveller():
        if request.method == "POST" and "passengers" in request.POST:
            passengers_form = PassengersForm(reservation, request.POST)
            if passengers_form.is_valid():
                try:
                    passengers_save(
                        reservation_id=reservation.pk,
                        passengers=passengers_form.details(),
                        actor=Actor.traveller(scope),
                    )
                except BookingError as exc:
                    messages.error(request, exc.message)
                else:
                    messages.success(request, _("Passenger details saved."))
                return redirect(reservation)
            status = 400
        elif reservation.passengers_missing() or request.GET.get("passengers") == "edit":
            passengers_form = PassengersForm(reservation)
    elif request.method == "POST" and "passengers" in request.POST:
        messages.error(request, PassengersClosed.message)
        return redirect(reservation)
    context["passengers_form"] = passengers_form
    context["panels"] = [] if passengers_form else reservation_panels_render(request, reservation)
    return render(request, "booking/reservation.html", context, status=status)


@require_http_methods(["GET", "HEAD"])
def reservation_calendar(request: HttpRequest, code: str) -> HttpResponse:
    """A paid booking's departure as an .ics file (add to calendar), in the traveller's
    language; any other booking has none (404)."""
    reservation = get_object_or_404(
        Reservation.objects.select_related("slot__activity"),
        code=code,
        status=Reservation.Status.PAID,
    )
    operator = request.tenant
    event = reservation_event(reservation, operator=operator, site=operator.site_url())
    response = HttpResponse(ics_text(event), content_type=ICS_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{reservation.code}.ics"'
    return response
