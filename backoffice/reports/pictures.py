"""The reports drawn: each report's rows (backoffice/reports/queries.py) as a chart of
backoffice/charts.py, in the staff's language, money in its currency's format."""

from datetime import date

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from backoffice.charts import BarChart, ColumnChart, Series, bar_chart, column_chart
from booking.money import format_money, to_major
from booking.templatetags.booking_tags import when
from payments.models import Method, Provider, Refund

# Departures drawn one bar each; the JSON has them all.
MAX_DEPARTURE_BARS = 30


def seat_series() -> list[Series]:
    return [
        Series("paid", _("Paid")),
        Series("held", _("Held")),
        Series("elsewhere", _("Sold on the panel")),
    ]


def _day(day: date) -> str:
    return date_format(day, "j M")


def bookings_chart(data: dict) -> ColumnChart:
    series = [
        Series("paid", _("Paid")),
        Series("held", _("Held")),
        Series("lost", _("Cancelled, expired or refunded")),
    ]
    return column_chart(
        slug="bookings-chart",
        title=_("Bookings per day"),
        description=_("Bookings made each day, by their status now."),
        series=series,
        columns=[
            (
                _day(row["day"]),
                {
                    "paid": row["bookings"]["paid"],
                    "held": row["bookings"]["held"],
                    "lost": sum(row["bookings"][s] for s in ("cancelled", "expired", "refunded")),
                },
            )
            for row in data["days"]
        ],
        value_label=lambda key, value: str(value),
    )


def money_charts(
    rows: list[dict], *, slug: str, title: str, description: str, key: str
) -> list[ColumnChart]:
    """One chart per currency present (amounts in different currencies are never added)."""
    currencies = sorted({currency for row in rows for currency in row[key]})
    return [
        column_chart(
            slug=f"{slug}-{currency.lower()}",
            title=f"{title} ({currency})",
            description=description,
            series=[Series("money", currency)],
            columns=[(_day(row["day"]), {"money": row[key].get(currency, 0)}) for row in rows],
            scale=lambda amount, currency=currency: float(to_major(amount, currency)),
            value_label=lambda _key, amount, currency=currency: format_money(amount, currency),
        )
        for currency in currencies
    ]


def revenue_charts(data: dict) -> list[ColumnChart]:
    return money_charts(
        data["days"],
        slug="revenue-chart",
        title=_("Revenue per day"),
        description=_("The totals of the bookings made each day that are paid now."),
        key="revenue",
    )


def _money_text(amounts: dict[str, int]) -> str:
    return " + ".join(format_money(amount, currency) for currency, amount in amounts.items())


def activities_chart(rows: list[dict]) -> BarChart:
    def written(row: dict) -> str:
        seats = ngettext("%(count)d seat", "%(count)d seats", row["seats"]) % {
            "count": row["seats"]
        }
        return " · ".join(filter(None, [seats, _money_text(row["revenue"])]))

    return bar_chart(
        slug="activities-chart",
        title=_("Seats sold per activity"),
        description=_("Seats of the paid and held bookings made in the period, by activity."),
        rows=[(row["activity"], {"main": row["seats"]}, written(row)) for row in rows],
    )


def weeks_chart(rows: list[dict]) -> ColumnChart:
    return column_chart(
        slug="weeks-chart",
        title=_("Occupancy per week"),
        description=_("Seats taken on every channel, of the seats offered, week by week."),
        series=[Series("main", _("Occupancy"))],
        columns=[
            (
                _day(row["week"]),
                {"main": row["percent"]},
            )
            for row in rows
        ],
        maximum=100,
        axis_label=lambda value: f"{value:.0f} %",
    )


def departures_chart(
    rows: list[dict], *, slug: str = "departures-chart", with_day: bool = True, legend=True
) -> BarChart:
    """`with_day`: each label says the day (else only the time); `legend`: the chart says
    what its colours are (else the page says it once, under several charts)."""

    def starts(row: dict) -> str:
        if with_day:
            return when(timezone.localtime(row["starts_at"]), "short")
        return date_format(timezone.localtime(row["starts_at"]), "H:i")

    return bar_chart(
        slug=slug,
        title=_("Occupancy per departure"),
        description=_("Seats paid, held and sold elsewhere, of each departure's capacity."),
        series=seat_series() if legend else (),
        rows=[
            (
                f"{starts(row)} · {row['activity']}",
                {"paid": row["paid"], "held": row["held"], "elsewhere": row["elsewhere"]},
                f"{row['taken']}/{row['capacity']} ({row['percent']} %)",
            )
            for row in rows[:MAX_DEPARTURE_BARS]
        ],
        maxima=[row["capacity"] for row in rows[:MAX_DEPARTURE_BARS]],
        urls=[
            reverse("backoffice:departure", args=[row["departure_id"]])
            for row in rows[:MAX_DEPARTURE_BARS]
        ],
    )


def departures_by_day(rows: list[dict]) -> list[tuple[date, BarChart]]:
    """The dashboard's departures, a bar chart per local day (days without any left out)."""
    days: dict[date, list[dict]] = {}
    for row in rows:
        days.setdefault(timezone.localtime(row["starts_at"]).date(), []).append(row)
    return [
        (
            day,
            departures_chart(
                day_rows, slug=f"departures-{day:%Y%m%d}", with_day=False, legend=False
            ),
        )
        for day, day_rows in days.items()
    ]


def days_occupancy_chart(rows: list[dict]) -> ColumnChart:
    return column_chart(
        slug="days-chart",
        title=_("Occupancy, next 14 days"),
        description=_("Seats taken on every channel, of the seats offered, day by day."),
        series=[Series("main", _("Occupancy"))],
        columns=[(_day(row["day"]), {"main": row["percent"]}) for row in rows],
        maximum=100,
        axis_label=lambda value: f"{value:.0f} %",
    )


def method_name(row: dict) -> str:
    provider = Provider(row["provider"]).label if row["provider"] in Provider else row["provider"]
    method = Method(row["method"]).label if row["method"] in Method else row["method"]
    return f"{provider} · {method}"


def method_rows(rows: list[dict]) -> list[dict]:
    return [row | {"name": method_name(row)} for row in rows]


def methods_chart(rows: list[dict]) -> BarChart:
    return bar_chart(
        slug="methods-chart",
        title=_("Payment methods"),
        description=_("Paid attempts started in the period, by provider and method."),
        rows=[
            (
                f"{method_name(row)} ({row['currency']})",
                {"main": row["count"]},
                ngettext("%(count)d payment", "%(count)d payments", row["count"])
                % {"count": row["count"]}
                + " · "
                + format_money(row["amount"], row["currency"]),
            )
            for row in rows
        ],
    )


def refunds_charts(data: dict) -> list[ColumnChart]:
    return money_charts(
        data["days"],
        slug="refunds-chart",
        title=_("Refunds per day"),
        description=_("Money asked back each day (confirmed or waiting for the provider)."),
        key="amount",
    )


def refund_states(data: dict) -> list[dict]:
    return [row | {"label": Refund.Status(row["status"]).label} for row in data["by_status"]]


def channels_chart(rows: list[dict]) -> BarChart:
    return bar_chart(
        slug="channels-chart",
        title=_("Sales by channel"),
        description=_("Seats of the period's departures sold here and on the activity panel."),
        series=[Series("here", _("This site")), Series("elsewhere", _("Activity panel"))],
        rows=[
            (
                row["activity"],
                {"here": row["here"] or 0, "elsewhere": row["panel"] or 0},
                _("%(here)d here · %(panel)d on the panel")
                % {"here": row["here"] or 0, "panel": row["panel"] or 0},
            )
            for row in rows
        ],
    )
