"""What the panel's own staff do, through the control API: bookings at the desk, capacity,
closures, new departures and prices. Each returns the `Change` the supplier's notification
target hears about.
"""

from emulators.octo_catalogue import (
    CatalogueError,
    Departure,
    Option,
    Product,
    Supplier,
    local_start,
    make_departure,
    unit_price,
)
from emulators.octo_objects import invalid
from emulators.octo_state import HOLD_DEFAULT_MINUTES, Booking, Change, OctoState


def _target(state: OctoState, supplier: Supplier, body: dict) -> tuple[Product, Option]:
    product = state.product(supplier, body.get("productId"))
    option_id = body.get("optionId") or next(o.id for o in product.options if o.default)
    return product, state.option(product, option_id)


def desk_booking(state: OctoState, supplier: Supplier, body: dict) -> tuple[Booking, Change]:
    """A booking made at the panel's desk: `units` ({"adult": 2}) or `unitItems`, then
    `status` CONFIRMED (default) or ON_HOLD (with `expirationMinutes`)."""
    product, option = _target(state, supplier, body)
    status = body.get("status", "CONFIRMED")
    if status not in ("CONFIRMED", "ON_HOLD"):
        raise CatalogueError("status must be CONFIRMED or ON_HOLD")
    items = body.get("unitItems")
    if items is None and isinstance(body.get("units"), dict):
        items = [
            {"unitId": unit_id}
            for unit_id, count in body["units"].items()
            for _ in range(count if isinstance(count, int) else 0)
        ]
    request = {
        "productId": product.id,
        "optionId": option.id,
        "availabilityId": body.get("availabilityId"),
        "unitItems": items,
        "expirationMinutes": body.get("expirationMinutes", HOLD_DEFAULT_MINUTES),
    }
    for name in ("contact", "notes", "resellerReference"):
        if body.get(name) is not None:
            request[name] = body[name]
    booking, _ = state.reserve(supplier, request, channel="desk")
    if status == "CONFIRMED":
        state.confirm(supplier, booking.uuid, {"contact": booking.contact or {}})
    return booking, state.booking_change(supplier, booking)


def set_departure(state: OctoState, supplier: Supplier, body: dict) -> Change:
    """Change a departure's capacity and/or close or open it."""
    product, option = _target(state, supplier, body)
    dep = state.departure(option, body.get("availabilityId"))
    if "capacity" in body:
        capacity = body["capacity"]
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
            raise CatalogueError("capacity must be a non-negative integer")
        dep.capacity = capacity
    if "closed" in body:
        dep.closed = bool(body["closed"])
    return Change("availability_update", supplier, product.id, option.id, [dep])


def add_departure(state: OctoState, supplier: Supplier, body: dict) -> tuple[Departure, Change]:
    product, option = _target(state, supplier, body)
    start = local_start(body.get("start"), product.zone)
    capacity = body.get("capacity")
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
        raise CatalogueError("capacity must be a non-negative integer")
    if start.isoformat() in option.departures:
        raise CatalogueError(f"departure {start.isoformat()} exists already")
    dep = make_departure(product, option, start, capacity, bool(body.get("closed", False)))
    option.departures[dep.id] = dep
    return dep, Change("availability_update", supplier, product.id, option.id, [dep])


def set_price(state: OctoState, supplier: Supplier, body: dict) -> Change:
    """A unit's price: for one departure (`availabilityId`) or for the whole option."""
    product, option = _target(state, supplier, body)
    unit = option.unit(body.get("unitId")) if isinstance(body.get("unitId"), str) else None
    if unit is None:
        raise invalid("UNIT", body.get("unitId"))
    price = unit_price(body, f"unit {unit.id}")
    if body.get("availabilityId") is not None:
        dep = state.departure(option, body["availabilityId"])
        dep.prices[unit.id] = price
        departures = [dep]
    else:
        unit.retail, unit.net, unit.original = price["retail"], price["net"], price["original"]
        departures = sorted(option.departures.values(), key=lambda d: d.start)
    return Change("availability_update", supplier, product.id, option.id, departures)


def summary(state: OctoState, supplier: Supplier) -> dict:
    taken = state.taken(supplier)
    products = []
    for product in supplier.products:
        options = []
        for option in product.options:
            departures = []
            for dep in sorted(option.departures.values(), key=lambda d: d.start):
                slot = state.slot(option, dep, taken)
                departures.append(
                    {
                        "availabilityId": dep.id,
                        "capacity": dep.capacity,
                        "taken": taken[(product.id, option.id, dep.id)],
                        "vacancies": slot.vacancies,
                        "status": slot.status,
                        "closed": dep.closed,
                    }
                )
            units = [{"id": u.id, "type": u.type, "retail": u.retail} for u in option.units]
            options.append({"id": option.id, "units": units, "departures": departures})
        products.append(
            {"id": product.id, "internalName": product.internal_name, "options": options}
        )
    return {
        "id": supplier.id,
        "name": supplier.name,
        "products": products,
        "notifications": vars(supplier.notifications) if supplier.notifications else None,
    }
