"""What booking writes in a reservation's timeline and in the audit log, and how each entry's
details read (registered in audit.kinds from BookingConfig.ready)."""

from datetime import datetime

from django.db import connection
from django.db.models import TextChoices
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from audit.kinds import ACTOR_NAMES, AUDIT_ACTIONS, TIMELINE_KINDS, old_to_new
from booking.models import Reservation, ReservationEvent
from booking.money import format_money
from booking.templatetags.booking_tags import when


class CatalogueAction(TextChoices):
    """Staff's and the platform's changes to the catalogue and departures (booking.catalogue)."""

    DEPARTURES_CREATED = "departures_created", gettext_lazy("Departures created")
    DEPARTURE_CREATED = "departure_created", gettext_lazy("Departure created by another channel")
    CAPACITY_CHANGED = "capacity_changed", gettext_lazy("Capacity changed")
    OPENED = "opened", gettext_lazy("Departure reopened")
    CLOSED = "closed", gettext_lazy("Departure closed to new bookings")
    PRICE_CHANGED = "price_changed", gettext_lazy("Price changed")
    PHOTO_ADDED = "photo_added", gettext_lazy("Photo added")
    PHOTO_DELETED = "photo_deleted", gettext_lazy("Photo deleted")
    PHOTO_MOVED = "photo_moved", gettext_lazy("Photo moved in the gallery")
    PHOTO_ALT_CHANGED = "photo_alt_changed", gettext_lazy("Photo description changed")
    ACTIVITY_CREATED = "activity_created", gettext_lazy("Activity created")
    ACTIVITY_CHANGED = "activity_changed", gettext_lazy("Activity changed")
    ACTIVITY_ARCHIVED = "activity_archived", gettext_lazy("Activity archived")
    ACTIVITY_RESTORED = "activity_restored", gettext_lazy("Activity restored")
    RATE_CREATED = "rate_created", gettext_lazy("Rate created")
    RATE_CHANGED = "rate_changed", gettext_lazy("Rate changed")
    RATE_ARCHIVED = "rate_archived", gettext_lazy("Rate archived")
    RATE_DELETED = "rate_deleted", gettext_lazy("Rate deleted")
    RATE_RESTORED = "rate_restored", gettext_lazy("Rate restored")
    RATES_REORDERED = "rates_reordered", gettext_lazy("Rates reordered")


class BookingActor(TextChoices):
    """The names booking's own actors are recorded by (tenants.actors.Actor)."""

    TRAVELLER = "traveller", gettext_lazy("The traveller")
    SYSTEM = "system", gettext_lazy("The platform")


def seats(count: int) -> str:
    return ngettext("%(count)d seat", "%(count)d seats", count) % {"count": count}


def moment(value: str | None) -> str:
    """A recorded ISO time, in the operator's time zone and the staff's words."""
    if not value:
        return ""
    return when(timezone.localtime(datetime.fromisoformat(value)), "short")


def money(amount: int, currency: str | None = None) -> str:
    """An amount in minor units, in its currency's format (the operator's when not recorded)."""
    return format_money(amount, currency or connection.tenant.default_currency)


# The timeline


def _held(event: ReservationEvent) -> str:
    until = moment(event.data.get("hold_expires_at"))
    count = seats(event.data.get("seats", event.reservation.seats))
    return _("%(seats)s until %(time)s") % {"seats": count, "time": until} if until else count


def _hold_extended(event: ReservationEvent) -> str:
    return _("until %(time)s") % {"time": moment(event.data.get("hold_expires_at"))}


def _released(event: ReservationEvent) -> str:
    released = seats(event.data["seats"]) if "seats" in event.data else ""
    if "refund" in event.data:  # a paid booking its traveller cancelled (booking.cancellation)
        return _("%(seats)s; %(refund)s back under the policy") % {
            "seats": released,
            "refund": money(event.data["refund"], event.reservation.currency),
        }
    return released


def _paid_without_seats(event: ReservationEvent) -> str:
    return _("%(seats)s asked, %(left)d left") % {
        "seats": seats(event.data.get("seats", 0)),
        "left": event.data.get("seats_left", 0),
    }


def _late_payment_refunded(event: ReservationEvent) -> str:
    """The automatic full refund of a payment that came when its seats were gone."""
    data = event.data
    parts = [money(data.get("amount", 0), event.reservation.currency), data.get("provider_name")]
    return " · ".join(part for part in parts if part)


def _seats_retaken(event: ReservationEvent) -> str:
    was = event.data.get("was", "")
    status = Reservation.Status(was).label if was in Reservation.Status.values else was
    return _("%(seats)s; it was %(status)s") % {
        "seats": seats(event.data.get("seats", 0)),
        "status": str(status).lower(),
    }


def _passengers_saved(event: ReservationEvent) -> str:
    count = event.data.get("passengers", 0)
    return ngettext("%(count)d passenger", "%(count)d passengers", count) % {"count": count}


def _email_sent(event: ReservationEvent) -> str:
    return _("to %(address)s") % {"address": event.data["to"]} if "to" in event.data else ""


def _change(event: ReservationEvent) -> str:
    """A booking change: its seats and the total before and after."""
    data = event.data
    if "old_total" not in data or "new_total" not in data:
        return ""
    return _("%(seats)s; %(old)s → %(new)s") % {
        "seats": seats(data.get("seats", 0)),
        "old": money(data["old_total"], data.get("currency")),
        "new": money(data["new_total"], data.get("currency")),
    }


# The audit log


def _departure(data: dict) -> str:
    return moment(data.get("starts_at"))


def _departures_created(entry) -> str:
    data = entry.data
    return _("%(created)d new, %(first)s to %(last)s at %(times)s, %(seats)s each") % {
        "created": data.get("created", 0),
        "first": when(datetime.fromisoformat(data["first_day"]).date(), "day"),
        "last": when(datetime.fromisoformat(data["last_day"]).date(), "day"),
        "times": ", ".join(data.get("times", [])),
        "seats": seats(data.get("capacity", 0)),
    }


def _departure_created(entry) -> str:
    parts = [_departure(entry.data), seats(entry.data.get("capacity", 0))]
    return " · ".join(part for part in parts if part)


def _capacity_changed(entry) -> str:
    change = _("%(change)s seats") % {
        "change": old_to_new(entry.data.get("from"), entry.data.get("to"))
    }
    return " · ".join(part for part in (_departure(entry.data), change) if part)


def _opened_or_closed(entry) -> str:
    return _departure(entry.data)


def _price_changed(entry) -> str:
    before, after = entry.data.get("from", {}), entry.data.get("to", {})
    currency = entry.data.get("currency")
    parts = []
    if before.get("amount") != after.get("amount"):
        parts.append(
            old_to_new(money(before["amount"], currency), money(after["amount"], currency))
        )
    for key, label in (("min", _("minimum")), ("max", _("maximum"))):
        if key in after and before.get(key) != after[key]:
            parts.append(f"{label} {old_to_new(before.get(key), after[key])}")
    return " · ".join(parts)


def register_kinds() -> None:
    K = ReservationEvent.Kind
    TIMELINE_KINDS.register(
        "booking",
        K,
        {
            K.HELD: _held,
            K.HOLD_EXTENDED: _hold_extended,
            K.EXPIRED: _released,
            K.CANCELLED: _released,
            K.REFUNDED: _released,
            K.SOLD_ELSEWHERE: _released,
            K.PAID_WITHOUT_SEATS: _paid_without_seats,
            K.SEATS_RETAKEN: _seats_retaken,
            K.EMAIL_SENT: _email_sent,
            K.PASSENGERS_SAVED: _passengers_saved,
            K.CHANGE_PENDING: _change,
            K.CHANGED: _change,
            K.CHANGE_RELEASED: _change,
            K.CHANGE_NOT_APPLIED: _change,
            K.LATE_PAYMENT_REFUNDED: _late_payment_refunded,
        },
    )
    A = CatalogueAction
    AUDIT_ACTIONS.register(
        "booking",
        A,
        {
            A.DEPARTURES_CREATED: _departures_created,
            A.DEPARTURE_CREATED: _departure_created,
            A.CAPACITY_CHANGED: _capacity_changed,
            A.OPENED: _opened_or_closed,
            A.CLOSED: _opened_or_closed,
            A.PRICE_CHANGED: _price_changed,
        },
    )
    ACTOR_NAMES.register(BookingActor)
