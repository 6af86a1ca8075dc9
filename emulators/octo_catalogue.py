"""The panel's catalogue: suppliers, products, options, units and departures, read from the
control API's JSON (`POST /_emulator/suppliers`, see `octo.py` for the whole format).

Departures are stored by their OCTO availability id, the local start time with the product's
UTC offset (`2026-12-05T10:00:00-03:00`), which is how OCTO systems usually name them and is
unique within an option. Prices are integers in minor units of the product's currency.
"""

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UNIT_TYPES = (
    "ADULT", "YOUTH", "CHILD", "INFANT", "FAMILY", "SENIOR", "STUDENT", "MILITARY", "OTHER",
)  # fmt: skip
CUTOFF_UNITS = {"minute": 1, "hour": 60, "day": 1440}
# What a product without `options` may hold for its one DEFAULT option.
OPTION_KEYS = (
    "units", "departures", "schedule", "minUnits", "maxUnits", "cancellationCutoffAmount",
    "cancellationCutoffUnit", "bookingCutoffMinutes",
)  # fmt: skip
# ISO 4217 minor-unit exponents that are not 2 (OCTO's `currencyPrecision`).
PRECISION = {"CLP": 0, "JPY": 0, "KRW": 0, "PYG": 0, "ISK": 0, "VND": 0, "UYI": 0, "BHD": 3}


class CatalogueError(ValueError):
    """A control-API body the emulator cannot use; answered 400 with the message."""


def precision(currency: str) -> int:
    return PRECISION.get(currency.upper(), 2)


@dataclass
class Unit:
    id: str
    type: str
    internal_name: str
    retail: int
    net: int | None
    original: int
    reference: str | None = None
    title: str | None = None
    short_description: str = ""
    min_age: int = 0
    max_age: int = 99
    min_quantity: int | None = None
    max_quantity: int | None = None
    pax_count: int = 1


@dataclass
class Departure:
    """One availability: a start time of an option, with its capacity."""

    product_id: str
    option_id: str
    start: datetime  # aware, in the product's time zone
    end: datetime
    capacity: int
    closed: bool = False
    # unit id -> {"retail", "net", "original"}: a price for this departure only
    prices: dict[str, dict] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.start.isoformat()

    @property
    def local_date(self) -> str:
        return self.start.date().isoformat()

    def price(self, unit: Unit) -> dict:
        own = self.prices.get(unit.id)
        if own:
            return own
        return {"retail": unit.retail, "net": unit.net, "original": unit.original}


@dataclass
class Option:
    id: str
    internal_name: str
    default: bool
    units: list[Unit]
    reference: str | None = None
    title: str | None = None
    short_description: str | None = None
    min_units: int | None = None
    max_units: int | None = None
    cancellation_cutoff_amount: int = 0
    cancellation_cutoff_unit: str = "hour"
    booking_cutoff_minutes: int = 0
    departures: dict[str, Departure] = field(default_factory=dict)  # by availability id

    def unit(self, unit_id: str) -> Unit | None:
        return next((unit for unit in self.units if unit.id == unit_id), None)

    @property
    def cancellation_cutoff_minutes(self) -> int:
        return self.cancellation_cutoff_amount * CUTOFF_UNITS[self.cancellation_cutoff_unit]

    def start_times(self) -> list[str]:
        return sorted({dep.start.strftime("%H:%M") for dep in self.departures.values()})


@dataclass
class MeetingPoint:
    title: str
    short_description: str | None = None
    latitude: float = 0.0
    longitude: float = 0.0
    street_address: str | None = None
    locality: str | None = None
    region: str | None = None
    country: str | None = None


@dataclass
class Product:
    id: str
    internal_name: str
    time_zone: str
    locale: str
    currency: str
    duration_minutes: int
    options: list[Option]
    reference: str | None = None
    title: str | None = None
    short_description: str | None = None
    description: str | None = None
    meeting_point: MeetingPoint | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def option(self, option_id: str) -> Option | None:
        return next((option for option in self.options if option.id == option_id), None)


@dataclass
class NotificationTarget:
    url: str
    token: str | None = None
    hmac_secret: str | None = None


@dataclass
class Supplier:
    id: str
    api_key: str
    name: str
    locale: str
    products: list[Product]
    website: str | None = None
    email: str | None = None
    telephone: str | None = None
    address: str | None = None
    short_description: str | None = None
    notifications: NotificationTarget | None = None

    def product(self, product_id: str) -> Product | None:
        return next((product for product in self.products if product.id == product_id), None)


# Parsing --------------------------------------------------------------------------------------


def _text(data: dict, key: str, default: str | None = None, required: bool = False) -> str | None:
    value = data.get(key, default)
    if value is None:
        if required:
            raise CatalogueError(f"{key} is required")
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise CatalogueError(f"{key} must be a non-empty string")
    return value


def _integer(data: dict, key: str, default: int | None = None, minimum: int = 0) -> int | None:
    value = data.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise CatalogueError(f"{key} must be an integer >= {minimum}")
    return value


def _objects(data: dict, key: str) -> list[dict]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise CatalogueError(f"{key} must be a list of objects")
    return value


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CatalogueError(f"unknown time zone {name!r}") from None


def local_start(value: object, tz: ZoneInfo) -> datetime:
    """`2026-12-05T10:00` (the product's local time) or an ISO time with an offset."""
    if not isinstance(value, str):
        raise CatalogueError("a departure's start must be an ISO 8601 string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CatalogueError(f"invalid start {value!r}") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=tz)
    return moment.astimezone(tz)


def unit_price(data: dict, where: str) -> dict:
    retail = _integer(data, "retail")
    if retail is None:
        raise CatalogueError(f"{where}: retail (minor units) is required")
    net = _integer(data, "net", retail)
    original = _integer(data, "original", retail)
    return {"retail": retail, "net": net, "original": original}


def parse_unit(data: dict) -> Unit:
    unit_id = _text(data, "id", required=True)
    unit_type = (_text(data, "type") or unit_id).upper()
    if unit_type not in UNIT_TYPES:
        raise CatalogueError(f"unit {unit_id}: type must be one of {', '.join(UNIT_TYPES)}")
    price = unit_price(data, f"unit {unit_id}")
    return Unit(
        id=unit_id,
        type=unit_type,
        internal_name=_text(data, "internalName") or unit_id.title(),
        reference=_text(data, "reference"),
        title=_text(data, "title"),
        short_description=_text(data, "shortDescription") or "",
        min_age=_integer(data, "minAge", 0),
        max_age=_integer(data, "maxAge", 99),
        min_quantity=_integer(data, "minQuantity"),
        max_quantity=_integer(data, "maxQuantity"),
        pax_count=_integer(data, "paxCount", 1, minimum=1),
        **price,
    )


def make_departure(
    product: Product, option: Option, start: datetime, capacity: int, closed: bool = False
) -> Departure:
    end = start + timedelta(minutes=product.duration_minutes)
    return Departure(product.id, option.id, start, end, capacity, closed)


def parse_departures(data: dict, product: Product, option: Option) -> None:
    tz = product.zone
    for item in _objects(data, "departures"):
        capacity = _integer(item, "capacity")
        if capacity is None:
            raise CatalogueError("a departure needs a capacity")
        start = local_start(item.get("start"), tz)
        closed = bool(item.get("closed", False))
        dep = make_departure(product, option, start, capacity, closed)
        option.departures[dep.id] = dep
    schedule = data.get("schedule")
    if schedule is None:
        return
    if not isinstance(schedule, dict):
        raise CatalogueError("schedule must be an object")
    try:
        first = date.fromisoformat(schedule["from"])
        last = date.fromisoformat(schedule["to"])
        times = [time.fromisoformat(text) for text in schedule["times"]]
    except (KeyError, TypeError, ValueError):
        raise CatalogueError("schedule needs from and to (YYYY-MM-DD) and times (HH:MM)") from None
    weekdays = set(schedule.get("weekdays", range(7)))  # Monday is 0, as in Python
    capacity = _integer(schedule, "capacity")
    if capacity is None or (last - first).days > 800:
        raise CatalogueError("schedule needs a capacity and at most 800 days")
    day = first
    while day <= last:
        if day.weekday() in weekdays:
            for moment in times:
                start = datetime.combine(day, moment, tzinfo=tz)
                dep = make_departure(product, option, start, capacity)
                option.departures[dep.id] = dep
        day += timedelta(days=1)


def parse_option(data: dict, product: Product, default: bool) -> Option:
    units = [parse_unit(unit) for unit in _objects(data, "units")]
    if not units:
        raise CatalogueError(f"product {product.id}: an option needs units")
    if len({unit.id for unit in units}) != len(units):
        raise CatalogueError(f"product {product.id}: unit ids must be unique within an option")
    cutoff_unit = data.get("cancellationCutoffUnit", "hour")
    if cutoff_unit not in CUTOFF_UNITS:
        raise CatalogueError("cancellationCutoffUnit must be minute, hour or day")
    option = Option(
        id=_text(data, "id") or "DEFAULT",
        internal_name=_text(data, "internalName") or "DEFAULT",
        default=default,
        units=units,
        reference=_text(data, "reference"),
        title=_text(data, "title"),
        short_description=_text(data, "shortDescription"),
        min_units=_integer(data, "minUnits"),
        max_units=_integer(data, "maxUnits"),
        cancellation_cutoff_amount=_integer(data, "cancellationCutoffAmount", 0),
        cancellation_cutoff_unit=cutoff_unit,
        booking_cutoff_minutes=_integer(data, "bookingCutoffMinutes", 0),
    )
    parse_departures(data, product, option)
    return option


def parse_meeting_point(data: object) -> MeetingPoint | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise CatalogueError("meetingPoint must be an object")
    return MeetingPoint(
        title=_text(data, "title", required=True),
        short_description=_text(data, "shortDescription"),
        latitude=float(data.get("latitude") or 0),
        longitude=float(data.get("longitude") or 0),
        street_address=_text(data, "streetAddress"),
        locality=_text(data, "locality"),
        region=_text(data, "region"),
        country=_text(data, "country"),
    )


def parse_product(data: dict, defaults: dict) -> Product:
    product_id = _text(data, "id") or secrets.token_hex(8)
    time_zone = _text(data, "timeZone") or defaults["time_zone"]
    zone(time_zone)
    product = Product(
        id=product_id,
        internal_name=_text(data, "internalName", required=True),
        time_zone=time_zone,
        locale=_text(data, "locale") or defaults["locale"],
        currency=(_text(data, "currency") or defaults["currency"]).upper(),
        duration_minutes=_integer(data, "durationMinutes", 60, minimum=1),
        options=[],
        reference=_text(data, "reference"),
        title=_text(data, "title"),
        short_description=_text(data, "shortDescription"),
        description=_text(data, "description"),
        meeting_point=parse_meeting_point(data.get("meetingPoint")),
    )
    # Without options, the product's own units and departures make one DEFAULT option.
    options = _objects(data, "options") or [
        {key: value for key, value in data.items() if key in OPTION_KEYS}
    ]
    for index, option_data in enumerate(options):
        product.options.append(parse_option(option_data, product, default=index == 0))
    if len({option.id for option in product.options}) != len(product.options):
        raise CatalogueError(f"product {product_id}: option ids must be unique")
    return product


def parse_supplier(data: object) -> Supplier:
    if not isinstance(data, dict):
        raise CatalogueError("the body must be a JSON object")
    api_key = _text(data, "api_key", required=True)
    defaults = {
        "time_zone": _text(data, "time_zone") or "UTC",
        "locale": _text(data, "locale") or "en",
        "currency": _text(data, "currency") or "USD",
    }
    zone(defaults["time_zone"])
    products = [parse_product(item, defaults) for item in _objects(data, "products")]
    if len({product.id for product in products}) != len(products):
        raise CatalogueError("product ids must be unique")
    contact = data.get("contact") or {}
    if not isinstance(contact, dict):
        raise CatalogueError("contact must be an object")
    return Supplier(
        id=_text(data, "id") or secrets.token_hex(8),
        api_key=api_key,
        name=_text(data, "name") or "OCTO panel",
        locale=defaults["locale"],
        products=products,
        website=_text(contact, "website"),
        email=_text(contact, "email"),
        telephone=_text(contact, "telephone"),
        address=_text(contact, "address"),
        short_description=_text(data, "shortDescription"),
    )


def parse_notification_target(data: object) -> NotificationTarget | None:
    if not isinstance(data, dict):
        raise CatalogueError("notifications must be an object: {url, token?, hmac_secret?}")
    url = data.get("url")
    if url is None:
        return None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise CatalogueError("url must be an http(s) URL")
    token, secret = data.get("token"), data.get("hmac_secret")
    if not token and not secret:
        raise CatalogueError("a notification target needs a token or an hmac_secret")
    return NotificationTarget(url, token or None, secret or None)
