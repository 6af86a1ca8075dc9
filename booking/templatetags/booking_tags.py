from datetime import date, datetime, timedelta

from babel import Locale
from babel.dates import get_timezone_location
from django import template
from django.conf import settings
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, pgettext, pgettext_lazy, to_locale
from django.utils.translation import gettext as _

from booking.countries import country_name
from booking.money import format_money
from booking.photo_store import fallback_width, photo_srcset, rendition_url
from booking.qr import code_qr_svg

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


# Date formats are translated like any other string: word order and "de" differ by language.
DATE_FORMATS = {
    "day": pgettext_lazy("date format: weekday and day", "l, F j"),
    "month": pgettext_lazy("date format: month and year", "F Y"),
    "departure": pgettext_lazy("date format: a departure, in full", "l, F j, Y, H:i"),
    "short": pgettext_lazy("date format: a departure, short", "D, M j, H:i"),
    "time": pgettext_lazy("date format: a time of day", "H:i"),
    # A time under a heading that says the time zone once (a day's departures).
    "clock": pgettext_lazy("date format: a time of day", "H:i"),
    # Staff's lists, in the operator's own zone: no zone on every row.
    "short-local": pgettext_lazy("date format: a departure, short", "D, M j, H:i"),
}
# The styles that show a time of day, and so say its time zone.
ZONED_STYLES = {"departure", "short", "time"}


def names_in_lower_case(language: str) -> bool:
    """Whether the language writes weekdays and months in lower case mid-sentence (es, pt-BR:
    "segunda-feira, 1 de março"), as its CLDR names are; Django's own pt_BR names are
    capitalised. A template capitalises the start of a sentence with `capfirst`."""
    return Locale.parse(to_locale(language)).days["format"]["wide"][0].islower()


# The minus sign, not a hyphen: a line never breaks between "UTC−" and the hours.
MINUS = "\u2212"


def utc_offset(value: datetime) -> str:
    """ "UTC-3", "UTC+5:45", "UTC": the offset of the current time zone at that instant."""
    offset = timezone.localtime(value).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    if not minutes:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    sign = MINUS if minutes < 0 else "+"
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


@register.filter
def zone(value: datetime | None) -> str:
    """`{{ slot.starts_at|zone }}` -> "Ushuaia, UTC-3": the city of the current time zone (the
    operator's), in the current language, and its UTC offset at that instant (DST-aware)."""
    if value is None:
        return ""
    zone_name = str(timezone.get_current_timezone())
    language = get_language() or settings.LANGUAGE_CODE
    city = get_timezone_location(zone_name, locale=to_locale(language), return_city=True)
    return _("%(city)s, %(offset)s") % {"city": city, "offset": utc_offset(value)}


@register.filter(expects_localtime=True)
def when(value: date | datetime | None, style: str = "departure") -> str:
    """`{{ slot.starts_at|when:"day" }}`: a date in the current language's word order; a time
    says its time zone: "10:00 (Ushuaia, UTC-3)" (not the "clock" style, under a heading that
    says it once). Weekdays and months in lower case where the language writes them so."""
    if value is None:
        return ""
    text = dateformat.format(value, str(DATE_FORMATS[style]))
    if names_in_lower_case(get_language() or settings.LANGUAGE_CODE):
        text = text.lower()
    if style in ZONED_STYLES and isinstance(value, datetime):
        return pgettext("a time and its time zone", "%(time)s (%(zone)s)") % {
            "time": text,
            "zone": zone(value),
        }
    return text


@register.filter
def country(code: str) -> str:
    """`{{ passenger.nationality|country }}`: the country's name in the current language."""
    return country_name(code) if code else ""


@register.simple_tag
def photo_img(photo, sizes: str, loading: str = "lazy", css_class: str = "") -> str:
    """`{% photo_img photo "(min-width: 60rem) 20rem, 100vw" %}`: an <img> offering every
    rendition (`srcset`) for the width it is shown at (`sizes`), with the picture's width and
    height so the page keeps its space before it loads. `loading="eager"` for the picture at
    the top of a page, which the browser should fetch first; lazy for the rest."""
    eager = loading == "eager"
    return format_html(
        '<img src="{}" srcset="{}" sizes="{}" width="{}" height="{}" alt="{}" loading="{}" '
        'decoding="async"{}{}>',
        rendition_url(photo, fallback_width(photo)),
        photo_srcset(photo),
        sizes,
        photo.width,
        photo.height,
        photo.alt_i18n,
        "eager" if eager else "lazy",
        mark_safe(' fetchpriority="high"') if eager else "",
        format_html(' class="{}"', css_class) if css_class else "",
    )


@register.simple_tag
def photo_url(photo) -> str:
    """The address of a photo's widest rendition (a thumbnail's link to the picture)."""
    return rendition_url(photo, photo.widths[-1])


@register.filter
def qr_code(code: str) -> SafeString:
    """`{{ reservation.code|qr_code }}`: the code as an inline SVG QR code."""
    return mark_safe(code_qr_svg(code))  # segno's own markup, from a code of [A-Z2-9]
