"""Staff edits of the catalogue (the backoffice's activity editor): an activity's texts in
every language and its settings, its rates, their order, and archiving. Each change is
recorded in the audit log with the values before and after it."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.utils.text import slugify

from audit.services import audit_record
from booking.content import operator_language
from booking.models import ACTIVITY_TEXTS, Activity, PassengerData, Rate, ReservationLine
from tenants.actors import STAFF, Actor, actor_require
from tenants.models import Role


@dataclass(frozen=True)
class ActivityDraft:
    """An activity as the editor's form validated it: texts per field and language, and its
    settings."""

    texts: Mapping[str, Mapping[str, str]]
    duration: timedelta
    booking_cutoff: timedelta
    hold_minutes: int | None = None
    free_cancellation_hours: int | None = None
    late_refund_percent: int = 0
    passenger_data: str = PassengerData.NONE


@dataclass(frozen=True)
class RateDraft:
    names: Mapping[str, str]
    amount: int
    min_per_booking: int = 0
    max_per_booking: int = 20


def activity_settings(activity: Activity) -> dict:
    """An activity's settings as the editor shows them and the audit log records them."""
    return {
        "duration_minutes": int(activity.duration.total_seconds() // 60),
        "booking_cutoff_minutes": int(activity.booking_cutoff.total_seconds() // 60),
        "hold_minutes": activity.hold_minutes,
        "free_cancellation_hours": activity.free_cancellation_hours,
        "late_refund_percent": activity.late_refund_percent,
        "passenger_data": activity.passenger_data,
    }


def _activity_values(activity: Activity) -> dict:
    """What the audit log compares before and after an edit."""
    texts = {
        f"{name}.{language}": text
        for name in ACTIVITY_TEXTS
        for language, text in activity.texts(name).items()
    }
    return texts | activity_settings(activity)


def _rate_values(rate: Rate) -> dict:
    names = {f"name.{language}": text for language, text in rate.texts("name").items()}
    return names | {
        "amount": rate.amount,
        "currency": rate.currency,
        "min_per_booking": rate.min_per_booking,
        "max_per_booking": rate.max_per_booking,
    }


def _changes(before: dict, after: dict) -> dict:
    """{key: {"from": old, "to": new}} for each value that changed; a new row (`before` empty)
    lists the values it has."""
    return {
        key: {"from": before.get(key), "to": value}
        for key, value in after.items()
        if before.get(key) != value and (key in before or value not in ("", None))
    }


def _unique(base: str, taken: set[str], fallback: str) -> str:
    base = slugify(base)[:40].strip("-") or fallback
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _in_operator_language(texts: Mapping[str, str]) -> str:
    return texts.get(operator_language()) or next((t for t in texts.values() if t), "")


def activity_save(*, activity_id: int | None, draft: ActivityDraft, actor: Actor) -> Activity:
    """Create an activity (`activity_id` None; on sale at once, without departures) or change
    one, from staff of manager up. Its texts are replaced in every language.

    Locks: the activity's row while it is changed, so that two edits at once are recorded one
    after the other, each with what it really changed."""
    actor_require(actor, STAFF, role=Role.MANAGER)
    with transaction.atomic():
        if activity_id is None:
            slugs = set(Activity.objects.values_list("slug", flat=True))
            activity = Activity(
                slug=_unique(_in_operator_language(draft.texts["name"]), slugs, "activity"),
                position=(Activity.objects.aggregate(last=Max("position"))["last"] or 0) + 1,
            )
            before = {}
        else:
            activity = Activity.objects.select_for_update(no_key=True).get(pk=activity_id)
            before = _activity_values(activity)
        for name, texts in draft.texts.items():
            activity.set_texts(name, texts)
        activity.language = operator_language()
        activity.duration, activity.booking_cutoff = draft.duration, draft.booking_cutoff
        activity.hold_minutes = draft.hold_minutes
        activity.free_cancellation_hours = draft.free_cancellation_hours
        activity.late_refund_percent = draft.late_refund_percent
        activity.passenger_data = draft.passenger_data
        activity.save()
        changes = _changes(before, _activity_values(activity))
        if changes:
            audit_record(
                actor=str(actor),
                action="activity_created" if activity_id is None else "activity_changed",
                target=activity,
                data={"activity": activity.pk, "changes": changes},
            )
    return activity


def activity_set_archived(*, activity_id: int, archived: bool, actor: Actor) -> Activity:
    """Take an activity off sale (archived: travellers no longer see it or book it; its
    departures and bookings stay as they are), or put it back. Staff from manager up."""
    actor_require(actor, STAFF, role=Role.MANAGER)
    with transaction.atomic():
        activity = Activity.objects.select_for_update(no_key=True).get(pk=activity_id)
        if activity.is_active == archived:
            activity.is_active = not archived
            activity.save(update_fields=["is_active"])
            audit_record(
                actor=str(actor),
                action="activity_archived" if archived else "activity_restored",
                target=activity,
                data={"activity": activity.pk},
            )
    return activity


def rate_save(*, activity_id: int, rate_id: int | None, draft: RateDraft, actor: Actor) -> Rate:
    """Add a rate to an activity (`rate_id` None; last in order, in the operator's currency)
    or change one: its names, price and limits. Reservations keep the price they were made
    at. Staff from manager up.

    Locks: the rate's row while it is changed."""
    actor_require(actor, STAFF, role=Role.MANAGER)
    with transaction.atomic():
        if rate_id is None:
            rates = Rate.objects.filter(activity_id=activity_id)
            rate = Rate(
                activity_id=activity_id,
                code=_unique(
                    _in_operator_language(draft.names),
                    set(rates.values_list("code", flat=True)),
                    "rate",
                ),
                currency=connection.tenant.default_currency,
                position=(rates.aggregate(last=Max("position"))["last"] or 0) + 1,
            )
            before = {}
        else:
            rate = Rate.objects.select_for_update(no_key=True).get(
                pk=rate_id, activity_id=activity_id
            )
            before = _rate_values(rate)
        rate.set_texts("name", draft.names)
        rate.language = operator_language()
        rate.amount = draft.amount
        rate.min_per_booking, rate.max_per_booking = draft.min_per_booking, draft.max_per_booking
        rate.save()
        changes = _changes(before, _rate_values(rate))
        if changes:
            audit_record(
                actor=str(actor),
                action="rate_created" if rate_id is None else "rate_changed",
                target=rate,
                data={"rate": rate.pk, "changes": changes},
            )
    return rate


def rate_remove(*, rate_id: int, actor: Actor) -> bool:
    """Delete a rate nobody has booked, or archive one that has bookings (travellers no longer
    see it; the bookings keep it). Returns whether it was kept as archived. Staff from manager
    up."""
    actor_require(actor, STAFF, role=Role.MANAGER)
    with transaction.atomic():
        rate = Rate.objects.select_for_update(no_key=True).get(pk=rate_id)
        target, data = str(rate), {"rate": rate.pk, "activity": rate.activity_id}
        if ReservationLine.objects.filter(rate=rate).exists():
            rate.is_archived = True
            rate.save(update_fields=["is_archived"])
            audit_record(actor=str(actor), action="rate_archived", target=target, data=data)
            return True
        rate.delete()
        audit_record(actor=str(actor), action="rate_deleted", target=target, data=data)
        return False


def rate_restore(*, rate_id: int, actor: Actor) -> Rate:
    """Put an archived rate back on sale. Staff from manager up."""
    actor_require(actor, STAFF, role=Role.MANAGER)
    with transaction.atomic():
        rate = Rate.objects.select_for_update(no_key=True).get(pk=rate_id)
        if rate.is_archived:
            rate.is_archived = False
            rate.save(update_fields=["is_archived"])
            audit_record(
                actor=str(actor), action="rate_restored", target=rate, data={"rate": rate.pk}
            )
    return rate


def rate_move(*, rate_id: int, step: int, actor: Actor) -> None:
    """Move a rate one place up (`step` -1) or down (+1) among its activity's rates, which
    are numbered again from 0. Staff from manager up.

    Locks: the activity's row, so that two moves at once number the rates one after the
    other."""
    actor_require(actor, STAFF, role=Role.MANAGER)
    with transaction.atomic():
        activity_id = Rate.objects.values_list("activity_id", flat=True).get(pk=rate_id)
        activity = Activity.objects.select_for_update(no_key=True).get(pk=activity_id)
        rates = list(Rate.objects.filter(activity_id=activity_id))
        index = next(i for i, rate in enumerate(rates) if rate.pk == rate_id)
        other = index + step
        if not 0 <= other < len(rates):
            return
        before = [rate.pk for rate in rates]
        rates[index], rates[other] = rates[other], rates[index]
        for position, rate in enumerate(rates):
            rate.position = position
        Rate.objects.bulk_update(rates, ["position"])
        audit_record(
            actor=str(actor),
            action="rates_reordered",
            target=activity,
            data={"activity": activity_id, "from": before, "to": [rate.pk for rate in rates]},
        )
