"""Inbound: what the panel sold, capacity, closures, new departures, prices and desk bookings,
pulled from the panel (it is the master of what it sold).

`panel_pull` asks first and writes after: every call to the panel (`GET /products`,
`POST /availability` per mapped option in pages of days over the sync window, `GET /bookings`
for the days that changed) is made before anything is written, so a panel that stops
answering half-way changes nothing (the error is recorded and we keep selling from the last
known seats). Then, departure by departure, under that departure's row lock
(booking.services.slot_apply_availability):

    capacity, open/closed  as the panel says
    taken_elsewhere        = capacity - vacancies - the seats of OUR bookings the panel holds

Our own seats are never taken back: seats sold on both sides beyond the capacity come back as
an over-sale, raised to staff as a conflict.

Our bookings at the panel move while we ask (a push lands between our question and our
write). Their seats are counted before and after asking, and the smaller count is used for
`taken_elsewhere` (so it is never under what the panel sold), the larger to decide whether
there is an over-sale to raise (so a push in flight is not taken for one).
"""

import logging
import uuid as uuid_module
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from booking.catalogue import rate_apply_channel_price, slot_ensure
from booking.models import Reservation, Slot
from booking.services import slot_apply_availability
from panel_sync.models import (
    AvailabilityMapping,
    ExternalBooking,
    PanelBooking,
    PanelConflict,
    PanelConnection,
    ProductMapping,
    UnitMapping,
)
from panel_sync.octo import OctoClient, PanelError, PanelUnavailable, availability_start, instant
from panel_sync.services.catalogue import panel_products_record
from panel_sync.services.conflicts import conflict_raise, conflict_settle
from panel_sync.services.connection import panel_client, panel_record_error
from panel_sync.services.push_queue import panel_push_unheard
from tenants.actors import SYSTEM, Actor, actor_require

logger = logging.getLogger(__name__)

PAGE_DAYS = 31  # days per POST /availability


@dataclass
class PullResult:
    ok: bool = True
    error: str = ""
    departures: int = 0
    created: int = 0
    changed: int = 0
    oversold: int = 0
    prices: int = 0
    external_bookings: int = 0
    unheard: int = 0


@dataclass
class _Asked:
    """What the panel answered for one mapped option."""

    mapping: ProductMapping
    availabilities: list[dict] = field(default_factory=list)
    bookings: dict[date, list[dict]] = field(default_factory=dict)


def panel_pull(
    *,
    actor: Actor,
    mapping_ids: list[int] | None = None,
    first_day: date | None = None,
    last_day: date | None = None,
    now: datetime | None = None,
) -> PullResult:
    """Pull the panel's word on the mapped products (all, or `mapping_ids`) over the sync
    window (or `first_day`..`last_day`, both included, in the product's local days) and apply
    it. A pull of the whole window records `last_pull_at`; any pull records its error.

    Locks: each departure's row, one at a time (slot_apply_availability), each rate's row to
    change its price; none while the panel is asked."""
    actor_require(actor, SYSTEM)
    now = now or timezone.now()
    panel = PanelConnection.enabled_one()
    if panel is None:
        return PullResult(ok=False, error="no enabled panel connection")
    mappings = list(ProductMapping.objects.mapped().select_related("activity"))
    whole = mapping_ids is None and first_day is None and last_day is None
    if mapping_ids is not None:
        mappings = [mapping for mapping in mappings if mapping.pk in set(mapping_ids)]
    slot_ids = list(
        Slot.objects.filter(activity__panel_mapping__in=mappings).values_list("pk", flat=True)
    )
    ours_before = PanelBooking.objects.seats_by_slot(slot_ids, now)
    try:
        client = panel_client(panel)
        products = client.products()
        asked = [
            _ask(client, mapping, panel, first_day, last_day, now, named=not whole)
            for mapping in mappings
        ]
    except (PanelError, PanelUnavailable) as exc:
        message = f"{exc.staff_message} ({exc})"
        panel_record_error(message=message, actor=actor, now=now)
        return PullResult(ok=False, error=message)

    result = PullResult()
    panel_products_record(products=products, actor=actor, now=now)
    result.prices = _apply_prices(mappings, actor)
    slot_ids = list(
        Slot.objects.filter(activity__panel_mapping__in=mappings).values_list("pk", flat=True)
    )
    ours_after = PanelBooking.objects.seats_by_slot(slot_ids, timezone.now())
    for answer in asked:
        for item in answer.availabilities:
            _apply_availability(answer.mapping, item, ours_before, ours_after, actor, now, result)
        for bookings in answer.bookings.values():
            result.external_bookings += _apply_bookings(answer.mapping, bookings, now)
    if whole:
        PanelConnection.objects.filter(pk=panel.pk).update(
            last_pull_at=now, last_error="", last_error_at=None
        )
        with transaction.atomic():
            result.unheard = panel_push_unheard(actor=actor, now=now)
    logger.info(
        "panel pull: %d departures (%d new, %d changed, %d oversold), %d prices, %d desk bookings,"
        " %d of ours the panel had not heard of",
        result.departures,
        result.created,
        result.changed,
        result.oversold,
        result.prices,
        result.external_bookings,
        result.unheard,
    )
    return result


# Asking


def _ask(
    client: OctoClient,
    mapping: ProductMapping,
    panel: PanelConnection,
    first_day: date | None,
    last_day: date | None,
    now: datetime,
    named: bool,
) -> _Asked:
    zone = mapping.zone()
    today = timezone.localtime(now, zone).date()
    first = max(first_day or today, today)
    last = last_day or today + timedelta(days=panel.sync_window_days - 1)
    asked = _Asked(mapping)
    day = first
    while day <= last:
        page_end = min(day + timedelta(days=PAGE_DAYS - 1), last)
        asked.availabilities.extend(
            client.availability(
                product_id=mapping.panel_product_id,
                option_id=mapping.panel_option_id,
                local_date_start=day,
                local_date_end=page_end,
            )
        )
        day = page_end + timedelta(days=1)
    for booking_day in sorted(_days_to_list(mapping, asked.availabilities, zone, named)):
        asked.bookings[booking_day] = client.bookings(
            local_date=booking_day,
            product_id=mapping.panel_product_id,
            option_id=mapping.panel_option_id,
        )
    return asked


def _days_to_list(mapping: ProductMapping, availabilities: list[dict], zone, named: bool) -> set:
    """The local days whose bookings are worth asking for: where a departure's seats, capacity
    or status changed since we last saw it (all of them, for a pull a notification asked for)
    and someone holds seats there or held them before, plus days with desk holds that may
    have been confirmed or let go since."""
    seen = {
        row.panel_availability_id: row
        for row in AvailabilityMapping.objects.filter(product=mapping)
    }
    with_desk_bookings = set(
        ExternalBooking.objects.filter(product=mapping).values_list(
            "panel_availability_id", flat=True
        )
    )
    days = set()
    for item in availabilities:
        start = availability_start(item)
        if start is None:
            continue
        day = start.date()  # the product's local day (the id carries its offset)
        capacity, vacancies = item.get("capacity"), item.get("vacancies")
        known = seen.get(str(item.get("id")))
        changed = (
            named
            or known is None
            or (known.capacity, known.vacancies, known.status)
            != (
                capacity,
                vacancies,
                item.get("status"),
            )
        )
        someone = (
            isinstance(capacity, int) and isinstance(vacancies, int) and capacity > vacancies
        ) or str(item.get("id")) in with_desk_bookings
        if changed and someone:
            days.add(day)
    on_hold = ExternalBooking.objects.filter(product=mapping, status="ON_HOLD")
    for availability_id in on_hold.values_list("panel_availability_id", flat=True):
        start = availability_start({"localDateTimeStart": availability_id})
        if start is not None:
            days.add(start.date())
    return days


# Applying


def _apply_prices(mappings: list[ProductMapping], actor: Actor) -> int:
    """The panel's unit prices (octo/pricing) onto the mapped rates, in the rate's currency."""
    changed = 0
    units = UnitMapping.objects.filter(
        product__in=mappings, rate__isnull=False, panel_amount__isnull=False
    ).select_related("rate")
    for unit in units:
        if unit.panel_currency == unit.rate.currency and unit.panel_amount != unit.rate.amount:
            rate_apply_channel_price(rate_id=unit.rate_id, amount=unit.panel_amount, actor=actor)
            changed += 1
    return changed


def _apply_availability(
    mapping: ProductMapping,
    item: dict,
    ours_before: dict[int, int],
    ours_after: dict[int, int],
    actor: Actor,
    now: datetime,
    result: PullResult,
) -> None:
    start = availability_start(item)
    availability_id = str(item.get("id") or "")
    if start is None or not availability_id:
        return
    result.departures += 1
    status = str(item.get("status") or "")
    is_open = status != "CLOSED"
    capacity, vacancies = item.get("capacity"), item.get("vacancies")
    limited = isinstance(capacity, int) and isinstance(vacancies, int)
    known = (
        AvailabilityMapping.objects.filter(product=mapping, panel_availability_id=availability_id)
        .select_related("slot")
        .first()
    )
    slot = known.slot if known is not None else None
    if slot is None:
        slot, created = slot_ensure(
            activity_id=mapping.activity_id,
            starts_at=start,
            capacity=capacity if isinstance(capacity, int) else 0,
            is_open=is_open,
            actor=actor,
        )
        result.created += created
    if not is_open or not limited:
        # A closed departure says no vacancies whatever was sold; a free sale sets no limit:
        # neither tells the seats taken there, so the last known count stands.
        elsewhere = elsewhere_if_pushes_landed = slot.taken_elsewhere
        capacity = capacity if limited else slot.capacity
    else:
        ours = sorted((ours_before.get(slot.pk, 0), ours_after.get(slot.pk, 0)))
        elsewhere = max(capacity - vacancies - ours[0], 0)
        elsewhere_if_pushes_landed = max(capacity - vacancies - ours[1], 0)
    with transaction.atomic():
        if (slot.capacity, slot.taken_elsewhere, slot.is_open) != (capacity, elsewhere, is_open):
            oversold = slot_apply_availability(
                slot_id=slot.pk,
                capacity=capacity,
                taken_elsewhere=elsewhere,
                is_open=is_open,
                actor=actor,
            )
            result.changed += 1
            # What is over-sold even if every push in flight had reached the panel already.
            oversold = max(oversold - (elsewhere - elsewhere_if_pushes_landed), 0)
            if oversold:
                result.oversold += 1
                _raise_oversold(slot, capacity, elsewhere, oversold, actor)
            else:
                conflict_settle(
                    kind=PanelConflict.Kind.OVERSOLD,
                    slot=slot,
                    note="no longer sold beyond the capacity",
                    actor=actor,
                )
        # The departure's id at the panel is this one now (an id the panel dropped goes).
        AvailabilityMapping.objects.filter(slot=slot).exclude(
            product=mapping, panel_availability_id=availability_id
        ).delete()
        AvailabilityMapping.objects.update_or_create(
            product=mapping,
            panel_availability_id=availability_id,
            defaults={
                "slot": slot,
                "status": status[:16],
                "capacity": item.get("capacity") if isinstance(item.get("capacity"), int) else None,
                "vacancies": vacancies if isinstance(vacancies, int) else None,
                "seen_at": now,
            },
        )


def _raise_oversold(slot: Slot, capacity: int, elsewhere: int, oversold: int, actor: Actor) -> None:
    slot = Slot.objects.get(pk=slot.pk)
    conflict_raise(
        kind=PanelConflict.Kind.OVERSOLD,
        slot=slot,
        details=(
            f"{oversold} seat(s) sold on both sides beyond the capacity of {capacity}: "
            f"{slot.taken} here, {elsewhere} at the panel."
        ),
        data={"capacity": capacity, "here": slot.taken, "panel": elsewhere, "oversold": oversold},
        actor=actor,
    )


def _apply_bookings(mapping: ProductMapping, bookings: list[dict], now: datetime) -> int:
    """Bookings made on the panel, not by us, as read-only rows (ours are skipped: their
    uuids are our reservations' or their later attempts')."""
    uuids = {_uuid(booking.get("uuid")) for booking in bookings if isinstance(booking, dict)}
    uuids.discard(None)
    ours = {
        str(u) for u in PanelBooking.objects.filter(uuid__in=uuids).values_list("uuid", flat=True)
    }
    ours |= {
        str(u) for u in Reservation.objects.filter(uuid__in=uuids).values_list("uuid", flat=True)
    }
    slots = {
        row.panel_availability_id: row.slot_id
        for row in AvailabilityMapping.objects.filter(product=mapping)
    }
    units = {unit.panel_unit_id: unit for unit in mapping.units.all()}
    count = 0
    for booking in bookings:
        uuid = _uuid(booking.get("uuid")) if isinstance(booking, dict) else None
        if uuid is None or uuid in ours:
            continue
        lines: dict[str, dict] = defaultdict(dict)
        seats = 0
        for item in booking.get("unitItems") or []:
            if not isinstance(item, dict):
                continue
            unit_id = str(item.get("unitId") or "")
            unit = units.get(unit_id)
            line = lines[unit_id] or {
                "unit_id": unit_id,
                "type": unit.unit_type if unit else "",
                "name": unit.panel_name if unit else unit_id,
                "quantity": 0,
            }
            line["quantity"] += 1
            lines[unit_id] = line
            seats += unit.pax_count if unit else 1
        contact = booking.get("contact") if isinstance(booking.get("contact"), dict) else {}
        name = contact.get("fullName") or " ".join(
            part for part in (contact.get("firstName"), contact.get("lastName")) if part
        )
        availability_id = str(booking.get("availabilityId") or "")
        ExternalBooking.objects.update_or_create(
            panel_uuid=uuid,
            defaults={
                "supplier_reference": str(booking.get("supplierReference") or "")[:120],
                "reseller_reference": str(booking.get("resellerReference") or "")[:120],
                "product": mapping,
                "panel_availability_id": availability_id[:200],
                "slot_id": slots.get(availability_id),
                "status": str(booking.get("status") or "")[:16],
                "units": list(lines.values()),
                "seats": seats,
                "contact_name": str(name or "")[:200],
                "panel_created_at": instant(booking.get("utcCreatedAt")),
                "seen_at": now,
            },
        )
        count += 1
    return count


def _uuid(value: object) -> str | None:
    try:
        return str(uuid_module.UUID(str(value)))
    except ValueError:
        return None
