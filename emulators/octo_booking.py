"""The panel's bookings as records (their unit items, what changed, the counts of client
operations) and the checks of a booking request's body, for the OCTO panel emulator's state."""

import json
from dataclasses import dataclass
from datetime import date

from emulators.octo_catalogue import (
    Departure,
    Supplier,
)
from emulators.octo_objects import bad_request

HOLD_DEFAULT_MINUTES = 30
HOLD_MAX_MINUTES = 24 * 60
MAX_RANGE_DAYS = 366
ACTIVE = ("ON_HOLD", "CONFIRMED")


@dataclass
class UnitItem:
    uuid: str
    unit_id: str
    pax: int
    price: dict  # retail / net / original when it was booked
    reseller_reference: str | None = None
    contact: dict | None = None


@dataclass
class Booking:
    uuid: str
    id: str
    supplier_reference: str
    channel: str  # "api" (an OCTO client) or "desk" (made at the panel itself)
    status: str  # ON_HOLD, CONFIRMED, CANCELLED, EXPIRED
    product_id: str
    option_id: str
    availability_id: str
    unit_items: list[UnitItem]
    created_at: float
    updated_at: float
    expires_at: float | None = None
    confirmed_at: float | None = None
    cancelled_at: float | None = None
    cancellation_reason: str | None = None
    reseller_reference: str | None = None
    contact: dict | None = None
    notes: str | None = None
    fingerprint: str = ""  # the reserve request's body: a replay must match it

    @property
    def seats(self) -> int:
        return sum(item.pax for item in self.unit_items)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.product_id, self.option_id, self.availability_id)

    @property
    def local_date(self) -> str:
        return self.availability_id[:10]


@dataclass
class Change:
    """Something that a supplier's notification target hears about."""

    event: str  # "availability_update" or "booking_update"
    supplier: Supplier
    product_id: str
    option_id: str
    departures: list[Departure]
    booking_uuid: str | None = None


@dataclass
class Counts:
    calls: int = 0
    applied: int = 0
    refused: int = 0


def canonical(body: object) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def parse_day(value: object, name: str) -> date:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise bad_request(f"{name} must be a date (YYYY-MM-DD)")


def hold_minutes(body: dict) -> int:
    minutes = body.get("expirationMinutes", HOLD_DEFAULT_MINUTES)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
        raise bad_request("expirationMinutes must be a positive integer")
    return min(minutes, HOLD_MAX_MINUTES)


def optional_text(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise bad_request(f"{name} must be a string")
    return value


def contact_of(value: object) -> dict:
    if not isinstance(value, dict):
        raise bad_request("contact must be an object")
    for name, item in value.items():
        if name == "locales":
            if not isinstance(item, list) or not all(isinstance(x, str) for x in item):
                raise bad_request("contact.locales must be a list of strings")
        elif item is not None and not isinstance(item, str | bool):
            raise bad_request(f"contact.{name} must be a string")
    return dict(value)
