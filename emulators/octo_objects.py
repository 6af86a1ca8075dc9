"""Builders of OCTO's JSON objects (supplier, product, option, unit, availability, booking) and
its errors, in the shape of `docs/octo/openapi.yaml`.

Without capabilities the objects have the core fields only; `octo/pricing` adds the pricing
fields (`pricingFrom`, `unitPricing`, `pricing`, ...) and `octo/content` the content fields
(`title`, `shortDescription`, `description`, `features`, ...), as the spec's
`x-capability-data` marks them.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from emulators.octo_catalogue import (
    Departure,
    MeetingPoint,
    Option,
    Product,
    Supplier,
    Unit,
    precision,
)

PLACE_IDENTIFIERS = (
    "googlePlaceId", "applePlaceId", "tripadvisorLocationId", "yelpPlaceId", "facebookPlaceId",
    "foursquarePlaceId", "baiduPlaceId", "amapPlaceId",
)  # fmt: skip
PRICING = "octo/pricing"
CONTENT = "octo/content"
SUPPORTED_CAPABILITIES = (CONTENT, PRICING)

MESSAGES = {
    "INVALID_PRODUCT_ID": "The productId was missing or invalid",
    "INVALID_OPTION_ID": "The optionId was missing or invalid",
    "INVALID_UNIT_ID": "The unitId was missing or invalid",
    "INVALID_AVAILABILITY_ID": "The availabilityId was missing or invalid",
    "INVALID_BOOKING_UUID": "The uuid was already used, missing or invalid",
    "UNAUTHORIZED": (
        "You didn't send the API Key in the Authorization header to an endpoint that requires "
        "authentication"
    ),
    "FORBIDDEN": (
        "You sent an API Key that was invalid or has been revoked by the backend system. Or "
        "you're trying to access an endpoint/resource that you do not have access to"
    ),
    "INTERNAL_SERVER_ERROR": "There was an un-recoverable error, please try again",
}


class OctoError(Exception):
    """An OCTO error: `{"error", "errorMessage", <field>}`. OCTO answers every error with
    400 Bad Request (the spec declares no other status; UNAUTHORIZED and FORBIDDEN too)."""

    def __init__(self, code: str, message: str | None = None, status: int = 400, **fields):
        super().__init__(message or MESSAGES.get(code, code))
        self.code = code
        self.status = status
        self.body = {"error": code, "errorMessage": str(self), **fields}


def invalid(kind: str, value: object) -> OctoError:
    """INVALID_PRODUCT_ID and friends, carrying the value that was sent."""
    field = {"PRODUCT": "productId", "OPTION": "optionId", "UNIT": "unitId"}.get(kind)
    field = field or {"AVAILABILITY": "availabilityId", "BOOKING": "uuid"}[kind]
    code = f"INVALID_{kind}_UUID" if kind == "BOOKING" else f"INVALID_{kind}_ID"
    return OctoError(code, None, **{field: "" if value is None else str(value)})


def bad_request(message: str) -> OctoError:
    return OctoError("BAD_REQUEST", message)


def unprocessable(message: str) -> OctoError:
    return OctoError("UNPROCESSABLE_ENTITY", message)


def utc(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pricing(currency: str, price: dict, quantity: int = 1) -> dict:
    net = price.get("net")
    return {
        "original": price["original"] * quantity,
        "retail": price["retail"] * quantity,
        "net": None if net is None else net * quantity,
        "currency": currency,
        "currencyPrecision": precision(currency),
        "includedTaxes": [],
    }


def sum_pricing(currency: str, prices: list[dict]) -> dict:
    total = {"original": 0, "retail": 0, "net": 0}
    for price in prices:
        for key in total:
            total[key] += price.get(key) or 0
    return pricing(currency, total)


# Catalogue ------------------------------------------------------------------------------------


def supplier_json(supplier: Supplier, endpoint: str, caps: set[str]) -> dict:
    data = {
        "id": supplier.id,
        "name": supplier.name,
        "endpoint": endpoint,
        "contact": {
            "website": supplier.website,
            "email": supplier.email,
            "telephone": supplier.telephone,
            "address": supplier.address,
        },
    }
    if CONTENT in caps:
        data.update({"shortDescription": supplier.short_description, "media": []})
    return data


def unit_json(product: Product, unit: Unit, caps: set[str]) -> dict:
    data = {
        "id": unit.id,
        "internalName": unit.internal_name,
        "reference": unit.reference,
        "type": unit.type,
        "restrictions": {
            "minAge": unit.min_age,
            "maxAge": unit.max_age,
            "idRequired": False,
            "minQuantity": unit.min_quantity,
            "maxQuantity": unit.max_quantity,
            "paxCount": unit.pax_count,
            "accompaniedBy": [],
        },
        "requiredContactFields": [],
    }
    if PRICING in caps:
        price = {"retail": unit.retail, "net": unit.net, "original": unit.original}
        data["pricingFrom"] = [pricing(product.currency, price)]
    if CONTENT in caps:
        data.update(
            {
                "title": unit.title or unit.internal_name,
                "shortDescription": unit.short_description,
                "features": [],
            }
        )
    return data


def _content(product: Product, title: str | None, short: str | None, long: str | None) -> dict:
    return {
        "title": title or product.internal_name,
        "shortDescription": short,
        "description": long,
        "features": [],
        "faqs": [],
        "media": [],
        "locations": [location_json(product.meeting_point)] if product.meeting_point else [],
        "categoryLabels": [],
        "durationMinutesFrom": product.duration_minutes,
        "durationMinutesTo": product.duration_minutes,
        "commentary": [],
    }


def location_json(point: MeetingPoint) -> dict:
    return {
        "title": point.title,
        "shortDescription": point.short_description,
        "types": ["START"],
        "minutesTo": None,
        "minutesAt": None,
        "place": {
            "latitude": point.latitude,
            "longitude": point.longitude,
            "postalAddress": {
                "streetAddress": point.street_address,
                "addressLocality": point.locality,
                "addressRegion": point.region,
                "postalCode": None,
                "addressCountry": point.country,
                "postOfficeBoxNumber": None,
            },
            "identifiers": dict.fromkeys(PLACE_IDENTIFIERS),
            "sameAs": [],
        },
    }


def option_json(product: Product, option: Option, caps: set[str]) -> dict:
    amount, unit = option.cancellation_cutoff_amount, option.cancellation_cutoff_unit
    data = {
        "id": option.id,
        "default": option.default,
        "internalName": option.internal_name,
        "reference": option.reference,
        "availabilityLocalStartTimes": option.start_times(),
        "cancellationCutoff": f"{amount} {unit}{'' if amount == 1 else 's'}",
        "cancellationCutoffAmount": amount,
        "cancellationCutoffUnit": unit,
        "requiredContactFields": [],
        "restrictions": {"minUnits": option.min_units, "maxUnits": option.max_units},
        "units": [unit_json(product, unit, caps) for unit in option.units],
    }
    if PRICING in caps:
        cheapest = min(option.units, key=lambda unit: unit.retail)
        price = {"retail": cheapest.retail, "net": cheapest.net, "original": cheapest.original}
        data["pricingFrom"] = [pricing(product.currency, price)]
    if CONTENT in caps:
        long = product.description
        data.update(_content(product, option.title, option.short_description, long))
    return data


def product_json(product: Product, caps: set[str]) -> dict:
    data = {
        "id": product.id,
        "internalName": product.internal_name,
        "reference": product.reference,
        "locale": product.locale,
        "timeZone": product.time_zone,
        "allowFreesale": False,
        "instantConfirmation": True,
        "instantDelivery": True,
        "availabilityRequired": True,
        "availabilityType": "START_TIME",
        "deliveryFormats": ["QRCODE"],
        "deliveryMethods": ["VOUCHER"],
        "redemptionMethod": "MANIFEST",
        "options": [option_json(product, option, caps) for option in product.options],
    }
    if PRICING in caps:
        data.update(
            {
                "defaultCurrency": product.currency,
                "availableCurrencies": [product.currency],
                "pricingPer": "UNIT",
            }
        )
    if CONTENT in caps:
        content = _content(product, product.title, product.short_description, product.description)
        data.update(content)
    return data


# Availability ---------------------------------------------------------------------------------


@dataclass
class Slot:
    """A departure as a reseller sees it at one moment."""

    departure: Departure
    vacancies: int
    status: str  # AVAILABLE, LIMITED, SOLD_OUT, CLOSED

    @property
    def available(self) -> bool:
        return self.status in ("AVAILABLE", "LIMITED")


def slot_status(capacity: int, vacancies: int, closed: bool) -> str:
    if closed:
        return "CLOSED"
    if vacancies <= 0:
        return "SOLD_OUT"
    # OCTO: "LIMITED: Less than 50% capacity remaining".
    return "LIMITED" if vacancies * 2 < capacity else "AVAILABLE"


def availability_json(
    product: Product,
    option: Option,
    slot: Slot,
    caps: set[str],
    units: dict[str, int] | None = None,
) -> dict:
    dep = slot.departure
    cutoff = dep.start - timedelta(minutes=option.booking_cutoff_minutes)
    wanted = sum(units.values()) if units else 0
    data = {
        "id": dep.id,
        "localDateTimeStart": dep.start.isoformat(),
        "localDateTimeEnd": dep.end.isoformat(),
        "utcCutoffAt": utc(cutoff.timestamp()),
        "allDay": False,
        "available": slot.available and wanted <= slot.vacancies,
        "status": slot.status,
        "vacancies": slot.vacancies,
        "capacity": dep.capacity,
        "maxUnits": option.max_units,
        "openingHours": [],
    }
    if PRICING in caps:
        data["unitPricing"] = [
            {"unitId": unit.id, **pricing(product.currency, dep.price(unit))}
            for unit in option.units
        ]
        if units:
            data["pricing"] = sum_pricing(
                product.currency,
                [pricing(product.currency, dep.price(option.unit(u)), n) for u, n in units.items()],
            )
    if CONTENT in caps:
        data.update({"title": None, "shortDescription": ""})
    return data


def calendar_day_json(
    product: Product,
    option: Option,
    day: str,
    slots: list[Slot],
    caps: set[str],
    units: dict[str, int] | None = None,
) -> dict:
    """One day: the figures of its departure with the most vacancies (as octomock does)."""
    best = max(slots, key=lambda slot: (slot.available, slot.vacancies))
    wanted = sum(units.values()) if units else 0
    data = {
        "localDate": day,
        "available": best.available and wanted <= best.vacancies,
        "status": best.status,
        "vacancies": best.vacancies,
        "capacity": best.departure.capacity,
        "openingHours": [],
    }
    if PRICING in caps:
        cheapest = {
            unit.id: min((slot.departure.price(unit) for slot in slots), key=lambda p: p["retail"])
            for unit in option.units
        }
        data["unitPricingFrom"] = [
            {"unitId": unit_id, **pricing(product.currency, price)}
            for unit_id, price in cheapest.items()
        ]
        if units:
            data["pricingFrom"] = sum_pricing(
                product.currency,
                [pricing(product.currency, cheapest[u], n) for u, n in units.items()],
            )
    return data


# Bookings -------------------------------------------------------------------------------------

CONTACT_FIELDS = (
    "fullName", "firstName", "lastName", "emailAddress", "phoneNumber", "postalCode", "country",
    "notes",
)  # fmt: skip


def contact_json(contact: dict | None) -> dict:
    contact = contact or {}
    data: dict = {name: contact.get(name) for name in CONTACT_FIELDS}
    data["locales"] = list(contact.get("locales") or [])
    if not data["fullName"]:
        names = [data["firstName"], data["lastName"]]
        data["fullName"] = " ".join(name for name in names if name) or None
    return data


def booking_json(
    product: Product, option: Option, booking, slot: Slot | None, caps: set[str], now: float
) -> dict:
    """`booking` is an `octo_state.Booking`; `slot` its departure as it is now (None when the
    departure is gone from the catalogue)."""
    status = booking.status
    confirmed = status == "CONFIRMED"
    cutoff = None
    if slot is not None:
        cutoff = slot.departure.start - timedelta(minutes=option.cancellation_cutoff_minutes)
    cancellable = status == "ON_HOLD" or (
        confirmed and cutoff is not None and now < cutoff.timestamp()
    )
    cancellation = None
    if status in ("CANCELLED", "EXPIRED"):
        cancellation = {
            "refund": "FULL",
            "reason": booking.cancellation_reason,
            "utcCancelledAt": utc(booking.cancelled_at),
        }
    voucher = None
    if confirmed:
        voucher = {
            "redemptionMethod": "MANIFEST",
            "utcRedeemedAt": None,
            "deliveryOptions": [
                {"deliveryFormat": "QRCODE", "deliveryValue": booking.supplier_reference}
            ],
        }
    units = {unit.id: unit for unit in option.units}
    unit_items = []
    for index, item in enumerate(booking.unit_items, start=1):
        entry = {
            "uuid": item.uuid,
            "resellerReference": item.reseller_reference,
            "supplierReference": f"{booking.supplier_reference}-{index}",
            "unitId": item.unit_id,
            "status": status,
            "utcRedeemedAt": None,
            "contact": contact_json(item.contact),
            "ticket": None,
        }
        if item.unit_id in units:
            entry["unit"] = unit_json(product, units[item.unit_id], caps)
        if PRICING in caps:
            entry["pricing"] = pricing(product.currency, item.price)
        unit_items.append(entry)
    data = {
        "id": booking.id,
        "uuid": booking.uuid,
        "testMode": False,
        "resellerReference": booking.reseller_reference,
        "supplierReference": booking.supplier_reference,
        "status": status,
        "utcCreatedAt": utc(booking.created_at),
        "utcUpdatedAt": utc(booking.updated_at),
        "utcExpiresAt": utc(booking.expires_at) if status in ("ON_HOLD", "EXPIRED") else None,
        "utcRedeemedAt": None,
        "utcConfirmedAt": utc(booking.confirmed_at),
        "productId": product.id,
        "product": product_json(product, caps),
        "optionId": option.id,
        "option": option_json(product, option, caps),
        "cancellable": cancellable,
        "cancellation": cancellation,
        "freesale": False,
        "availabilityId": booking.availability_id,
        "availability": availability_json(product, option, slot, caps) if slot else None,
        "contact": contact_json(booking.contact),
        "notes": booking.notes,
        "deliveryMethods": ["VOUCHER"],
        "voucher": voucher,
        "unitItems": unit_items,
    }
    if PRICING in caps:
        data["pricing"] = sum_pricing(product.currency, [item.price for item in booking.unit_items])
    return data
