from datetime import timedelta

from django import template
from django.utils.translation import gettext as _

from booking.money import format_money

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    """`{{ reservation.total_amount|money:reservation.currency }}`"""
    return "" if amount is None else format_money(amount, currency)


@register.filter
def duration(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    if hours:
        return _("%(hours)d h") % {"hours": hours}
    return _("%(minutes)d min") % {"minutes": minutes}


@register.filter
def mmss(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


@register.filter
def total_of(lines) -> int:
    return sum(line.total for line in lines)
