"""The panel's state: suppliers and their catalogue, bookings, a count of what clients did, a clock.

Seats are counted from the bookings themselves: a departure's vacancies are its capacity minus
the seats (units times their `paxCount`) of its ON_HOLD and CONFIRMED bookings, whoever made
them (an OCTO client, or the desk through the control API). Holds expire on the emulator's
clock, which tests may move forward (`POST /_emulator/clock`), and free their seats.

Every booking operation of an OCTO client is counted per (supplier, operation, uuid):
`calls` (requests that reached the panel), `applied` (those that changed the booking) and
`refused` (answered with an error), so that a test can assert "exactly once".
"""

import json
import secrets
import string
import time
import uuid as uuid_module
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from emulators.octo_booking import (
    ACTIVE,
    HOLD_DEFAULT_MINUTES,
    MAX_RANGE_DAYS,
    Booking,
    Change,
    Counts,
    UnitItem,
    canonical,
    contact_of,
    hold_minutes,
    optional_text,
    parse_day,
)
from emulators.octo_catalogue import (
    CatalogueError,
    Departure,
    Option,
    Product,
    Supplier,
)
from emulators.octo_objects import Slot, bad_request, invalid, slot_status, unprocessable

_REFERENCE_ALPHABET = string.ascii_uppercase + string.digits
# Booking and Change are pickled with the state: older state files name them here.
__all__ = ["HOLD_DEFAULT_MINUTES", "Booking", "Change", "OctoState"]


class OctoState:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.suppliers: dict[str, Supplier] = {}
        self.bookings: dict[str, dict[str, Booking]] = {}  # supplier id -> uuid -> booking
        self.counters: dict[tuple[str, str, str], Counts] = {}
        self.clock_offset = 0.0
        self.sold_out = False  # fault: the panel's side sold everything
        self._references: set[str] = set()

    def now(self) -> float:
        return time.time() + self.clock_offset

    # Suppliers and lookups ---------------------------------------------------------------------

    def add_supplier(self, supplier: Supplier) -> None:
        """Create or replace (same id) a supplier; a replaced supplier loses its bookings."""
        for other in self.suppliers.values():
            if other.api_key == supplier.api_key and other.id != supplier.id:
                raise CatalogueError(f"api_key already belongs to supplier {other.id}")
        self.suppliers[supplier.id] = supplier
        self.bookings[supplier.id] = {}

    def supplier_for_key(self, api_key: str) -> Supplier | None:
        return next((s for s in self.suppliers.values() if s.api_key == api_key), None)

    def product(self, supplier: Supplier, product_id: object) -> Product:
        product = supplier.product(product_id) if isinstance(product_id, str) else None
        if product is None:
            raise invalid("PRODUCT", product_id)
        return product

    def option(self, product: Product, option_id: object) -> Option:
        option = product.option(option_id) if isinstance(option_id, str) else None
        if option is None:
            raise invalid("OPTION", option_id)
        return option

    def departure(self, option: Option, availability_id: object) -> Departure:
        dep = option.departures.get(availability_id) if isinstance(availability_id, str) else None
        if dep is None:
            raise invalid("AVAILABILITY", availability_id)
        return dep

    def booking(self, supplier: Supplier, uuid: str) -> Booking:
        booking = self.bookings[supplier.id].get(uuid)
        if booking is None:
            raise invalid("BOOKING", uuid)
        return booking

    def booking_context(self, supplier: Supplier, booking: Booking) -> tuple:
        """(product, option, slot or None) of a booking, as they are now."""
        product = supplier.product(booking.product_id)
        option = product.option(booking.option_id)
        dep = option.departures.get(booking.availability_id)
        slot = self.slot(option, dep, self.taken(supplier)) if dep else None
        return product, option, slot

    # Seats -------------------------------------------------------------------------------------

    def taken(self, supplier: Supplier, without: Booking | None = None) -> Counter:
        seats: Counter = Counter()
        for booking in self.bookings[supplier.id].values():
            if booking.status in ACTIVE and booking is not without:
                seats[booking.key] += booking.seats
        return seats

    def slot(self, option: Option, dep: Departure, taken: Counter) -> Slot:
        cutoff = dep.start - timedelta(minutes=option.booking_cutoff_minutes)
        closed = dep.closed or self.now() >= cutoff.timestamp()
        vacancies = max(0, dep.capacity - taken[(dep.product_id, dep.option_id, dep.id)])
        if closed or self.sold_out:
            vacancies = 0
        return Slot(dep, vacancies, slot_status(dep.capacity, vacancies, closed))

    def _check_seats(
        self, supplier: Supplier, option: Option, dep: Departure, items: list[UnitItem], own=None
    ) -> None:
        slot = self.slot(option, dep, self.taken(supplier, without=own))
        seats = sum(item.pax for item in items)
        if slot.status == "CLOSED":
            raise unprocessable(f"Availability {dep.id} is closed")
        if slot.vacancies < seats:
            raise unprocessable(
                f"Availability {dep.id} is sold out: {seats} requested, {slot.vacancies} left"
            )

    def _unit_items(
        self, option: Option, dep: Departure, raw: object, booking: Booking | None = None
    ) -> list[UnitItem]:
        """The unit items a request names. Changing a booking (`booking`), an item without a
        uuid that names the unit already at its place keeps that item's uuid and price, so a
        replayed confirmation or update changes nothing."""
        if raw is None or raw == []:
            raise unprocessable("unitItems must name at least one unit")
        if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
            raise bad_request("unitItems must be a list of objects")
        items = []
        previous = booking.unit_items if booking and booking.availability_id == dep.id else []
        for index, entry in enumerate(raw):
            unit = (
                option.unit(entry.get("unitId")) if isinstance(entry.get("unitId"), str) else None
            )
            if unit is None:
                raise invalid("UNIT", entry.get("unitId"))
            same = index < len(previous) and previous[index].unit_id == unit.id
            kept = previous[index] if same and not entry.get("uuid") else None
            item_uuid = entry.get("uuid") or (kept.uuid if kept else str(uuid_module.uuid4()))
            price = kept.price if kept else dep.price(unit)
            contact = contact_of(entry["contact"]) if entry.get("contact") is not None else None
            reference = optional_text(entry, "resellerReference")
            items.append(
                UnitItem(str(item_uuid), unit.id, unit.pax_count, price, reference, contact)
            )
        quantities = Counter(item.unit_id for item in items)
        for unit in option.units:
            count = quantities[unit.id]
            if count and unit.min_quantity is not None and count < unit.min_quantity:
                raise unprocessable(f"At least {unit.min_quantity} {unit.id} units are required")
            if unit.max_quantity is not None and count > unit.max_quantity:
                raise unprocessable(f"At most {unit.max_quantity} {unit.id} units are allowed")
        if option.min_units is not None and len(items) < option.min_units:
            raise unprocessable(f"At least {option.min_units} units are required")
        if option.max_units is not None and len(items) > option.max_units:
            raise unprocessable(f"At most {option.max_units} units are allowed")
        return items

    def _reference(self) -> str:
        while True:
            reference = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))
            if reference not in self._references:
                self._references.add(reference)
                return reference

    # Counting ----------------------------------------------------------------------------------

    @contextmanager
    def counting(self, supplier: Supplier, operation: str, uuid: str) -> Iterator[Counts]:
        counts = self.counters.setdefault((supplier.id, operation, uuid), Counts())
        counts.calls += 1
        try:
            yield counts
        except Exception:
            counts.refused += 1
            raise

    def counter_rows(self) -> list[dict]:
        return [
            {"supplierId": sid, "operation": op, "uuid": uuid, **vars(counts)}
            for (sid, op, uuid), counts in self.counters.items()
        ]

    # Availability ------------------------------------------------------------------------------

    def _units_query(self, option: Option, raw: object) -> dict[str, int]:
        if raw is None:
            return {}
        if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
            raise bad_request("units must be a list of {id, quantity}")
        wanted: Counter = Counter()
        for item in raw:
            if option.unit(item.get("id")) is None:
                raise invalid("UNIT", item.get("id"))
            quantity = item.get("quantity")
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                raise bad_request("units[].quantity must be a non-negative integer")
            wanted[item["id"]] += quantity
        return {unit_id: n for unit_id, n in wanted.items() if n}

    @staticmethod
    def _date_range(body: dict) -> tuple[date, date]:
        start = parse_day(body.get("localDateStart"), "localDateStart")
        end = parse_day(body.get("localDateEnd"), "localDateEnd")
        if end < start:
            raise bad_request("localDateEnd must not be before localDateStart")
        if (end - start).days >= MAX_RANGE_DAYS:
            raise bad_request("cannot request more than 1 year of availability")
        return start, end

    def availability(self, supplier: Supplier, body: dict, calendar: bool = False) -> tuple:
        """(product, option, slots, units) for `POST /availability` or `/availability/calendar`."""
        product = self.product(supplier, body.get("productId"))
        option = self.option(product, body.get("optionId"))
        ranged = "localDateStart" in body or "localDateEnd" in body
        if calendar:
            if not ranged:
                raise bad_request("localDateStart and localDateEnd are required")
            modes = 1
        else:
            modes = sum(["localDate" in body, ranged, "availabilityIds" in body])
        if modes != 1:
            raise bad_request(
                "either localDate, localDateStart/localDateEnd or availabilityIds is required"
            )
        units = self._units_query(option, body.get("units"))
        departures = sorted(option.departures.values(), key=lambda dep: dep.start)
        if ranged:
            start, end = self._date_range(body)
            departures = [d for d in departures if start <= d.start.date() <= end]
        elif "localDate" in body:
            day = parse_day(body.get("localDate"), "localDate")
            departures = [d for d in departures if d.start.date() == day]
        else:
            ids = body.get("availabilityIds")
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise bad_request("availabilityIds must be a list of strings")
            departures = [d for d in departures if d.id in ids]
        taken = self.taken(supplier)
        return product, option, [self.slot(option, dep, taken) for dep in departures], units

    # Bookings ----------------------------------------------------------------------------------

    def reserve(self, supplier: Supplier, body: dict, channel: str = "api") -> tuple[Booking, bool]:
        """A hold (status ON_HOLD). Returns (booking, created): the same uuid with the same body
        is the original booking again, another body is INVALID_BOOKING_UUID."""
        uuid = body.get("uuid")
        if uuid is not None:
            try:
                uuid = str(uuid_module.UUID(str(uuid)))
            except ValueError:
                raise bad_request("uuid must be a UUID") from None
        uuid = uuid or str(uuid_module.uuid4())
        existing = self.bookings[supplier.id].get(uuid)
        if existing is not None:
            if existing.fingerprint == canonical(body):
                return existing, False
            raise invalid("BOOKING", uuid)
        product = self.product(supplier, body.get("productId"))
        option = self.option(product, body.get("optionId"))
        dep = self.departure(option, body.get("availabilityId"))
        items = self._unit_items(option, dep, body.get("unitItems"))
        minutes = hold_minutes(body)
        contact = contact_of(body["contact"]) if body.get("contact") is not None else None
        self._check_seats(supplier, option, dep, items)
        now = self.now()
        booking = Booking(
            uuid=uuid,
            id=str(uuid_module.uuid4()),
            supplier_reference=self._reference(),
            channel=channel,
            status="ON_HOLD",
            product_id=product.id,
            option_id=option.id,
            availability_id=dep.id,
            unit_items=items,
            created_at=now,
            updated_at=now,
            expires_at=now + minutes * 60,
            reseller_reference=optional_text(body, "resellerReference"),
            contact=contact,
            notes=optional_text(body, "notes"),
            fingerprint=canonical(body),
        )
        self.bookings[supplier.id][uuid] = booking
        return booking, True

    def _live(self, supplier: Supplier, uuid: str) -> Booking:
        """A booking that can still change: an expired hold is INVALID_BOOKING_UUID (as OCTO
        says for a confirmation), a cancelled booking UNPROCESSABLE_ENTITY."""
        booking = self.booking(supplier, uuid)
        if booking.status == "EXPIRED":
            error = invalid("BOOKING", uuid)
            error.body["errorMessage"] = "The booking has expired"
            raise error
        if booking.status == "CANCELLED":
            raise unprocessable("The booking is cancelled")
        return booking

    def confirm(self, supplier: Supplier, uuid: str, body: dict) -> tuple[Booking, bool]:
        booking = self._live(supplier, uuid)
        if not isinstance(body.get("contact"), dict):
            raise bad_request("contact is required")
        before = _snapshot(booking)
        product = supplier.product(booking.product_id)
        option = product.option(booking.option_id)
        if "unitItems" in body:
            dep = self.departure(option, booking.availability_id)
            items = self._unit_items(option, dep, body["unitItems"], booking)
            self._check_seats(supplier, option, dep, items, own=booking)
            booking.unit_items = items
        booking.contact = contact_of(body["contact"])
        if "resellerReference" in body:
            booking.reseller_reference = optional_text(body, "resellerReference")
        if "notes" in body:
            booking.notes = optional_text(body, "notes")
        if booking.status == "ON_HOLD":
            booking.status = "CONFIRMED"
            booking.confirmed_at = self.now()
        return booking, self._touched(booking, before)

    def cancel(self, supplier: Supplier, uuid: str, body: dict) -> tuple[Booking, bool]:
        booking = self.booking(supplier, uuid)
        if booking.status not in ACTIVE:
            return booking, False  # cancelled or expired already: nothing left to release
        reason = optional_text(body, "reason")
        if booking.status == "CONFIRMED" and not body.get("force"):
            product, option, slot = self.booking_context(supplier, booking)
            if slot is not None:
                cutoff = slot.departure.start.timestamp() - option.cancellation_cutoff_minutes * 60
                if self.now() >= cutoff:
                    raise unprocessable("The cancellation cutoff has passed")
        booking.status = "CANCELLED"
        booking.cancelled_at = booking.updated_at = self.now()
        booking.cancellation_reason = reason
        return booking, True

    def extend(self, supplier: Supplier, uuid: str, body: dict) -> tuple[Booking, bool]:
        booking = self._live(supplier, uuid)
        if booking.status != "ON_HOLD":
            raise unprocessable("Only a booking ON_HOLD can be extended")
        booking.expires_at = self.now() + hold_minutes(body) * 60
        booking.updated_at = self.now()
        return booking, True

    def update(self, supplier: Supplier, uuid: str, body: dict) -> tuple[Booking, bool]:
        """PATCH: another product, option, departure or units (seats checked again, the
        booking's own seats not counted against it), contact, notes, references, hold time."""
        booking = self._live(supplier, uuid)
        before = _snapshot(booking)
        product = self.product(supplier, body.get("productId", booking.product_id))
        option = self.option(product, body.get("optionId", booking.option_id))
        dep = self.departure(option, body.get("availabilityId", booking.availability_id))
        moved = (product.id, option.id, dep.id) != booking.key
        if moved or "unitItems" in body:
            raw = body.get("unitItems")
            if raw is None:  # the same units on another departure, at its prices
                raw = [{"unitId": item.unit_id, "uuid": item.uuid} for item in booking.unit_items]
            items = self._unit_items(option, dep, raw, booking)
            self._check_seats(supplier, option, dep, items, own=booking)
            booking.product_id, booking.option_id = product.id, option.id
            booking.availability_id = dep.id
            booking.unit_items = items
        if "contact" in body:
            booking.contact = contact_of(body["contact"])
        for name, attribute in (("resellerReference", "reseller_reference"), ("notes", "notes")):
            if name in body:
                setattr(booking, attribute, optional_text(body, name))
        if "expirationMinutes" in body and booking.status == "ON_HOLD":
            booking.expires_at = self.now() + hold_minutes(body) * 60
        return booking, self._touched(booking, before)

    def _touched(self, booking: Booking, before: str) -> bool:
        changed = _snapshot(booking) != before
        if changed:
            booking.updated_at = self.now()
        return changed

    def list_bookings(self, supplier: Supplier, query: dict[str, str]) -> list[Booking]:
        ranged = "localDateStart" in query or "localDateEnd" in query
        if not ({"resellerReference", "supplierReference", "localDate"} & query.keys() or ranged):
            raise bad_request(
                "one of resellerReference, supplierReference, localDate or "
                "localDateStart/localDateEnd is required"
            )
        rows = list(self.bookings[supplier.id].values())
        if ranged:
            start, end = self._date_range(query)
            rows = [b for b in rows if start <= date.fromisoformat(b.local_date) <= end]
        if "localDate" in query:
            day = parse_day(query["localDate"], "localDate").isoformat()
            rows = [b for b in rows if b.local_date == day]
        filters = {
            "resellerReference": "reseller_reference",
            "supplierReference": "supplier_reference",
            "productId": "product_id",
            "optionId": "option_id",
        }
        for name, attribute in filters.items():
            if name in query:
                rows = [b for b in rows if getattr(b, attribute) == query[name]]
        return sorted(rows, key=lambda b: (b.availability_id, b.created_at))

    def expire_due(self) -> list[Change]:
        """Holds past their expiry become EXPIRED (their seats free again). Returns the
        changes the notification target hears about: desk holds only (a client knows its
        own holds' expiry)."""
        now, changes = self.now(), []
        for supplier_id, bookings in self.bookings.items():
            supplier = self.suppliers[supplier_id]
            for booking in bookings.values():
                if booking.status == "ON_HOLD" and booking.expires_at <= now:
                    booking.status = "EXPIRED"
                    booking.cancelled_at = booking.updated_at = booking.expires_at
                    booking.cancellation_reason = "The hold expired"
                    if booking.channel == "desk":
                        changes.append(self.booking_change(supplier, booking))
        return changes

    def booking_change(self, supplier: Supplier, booking: Booking) -> Change:
        dep = (
            supplier.product(booking.product_id)
            .option(booking.option_id)
            .departures.get(booking.availability_id)
        )
        departures = [dep] if dep else []
        return Change(
            "booking_update",
            supplier,
            booking.product_id,
            booking.option_id,
            departures,
            booking.uuid,
        )


def _snapshot(booking: Booking) -> str:
    data = {k: v for k, v in vars(booking).items() if k not in ("updated_at", "unit_items")}
    data["unit_items"] = [vars(item) for item in booking.unit_items]
    return json.dumps(data, sort_keys=True, default=str)
