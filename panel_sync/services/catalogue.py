"""The panel's catalogue and ours: every product option the panel lists is recorded (for
staff to map, never dropped), mapped to an activity and its units to rates, with suggestions
by name, or imported as a new activity with its units as rates in one step."""

import difflib
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from booking.catalogue import RateSpec, activity_upsert
from booking.models import Activity, Rate
from booking.money import exponent
from panel_sync.models import ProductMapping, UnitMapping
from tenants.actors import STAFF, SYSTEM, Actor, actor_require
from tenants.models import Role

# Our rate codes for OCTO's unit types, where a rate's code says nothing better.
RATE_CODES = {"ADULT": "adult", "CHILD": "child", "YOUTH": "youth", "INFANT": "infant",
              "SENIOR": "senior", "STUDENT": "student", "FAMILY": "family",
              "MILITARY": "military"}  # fmt: skip
SIMILAR_ENOUGH = 0.5


def octo_amount(pricing: dict | None, currency: str) -> int | None:
    """An OCTO price's retail amount in our minor units of `currency` (OCTO's minor units
    follow its `currencyPrecision`, ours the currency's exponent), or None when it is not in
    that currency or not a price."""
    if not isinstance(pricing, dict) or str(pricing.get("currency", "")).upper() != currency:
        return None
    retail, precision = pricing.get("retail"), pricing.get("currencyPrecision")
    if isinstance(retail, bool) or not isinstance(retail, int) or retail < 0:
        return None
    if not isinstance(precision, int):
        return retail
    shift = exponent(currency) - precision
    return retail * 10**shift if shift >= 0 else retail // 10**-shift


def unit_price(unit: dict, currency: str) -> tuple[int, str] | None:
    """A unit's own price (`pricing`, else `pricingFrom`: octo/pricing) as (amount in our
    minor units, currency): in `currency` when the panel has it, else the first it gives."""
    prices = [p for key in ("pricing", "pricingFrom") for p in (unit.get(key) or [])]
    prices = [p for p in prices if isinstance(p, dict) and p.get("currency")]
    prices.sort(key=lambda p: str(p["currency"]).upper() != currency)
    for pricing in prices:
        amount = octo_amount(pricing, str(pricing["currency"]).upper())
        if amount is not None:
            return amount, str(pricing["currency"]).upper()
    return None


def _text(value: object, limit: int) -> str:
    return str(value or "")[:limit]


def panel_products_record(
    *, products: list[dict], actor: Actor, now: datetime | None = None
) -> int:
    """Record every option of every product the panel listed (`GET /products`), with its
    units, creating or refreshing the mapping rows (their activities and rates are kept).
    Returns how many options were listed."""
    actor_require(actor, STAFF, SYSTEM, role=Role.MANAGER)
    now = now or timezone.now()
    count = 0
    with transaction.atomic():
        for product in products:
            if not isinstance(product, dict) or not product.get("id"):
                continue
            for option in product.get("options") or []:
                if not isinstance(option, dict) or not option.get("id"):
                    continue
                mapping, _ = ProductMapping.objects.update_or_create(
                    panel_product_id=_text(product["id"], 200),
                    panel_option_id=_text(option["id"], 200),
                    defaults={
                        "panel_name": _text(
                            product.get("title") or product.get("internalName") or product["id"],
                            300,
                        ),
                        "panel_option_name": _text(
                            option.get("title") or option.get("internalName"), 300
                        ),
                        "time_zone": _text(product.get("timeZone"), 64),
                        "currency": _text(product.get("defaultCurrency"), 3).upper(),
                        "duration_minutes": _duration(product, option),
                        "description": _text(
                            product.get("shortDescription") or product.get("description"), 2000
                        ),
                        "listed_at": now,
                    },
                )
                for unit in option.get("units") or []:
                    if not isinstance(unit, dict) or not unit.get("id"):
                        continue
                    restrictions = unit.get("restrictions") or {}
                    pax, most = restrictions.get("paxCount"), restrictions.get("maxQuantity")
                    price = unit_price(unit, mapping.currency)
                    UnitMapping.objects.update_or_create(
                        product=mapping,
                        panel_unit_id=_text(unit["id"], 200),
                        defaults={
                            "unit_type": _text(unit.get("type"), 16) or "OTHER",
                            "panel_name": _text(
                                unit.get("title") or unit.get("internalName") or unit["id"], 200
                            ),
                            "pax_count": pax if isinstance(pax, int) and pax > 0 else 1,
                            "max_quantity": most if isinstance(most, int) and most > 0 else None,
                            "panel_amount": price[0] if price else None,
                            "panel_currency": price[1] if price else "",
                        },
                    )
                count += 1
    return count


def _duration(product: dict, option: dict) -> int | None:
    for source in (option, product):
        minutes = source.get("durationMinutesFrom")
        if isinstance(minutes, int) and minutes > 0:
            return minutes
    return None


# Suggestions (reads)


def _similarity(left: str, right: str) -> float:
    return difflib.SequenceMatcher(None, left.casefold(), right.casefold()).ratio()


def _name_similarity(panel_name: str, row: Activity | Rate) -> float:
    """How much a panel's name looks like ours, in whichever language ours is closest."""
    return max((_similarity(panel_name, name) for name in row.texts("name").values()), default=0)


def activity_suggestions(
    mapping: ProductMapping, limit: int = 3, candidates: list[Activity] | None = None
) -> list[Activity]:
    """Unmapped activities whose names look like the panel product's, best first. A page
    listing many products reads the unmapped activities once and passes them as `candidates`."""
    if candidates is None:
        candidates = list(Activity.objects.filter(panel_mapping__isnull=True))
    scored = sorted(
        ((_name_similarity(mapping.panel_name, activity), activity) for activity in candidates),
        key=lambda pair: -pair[0],
    )
    return [activity for score, activity in scored[:limit] if score >= SIMILAR_ENOUGH]


def rate_suggestion(unit: UnitMapping, rates: list[Rate]) -> Rate | None:
    """The rate of the mapped activity that fits a unit: same code as the unit's type
    (adult, child...), else the most similar name."""
    free = [rate for rate in rates if getattr(rate, "panel_unit", None) in (None, unit)]
    code = RATE_CODES.get(unit.unit_type)
    for rate in free:
        if code and rate.code == code:
            return rate
    scored = sorted(
        ((_name_similarity(unit.panel_name, rate), rate) for rate in free), key=lambda p: -p[0]
    )
    return scored[0][1] if scored and scored[0][0] >= SIMILAR_ENOUGH else None


# Mapping (writes)


def product_map(*, mapping_id: int, activity_id: int | None, actor: Actor) -> ProductMapping:
    """Sell a panel product option as one of our activities (None: unmap it). Its units are
    mapped to the activity's rates where the type or the name says which (staff may change
    them); the next pull syncs the departures. Staff from manager up.

    Locks: the mapping row."""
    actor_require(actor, STAFF, role=Role.MANAGER)
    with transaction.atomic():
        mapping = ProductMapping.objects.select_for_update(no_key=True).get(pk=mapping_id)
        if mapping.activity_id != activity_id:
            mapping.units.update(rate=None)
            mapping.availabilities.all().delete()
        mapping.activity_id = activity_id
        mapping.save(update_fields=["activity"])
        if activity_id is not None:
            _map_units_by_suggestion(mapping)
    return mapping


def _map_units_by_suggestion(mapping: ProductMapping) -> None:
    rates = list(Rate.objects.filter(activity_id=mapping.activity_id).select_related("panel_unit"))
    for unit in mapping.units.filter(rate__isnull=True):
        rate = rate_suggestion(unit, rates)
        if rate is not None:
            unit.rate = rate
            unit.save(update_fields=["rate"])
            rate.panel_unit = unit
            rates.remove(rate)


def unit_map(*, unit_id: int, rate_id: int | None, actor: Actor) -> UnitMapping:
    """Sell a panel unit (ADULT, CHILD...) as one rate of the mapped activity (None: unmap).
    Staff from manager up. Raises ValueError for a rate of another activity."""
    actor_require(actor, STAFF, role=Role.MANAGER)
    with transaction.atomic():
        unit = (
            UnitMapping.objects.select_for_update(no_key=True)
            .select_related("product")
            .get(pk=unit_id)
        )
        if rate_id is not None:
            rate = Rate.objects.get(pk=rate_id)
            if rate.activity_id != unit.product.activity_id:
                raise ValueError("the rate belongs to another activity than the product's")
            UnitMapping.objects.filter(rate_id=rate_id).exclude(pk=unit.pk).update(rate=None)
        unit.rate_id = rate_id
        unit.save(update_fields=["rate"])
    return unit


def product_import(
    *, mapping_id: int, actor: Actor, currency: str, meeting_point: str = ""
) -> Activity:
    """A panel product option as a new activity of ours, its units as rates (priced from the
    panel where it says, else 0 for staff to set), mapped both ways. Staff from manager up.
    `currency` is the operator's (the panel's prices in another currency are not taken)."""
    actor_require(actor, STAFF, role=Role.MANAGER)
    mapping = ProductMapping.objects.get(pk=mapping_id)
    units = list(mapping.units.all())
    codes: set[str] = set()
    rates = []
    for unit in units:
        code = _unique(RATE_CODES.get(unit.unit_type) or slugify(unit.panel_unit_id)[:28], codes)
        priced = unit.panel_currency == currency and unit.panel_amount is not None
        rates.append(
            RateSpec(
                code=code,
                name=unit.panel_name[:60],
                amount=unit.panel_amount if priced else 0,
                max_per_booking=min(unit.max_quantity or 20, 20),
            )
        )
    slug = _unique_slug(slugify(str(mapping))[:40] or "panel-product")
    with transaction.atomic():
        activity = activity_upsert(
            slug=slug,
            name=str(mapping)[:120],
            summary=mapping.description[:240],
            description=mapping.description,
            duration=timedelta(minutes=mapping.duration_minutes or 60),
            meeting_point=meeting_point[:240],
            currency=currency,
            rates=rates,
            actor=actor,
        )
        ProductMapping.objects.filter(pk=mapping.pk).update(activity=activity)
        for unit, spec in zip(units, rates, strict=True):
            unit.rate = activity.rates.get(code=spec.code)
            unit.save(update_fields=["rate"])
    return activity


def _unique(code: str, taken: set[str]) -> str:
    candidate, number = code or "unit", 2
    while candidate in taken:
        candidate, number = f"{code}-{number}", number + 1
    taken.add(candidate)
    return candidate


def _unique_slug(slug: str) -> str:
    candidate, number = slug, 2
    while Activity.objects.filter(slug=candidate).exists():
        candidate, number = f"{slug}-{number}", number + 1
    return candidate
