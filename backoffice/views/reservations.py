"""Reservations: search, filters, a reservation's whole story and the actions on it, and the
JSON export (never CSV: spreadsheet formula injection)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.common import PAGE_SIZE, actor, after_action, posted_id
from backoffice.forms import RefundForm, ReservationFilterForm
from booking.changes import CHANGE_ROLE, reservation_change_release
from booking.days import local_day_bounds, parse_day
from booking.errors import BookingError
from booking.forms import PassengersForm
from booking.models import Reservation, ReservationEvent, ReservationLine
from booking.money import to_minor
from booking.passengers import passengers_save
from booking.services import reservation_cancel, reservation_resend_confirmation
from panel_sync.models import ExternalBooking, PanelConflict, PanelConnection, ProductMapping
from panel_sync.octo import STAFF_MESSAGES
from panel_sync.services.push_queue import panel_push_again
from payments.models import PaymentIntent, WebhookEvent
from payments.providers.base import ProviderError
from payments.services.reconciliation import payment_reconcile
from payments.services.refunds import refund_request
from tenants.models import Role
from tenants.permissions import membership_require, staff_required

EXPORT_MAX_DAYS = 92


# Our statuses as the panel's, to filter its desk bookings by the same status.
PANEL_STATUS_OF = {
    Reservation.Status.HELD: ["ON_HOLD", "PENDING"],
    Reservation.Status.PAID: ["CONFIRMED", "REDEEMED"],
    Reservation.Status.CANCELLED: ["CANCELLED", "REJECTED"],
    Reservation.Status.EXPIRED: ["EXPIRED"],
}


@staff_required
def reservation_list(request: HttpRequest) -> HttpResponse:
    """Our reservations, paginated; with a search or a filter, the bookings made on the panel
    that match it too (read-only, at most a page of them)."""
    form = ReservationFilterForm(request.GET or None)
    reservations = Reservation.objects.select_related("slot__activity").with_seats()
    desk = None
    if form.is_bound:
        form.is_valid()
        # Each filter that is valid applies; one that is not is ignored like an unknown one.
        data = form.cleaned_data
        desk = ExternalBooking.objects.select_related("slot", "product__activity")
        if q := data.get("q", "").strip():
            reservations = reservations.filter(
                Q(code__iexact=q) | Q(contact_name__icontains=q) | Q(contact_email__icontains=q)
            )
            desk = desk.filter(
                Q(supplier_reference__iexact=q)
                | Q(reseller_reference__iexact=q)
                | Q(contact_name__icontains=q)
            )
        if data.get("status"):
            reservations = reservations.filter(status=data["status"])
            desk = desk.filter(status__in=PANEL_STATUS_OF.get(data["status"], []))
        if data.get("day"):
            reservations = reservations.filter(slot__starts_at__range=local_day_bounds(data["day"]))
            desk = desk.filter(slot__starts_at__range=local_day_bounds(data["day"]))
        if data.get("activity"):
            reservations = reservations.filter(slot__activity=data["activity"])
            desk = desk.filter(product__activity=data["activity"])
        if not any(data.values()):
            desk = None
    page = Paginator(reservations.order_by("-created_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    template = "backoffice/reservations.html" + ("#results" if request.htmx else "")
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "desk_bookings": (
            list(desk.order_by("-slot__starts_at", "-id")[:PAGE_SIZE]) if desk is not None else []
        ),
    }
    return render(request, template, context)


@staff_required
def reservation_detail(request: HttpRequest, code: str) -> HttpResponse:
    """Everything about one reservation, and reconcile, cancel, refund, resend."""
    reservation = get_object_or_404(
        Reservation.objects.select_related("slot__activity").prefetch_related(
            "lines",
            "events",
            "passengers",
            Prefetch("payment_intents", queryset=PaymentIntent.objects.prefetch_related("refunds")),
        ),
        code=code,
    )
    refund_form = RefundForm()
    if request.method == "POST":
        response = _act(request, reservation)
        if response is not None:
            return response
        refund_form = getattr(request, "refund_form", refund_form)
    passengers_form = getattr(request, "passengers_form", None)
    if passengers_form is None and reservation.slot.activity.asks_for_passengers:
        passengers_form = PassengersForm(reservation) if reservation.holds_seats() else None
    webhooks = WebhookEvent.objects.filter(intent__reservation=reservation).order_by("received_at")
    paid_intent = next((i for i in reservation.payment_intents.all() if i.is_paid), None)
    events = list(reservation.events.all())
    return render(
        request,
        "backoffice/reservation.html",
        {
            "reservation": reservation,
            "events": events,
            "webhooks": webhooks,
            "paid_intent": paid_intent,
            "refund_form": refund_form,
            "emails": [e for e in events if e.kind == ReservationEvent.Kind.EMAIL_SENT],
            "panel": _panel_of(reservation),
            "passengers_form": passengers_form,
            "pending_change": reservation.changes.pending()
            .select_related("to_slot__activity")
            .first(),
        },
        status=400 if refund_form.errors or hasattr(request, "passengers_form") else 200,
    )


def _panel_error(booking) -> str:
    """What the panel refused, in the staff's words: OCTO's code read as such, or the words
    our side recorded when it refused before asking (a rate the panel does not have)."""
    if booking is None or not booking.error_code:
        return ""
    if booking.error_code in STAFF_MESSAGES:
        return str(STAFF_MESSAGES[booking.error_code])
    return booking.error_message


def _panel_of(reservation: Reservation) -> dict | None:
    """The reservation at the panel: its booking there (the current attempt) and the open
    conflicts about it; None when its activity is not sold on the panel and never was."""
    booking = reservation.panel_bookings.current().first()
    conflicts = list(PanelConflict.objects.open().filter(reservation=reservation))
    mapped = ProductMapping.objects.filter(activity_id=reservation.slot.activity_id).exists()
    if booking is None and not conflicts and not mapped:
        return None
    return {
        "booking": booking,
        "error": _panel_error(booking),
        "conflicts": conflicts,
        "mapped": mapped,
        "enabled": PanelConnection.objects.filter(enabled=True).exists(),
    }


def _act(request: HttpRequest, reservation: Reservation) -> HttpResponse | None:
    """The action of a POST, told apart by its button; a refused one says why."""
    who = actor(request)
    try:
        if "resend" in request.POST:
            reservation_resend_confirmation(reservation_id=reservation.pk, actor=who)
            messages.success(request, _("The confirmation will be sent again."))
        elif "push_again" in request.POST:
            panel_push_again(reservation_id=reservation.pk, actor=who)
            messages.success(request, _("The reservation will be pushed to the panel again."))
        elif "reconcile" in request.POST:
            membership_require(request.user, request.tenant, Role.MANAGER)
            intent = get_object_or_404(
                reservation.payment_intents, pk=posted_id(request, "reconcile")
            )
            payment_reconcile(intent_id=intent.pk, actor=who)
            messages.success(request, _("The provider was asked; the answer is in the timeline."))
        elif "cancel" in request.POST:
            membership_require(request.user, request.tenant, Role.MANAGER)
            reservation_cancel(
                reservation_id=reservation.pk,
                actor=who,
                note=request.POST.get("note", ""),
            )
            messages.success(request, _("Reservation cancelled; its seats are free again."))
        elif "passengers" in request.POST:
            form = PassengersForm(reservation, request.POST)
            if not form.is_valid():
                request.passengers_form = form
                return None
            passengers_save(reservation_id=reservation.pk, passengers=form.details(), actor=who)
            messages.success(request, _("Passenger details saved."))
        elif "drop_change" in request.POST:
            membership_require(request.user, request.tenant, CHANGE_ROLE)
            change = get_object_or_404(
                reservation.changes.pending(), pk=posted_id(request, "drop_change")
            )
            reservation_change_release(change_id=change.pk, actor=who, reason="dropped_by_staff")
            messages.success(request, _("The change was dropped; its seats are free again."))
        elif "refund" in request.POST:
            membership_require(request.user, request.tenant, Role.OWNER)
            intent = get_object_or_404(reservation.payment_intents, pk=posted_id(request, "refund"))
            form = RefundForm(request.POST)
            if not form.is_valid():
                request.refund_form = form
                return None
            refund_request(
                intent_id=intent.pk,
                actor=who,
                reason=form.cleaned_data["reason"],
                amount=to_minor(form.cleaned_data["amount"], intent.currency),
            )
            messages.success(
                request, _("Refund requested; it is confirmed when the provider says so.")
            )
    except BookingError as exc:
        messages.error(request, exc.message)
    except ProviderError:
        messages.error(request, _("The payment provider did not answer. Try again shortly."))
    return after_action(request, request.path)


@staff_required
def reservations_export(request: HttpRequest) -> HttpResponse:
    """Reservations whose departure is within a date range, as JSON."""
    today = timezone.localdate()
    first = parse_day(request.GET.get("from"), today)
    last = parse_day(request.GET.get("to"), first)
    if last < first or (last - first).days > EXPORT_MAX_DAYS:
        return JsonResponse(
            {"error": _("Choose a range of at most %(days)d days.") % {"days": EXPORT_MAX_DAYS}},
            status=400,
        )
    reservations = (
        Reservation.objects.filter(
            slot__starts_at__range=local_day_bounds(first, (last - first).days + 1)
        )
        .select_related("slot__activity")
        .prefetch_related(Prefetch("lines", queryset=ReservationLine.objects.order_by("id")))
        .order_by("slot__starts_at", "id")
    )
    data = {
        "operator": request.tenant.schema_name,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "reservations": [
            {
                "code": r.code,
                "status": r.status,
                "activity": r.slot.activity.name_i18n,
                "departure": r.slot.starts_at.isoformat(),
                "contact": {
                    "name": r.contact_name,
                    "email": r.contact_email,
                    "phone": r.contact_phone,
                },
                "lines": [
                    {"rate": line.label, "quantity": line.quantity, "unit_amount": line.unit_amount}
                    for line in r.lines.all()
                ],
                "total_amount": r.total_amount,
                "currency": r.currency,
                "created_at": r.created_at.isoformat(),
            }
            for r in reservations
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="reservations-{first}-{last}.json"'
    return response
