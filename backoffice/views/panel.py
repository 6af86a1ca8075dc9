"""The operator's activity panel (panel sync over OCTO): the connection and its status, the
mapping of the panel's products to our activities, and the conflicts between the two sides.

Owners set the connection up; managers test it, map products and resolve conflicts; agents
push a reservation to the panel again. The services check the same roles (actor_require)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib import messages
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _

from backoffice.common import actor, after_action, posted_id
from backoffice.forms import PanelConnectionForm
from booking.models import Activity, Rate, Reservation
from outbox.models import OutboxMessage
from panel_sync.models import PanelConflict, PanelConnection, ProductMapping, UnitMapping
from panel_sync.services.catalogue import (
    activity_suggestions,
    product_import,
    product_map,
    unit_map,
)
from panel_sync.services.conflicts import conflict_resolve
from panel_sync.services.connection import panel_connect, panel_test_connection
from panel_sync.services.push_queue import PUSH, panel_push_again, pushes_pending
from panel_sync.tasks import pull_named, pull_operator
from tenants.models import Role
from tenants.permissions import membership_require, staff_required

# A pull runs every minute: one older than this says the panel (or our worker) is not answering.
PULL_LATE_AFTER = timedelta(minutes=5)
FAILED_SHOWN = 20
RESOLVED_SHOWN = 20


# The sync status (this page and the dashboard)


@dataclass
class FailedPush:
    message: OutboxMessage
    reservation_id: int | None
    code: str = ""


@dataclass
class SyncStatus:
    connection: PanelConnection
    pull_age: timedelta | None
    pull_late: bool
    pull_recent: bool
    pending: int
    open_conflicts: int
    unmapped: int
    failed: list[FailedPush] = field(default_factory=list)


def sync_status(now: datetime | None = None) -> SyncStatus | None:
    """The panel connection and how sync goes, or None without a connection. A fixed number
    of queries (six), whatever the number of pushes or conflicts."""
    panel = PanelConnection.current()
    if panel is None:
        return None
    age = panel.pull_age(now)
    pushes = pushes_pending()
    # A push given up on stays in the outbox; once a later push of the same reservation exists
    # (staff pushed it again), the later one speaks for it.
    later = OutboxMessage.objects.filter(
        topic=PUSH,
        payload__reservation_id=OuterRef("payload__reservation_id"),
        pk__gt=OuterRef("pk"),
    )
    failed = [
        FailedPush(message, _reservation_id(message))
        for message in pushes.filter(failed_at__isnull=False)
        .exclude(Exists(later))
        .order_by("-failed_at")[:FAILED_SHOWN]
    ]
    codes = dict(
        Reservation.objects.filter(
            pk__in=[push.reservation_id for push in failed if push.reservation_id]
        ).values_list("pk", "code")
    )
    for push in failed:
        push.code = codes.get(push.reservation_id, "")
    return SyncStatus(
        connection=panel,
        pull_age=age,
        pull_late=panel.enabled and (age is None or age > PULL_LATE_AFTER),
        pull_recent=age is not None and age < timedelta(minutes=1),
        pending=pushes.filter(failed_at__isnull=True).count(),
        open_conflicts=PanelConflict.objects.open().count(),
        unmapped=ProductMapping.objects.unmapped().count(),
        failed=failed,
    )


def _reservation_id(message: OutboxMessage) -> int | None:
    value = message.payload.get("reservation_id") if isinstance(message.payload, dict) else None
    return value if isinstance(value, int) else None


def _after_commit(task, *args) -> None:
    """Enqueue a pull once the change that asks for it is committed."""
    transaction.on_commit(lambda: task(*args))


# The connection


@staff_required
def panel(request: HttpRequest) -> HttpResponse:
    """The connection (owners change it), its test (managers), its status, and the pushes the
    panel has not taken (agents push them again)."""
    panel = PanelConnection.current()
    form = PanelConnectionForm.for_connection(panel)
    status = 200
    test = None
    if request.method == "POST":
        if "save" in request.POST:
            membership_require(request.user, request.tenant, Role.OWNER)
            form = PanelConnectionForm.for_connection(panel, request.POST)
            if form.is_valid():
                data = form.cleaned_data
                panel_connect(
                    base_url=data["base_url"],
                    enabled=data["enabled"],
                    sync_window_days=data["sync_window_days"],
                    stale_after_minutes=data["stale_after_minutes"],
                    actor=actor(request),
                )
                messages.success(request, _("Panel connection saved."))
                return after_action(request, request.path)
            status = 400
        elif "test" in request.POST:
            membership_require(request.user, request.tenant, Role.MANAGER)
            if panel is None:
                messages.error(request, _("Save the panel's address first."))
                return after_action(request, request.path)
            test = panel_test_connection(actor=actor(request))
            if request.htmx:
                return render(
                    request,
                    "backoffice/panel.html#test-result",
                    {"test": test, "products": ProductMapping.objects.all()},
                )
            if test.ok:
                messages.success(request, _test_summary(test))
            else:
                messages.error(request, test.message)
            return after_action(request, request.path)
        elif "pull" in request.POST:
            membership_require(request.user, request.tenant, Role.MANAGER)
            if panel is None or not panel.enabled:
                messages.error(request, _("The panel connection is not enabled."))
            else:
                _after_commit(pull_operator, db_connection.schema_name)
                messages.success(
                    request, _("The panel will be asked now; this page shows when it answered.")
                )
            return after_action(request, request.path)
        elif "push_again" in request.POST:
            reservation = get_object_or_404(Reservation, pk=posted_id(request, "push_again"))
            panel_push_again(reservation_id=reservation.pk, actor=actor(request))
            messages.success(
                request,
                _("Reservation %(code)s will be pushed to the panel again.")
                % {"code": reservation.code},
            )
            return after_action(request, request.path)
    return render(
        request,
        "backoffice/panel.html",
        {"panel": panel, "form": form, "sync": sync_status(), "test": test},
        status=status,
    )


def _test_summary(test) -> str:
    return _(
        "Connected to %(supplier)s: %(count)d products listed (capabilities: %(capabilities)s)."
    ) % {
        "supplier": test.supplier_name or _("the panel"),
        "count": test.products,
        "capabilities": ", ".join(test.capabilities) or _("none"),
    }


# The mapping


@staff_required
def panel_mapping(request: HttpRequest) -> HttpResponse:
    """The panel's products: unmapped ones first (never dropped), each mapped to an activity
    with suggestions by name or imported as a new activity; the units of mapped ones to the
    activity's rates. Managers change them."""
    if request.method == "POST":
        membership_require(request.user, request.tenant, Role.MANAGER)
        _mapping_action(request)
        return after_action(request, request.path)
    products = list(
        ProductMapping.objects.select_related("activity").prefetch_related(
            Prefetch("units", queryset=UnitMapping.objects.select_related("rate").order_by("id")),
            Prefetch("activity__rates", queryset=Rate.objects.order_by("position", "id")),
        )
    )
    activities = list(Activity.objects.select_related("panel_mapping").order_by("name"))
    free = [activity for activity in activities if not _is_mapped(activity)]
    unmapped = [product for product in products if product.activity_id is None]
    for product in unmapped:
        product.suggestions = activity_suggestions(product, candidates=free)
    return render(
        request,
        "backoffice/panel_mapping.html",
        {
            "panel": PanelConnection.current(),
            "unmapped": unmapped,
            "mapped": [product for product in products if product.activity_id is not None],
            "free_activities": free,
        },
    )


def _is_mapped(activity: Activity) -> bool:
    try:
        return activity.panel_mapping is not None
    except ProductMapping.DoesNotExist:
        return False


def _mapping_action(request: HttpRequest) -> None:
    who = actor(request)
    schema = db_connection.schema_name
    if "map" in request.POST:
        product = get_object_or_404(ProductMapping, pk=posted_id(request, "map"))
        activity = get_object_or_404(Activity, pk=posted_id(request, "activity"))
        taken = ProductMapping.objects.filter(activity=activity).exclude(pk=product.pk).first()
        if taken is not None:
            messages.error(
                request,
                _("%(activity)s is already sold as the panel's %(product)s.")
                % {"activity": activity.name_i18n, "product": taken},
            )
            return
        product_map(mapping_id=product.pk, activity_id=activity.pk, actor=who)
        _after_commit(pull_named, schema, [product.pk], None, None)
        messages.success(
            request,
            _("%(product)s is sold as %(activity)s; its departures and bookings are being pulled.")
            % {"product": product, "activity": activity.name_i18n},
        )
    elif "import" in request.POST:
        product = get_object_or_404(ProductMapping, pk=posted_id(request, "import"))
        if product.activity_id is not None:
            messages.error(request, _("%(product)s is mapped already.") % {"product": product})
            return
        activity = product_import(
            mapping_id=product.pk, currency=request.tenant.default_currency, actor=who
        )
        _after_commit(pull_named, schema, [product.pk], None, None)
        messages.success(
            request,
            _("%(product)s imported as the new activity %(activity)s; check its prices.")
            % {"product": product, "activity": activity.name_i18n},
        )
    elif "unmap" in request.POST:
        product = get_object_or_404(ProductMapping, pk=posted_id(request, "unmap"))
        product_map(mapping_id=product.pk, activity_id=None, actor=who)
        messages.success(request, _("%(product)s is no longer synced.") % {"product": product})
    elif "unit" in request.POST:
        unit = get_object_or_404(
            UnitMapping.objects.select_related("product"), pk=posted_id(request, "unit")
        )
        rate = None
        if request.POST.get("rate"):
            rate = get_object_or_404(Rate, pk=posted_id(request, "rate"))
        try:
            unit_map(unit_id=unit.pk, rate_id=rate.pk if rate else None, actor=who)
        except ValueError:
            messages.error(request, _("That rate belongs to another activity."))
            return
        messages.success(
            request,
            _("%(unit)s is sold as %(rate)s.") % {"unit": unit.panel_name, "rate": rate.name_i18n}
            if rate
            else _("%(unit)s is not mapped to a rate.") % {"unit": unit.panel_name},
        )


# Conflicts


@staff_required
def panel_conflicts(request: HttpRequest) -> HttpResponse:
    """What the panel and we disagree on, for a human: open ones first; managers resolve."""
    if request.method == "POST":
        membership_require(request.user, request.tenant, Role.MANAGER)
        conflict_id = posted_id(request, "resolve")
        try:
            conflict = conflict_resolve(
                conflict_id=conflict_id,
                actor=actor(request),
                note=request.POST.get("note", "")[:500],
            )
        except PanelConflict.DoesNotExist:
            raise Http404 from None
        if request.htmx:
            conflict = _conflicts().get(pk=conflict.pk)
            return render(
                request, "backoffice/panel_conflicts.html#conflict", {"conflict": conflict}
            )
        messages.success(request, _("Conflict marked resolved."))
        return after_action(request, reverse("backoffice:panel-conflicts"))
    return render(
        request,
        "backoffice/panel_conflicts.html",
        {
            "open": _conflicts().open(),
            "resolved": _conflicts()
            .filter(resolved_at__isnull=False)
            .order_by("-resolved_at")[:RESOLVED_SHOWN],
        },
    )


def _conflicts():
    return PanelConflict.objects.select_related("reservation", "slot__activity")
