"""The reports page: exact numbers on a known season, their JSON, who may see them, bad
periods refused with a 4xx, and a fixed number of queries whatever the number of rows."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backoffice.reports.period import Period
from backoffice.reports.queries import (
    bookings_per_day,
    occupancy_per_departure,
    occupancy_per_week,
    payment_methods,
    per_activity,
    refunds,
    sales_by_channel,
)
from booking.services import reservation_cancel
from panel_sync.models import PanelConnection
from tenants.models import Role
from tests.factories import (
    RateSpec,
    activity,
    backdate,
    hold,
    paid,
    refunded,
    slot,
    traveller,
)

ZONE = ZoneInfo("America/Argentina/Ushuaia")  # Alpha's
URL = "/backoffice/reports/"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


@pytest.fixture(autouse=True)
def alpha_time():
    """Alpha's time zone, as its pages have it (the middleware activates it)."""
    with timezone.override(ZONE):
        yield


@pytest.fixture
def today():
    return datetime.now(ZONE).date()


@pytest.fixture
def season(alpha, today):
    """Ten days ago: two boat bookings (one paid by card, one held). Nine days ago: a boat
    booking paid with Mercado Pago and refunded in full, a hike paid with Mercado Pago with a
    partial refund asked for, and a hike booked at 23:30 (local: still that day, 02:30 UTC
    the next) and cancelled. The departures are five and four days ago."""
    boat = activity("boat")
    hike = activity(
        "hike", name="Hike", rates=[RateSpec("adult", "Adult", 20_000_00, max_per_booking=10)]
    )
    boat_morning = slot(boat, capacity=10, starts_at=at(today - timedelta(5), 10))
    boat_afternoon = slot(
        boat, capacity=10, starts_at=at(today - timedelta(5), 15), taken_elsewhere=2
    )
    hike_day = slot(hike, capacity=10, starts_at=at(today - timedelta(4), 9))

    def booked(departure, seats, when, scope):
        reservation = hold(departure, seats, scope=scope, now=when)
        backdate(reservation, when)
        return reservation

    ten, nine = today - timedelta(10), today - timedelta(9)
    card = paid(booked(boat_morning, 2, at(ten, 11), "c1"), "stripe", "card")
    backdate(card, at(ten, 11))
    booked(boat_morning, 1, at(ten, 12), "c2")
    given_back = paid(booked(boat_afternoon, 3, at(nine, 9), "c3"), "mercadopago", "checkout")
    backdate(given_back, at(nine, 9))
    backdate(refunded(given_back, 30_000_00), at(nine, 18))
    partly = paid(booked(hike_day, 1, at(nine, 10), "c4"), "mercadopago", "checkout")
    backdate(partly, at(nine, 10))
    backdate(refunded(partly, 5_000_00, confirmed=False), at(today - timedelta(8), 9))
    late = booked(hike_day, 2, at(nine, 23, 30), "c5")
    reservation_cancel(reservation_id=late.pk, actor=traveller("c5"))
    return Period(today - timedelta(10), today - timedelta(4))


def test_bookings_and_revenue_per_day_count_each_booking_on_its_local_day(season):
    report = bookings_per_day(season)

    days = {row["day"]: row for row in report["days"]}
    assert len(days) == 7
    ten, nine, eight = (season.first + timedelta(n) for n in range(3))
    assert days[ten]["bookings"] == {
        "held": 1,
        "paid": 1,
        "expired": 0,
        "cancelled": 0,
        "refunded": 0,
    }
    assert days[ten]["revenue"] == {"ARS": 20_000_00}
    assert days[nine]["bookings"] == {
        "held": 0,
        "paid": 1,
        "expired": 0,
        "cancelled": 1,
        "refunded": 1,
    }
    assert days[nine]["revenue"] == {"ARS": 20_000_00}
    assert sum(days[eight]["bookings"].values()) == 0 and days[eight]["revenue"] == {}
    assert report["totals"] == {
        "bookings": {"held": 1, "paid": 2, "expired": 0, "cancelled": 1, "refunded": 1},
        "revenue": {"ARS": 40_000_00},
    }


def test_per_activity_counts_seats_and_paid_revenue(season):
    rows = per_activity(season)

    assert [(r["activity"], r["bookings"], r["seats"], r["revenue"]) for r in rows] == [
        ("Trip boat", 2, 3, {"ARS": 20_000_00}),
        ("Hike", 1, 1, {"ARS": 20_000_00}),
    ]


def test_occupancy_per_departure_and_week_count_every_channel(season):
    rows = occupancy_per_departure(season)

    assert [(r["paid"], r["held"], r["elsewhere"], r["taken"], r["percent"]) for r in rows] == [
        (2, 1, 0, 3, 30),
        (0, 0, 2, 2, 20),
        (1, 0, 0, 1, 10),
    ]
    weeks = occupancy_per_week(season)
    assert all(week["week"].weekday() == 0 for week in weeks)
    assert weeks[0]["week"] <= season.first and weeks[-1]["week"] > season.last - timedelta(7)
    assert sum(w["departures"] for w in weeks) == 3
    assert sum(w["capacity"] for w in weeks) == 30
    assert sum(w["taken"] for w in weeks) == 6


def test_payment_methods_sum_paid_and_refunded_per_method(season):
    assert payment_methods(season) == [
        {
            "provider": "mercadopago",
            "method": "checkout",
            "currency": "ARS",
            "count": 2,
            "amount": 50_000_00,
            "refunded": 30_000_00,
        },
        {
            "provider": "stripe",
            "method": "card",
            "currency": "ARS",
            "count": 1,
            "amount": 20_000_00,
            "refunded": 0,
        },
    ]


def test_refunds_per_day_and_state(season):
    report = refunds(season)

    by_day = {row["day"]: row for row in report["days"] if row["count"]}
    nine, eight = season.first + timedelta(1), season.first + timedelta(2)
    assert by_day == {
        nine: {"day": nine, "count": 1, "amount": {"ARS": 30_000_00}},
        eight: {"day": eight, "count": 1, "amount": {"ARS": 5_000_00}},
    }
    assert report["by_status"] == [
        {"status": "requested", "count": 1, "amount": {"ARS": 5_000_00}},
        {"status": "succeeded", "count": 1, "amount": {"ARS": 30_000_00}},
        {"status": "failed", "count": 0, "amount": {}},
    ]


def test_sales_by_channel_only_once_a_panel_is_connected(season):
    assert sales_by_channel(season) is None

    PanelConnection.objects.create(base_url="http://panel.example/octo/v1")

    rows = sales_by_channel(season)
    assert [(r["activity"], r["here"], r["panel"]) for r in rows] == [
        ("Hike", 1, 0),
        ("Trip boat", 3, 2),
    ]


def custom(period: Period, **extra) -> dict:
    return {"period": "custom", "first": period.first, "last": period.last} | extra


def test_the_json_has_every_report_and_the_period(season, staff):
    response = staff(Role.MANAGER).get(URL, custom(season, format="json"))

    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {
        "first": season.first.isoformat(),
        "last": season.last.isoformat(),
        "days": 7,
    }
    assert set(body["reports"]) == {
        "bookings",
        "activities",
        "departures",
        "weeks",
        "payment_methods",
        "refunds",
        "channels",
    }
    assert body["reports"]["bookings"]["totals"]["revenue"] == {"ARS": 40_000_00}
    assert body["reports"]["channels"] is None
    departure = body["reports"]["departures"][0]
    assert set(departure) == {
        "departure_id",
        "starts_at",
        "activity",
        "capacity",
        "paid",
        "held",
        "elsewhere",
        "taken",
        "is_open",
        "percent",
    }


def test_one_report_as_json(season, staff):
    response = staff(Role.OWNER).get(URL, custom(season, format="json", report="activities"))

    assert response.status_code == 200
    assert list(response.json()["reports"]) == ["activities"]
    assert response.json()["reports"]["activities"][0]["seats"] == 3


def test_the_page_draws_charts_with_money_in_the_currency_format(season, staff):
    client = staff(Role.MANAGER)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "es"

    response = client.get(URL, custom(season))

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('<svg class="chart-svg" role="img"') >= 4
    assert '<title id="bookings-chart-title">Reservas por día</title>' in page
    assert "40.000,00" in page  # the revenue total, in Spanish
    assert "format=json&amp;report=bookings" in page
    assert "<details>" in page
    assert 'x="12,' not in page  # SVG coordinates are never localized


@pytest.mark.parametrize("period", ["week", "month", "season", ""])
def test_every_named_period_renders(alpha, staff, period):
    response = staff(Role.MANAGER).get(URL, {"period": period})

    assert response.status_code == 200


def test_agents_may_not_see_reports(alpha, staff):
    agent = staff(Role.AGENT)

    assert agent.get(URL).status_code == 403
    assert agent.get(URL, {"format": "json"}).status_code == 403
    assert "/backoffice/reports/" not in agent.get("/backoffice/").content.decode()


def test_another_operators_owner_sees_nothing_here(alpha, beta_owner):
    from tests.factories import ALPHA_HOST

    response = beta_owner.get(URL, HTTP_HOST=ALPHA_HOST)

    assert response.status_code in (302, 403)


@pytest.mark.parametrize(
    "query",
    [
        {"period": "custom"},
        {"period": "custom", "first": "2026-02-30", "last": "2026-03-01"},
        {"period": "custom", "first": "2026-03-10", "last": "2026-03-01"},
        {"period": "custom", "first": "2020-01-01", "last": "2026-01-01"},
        {"period": "custom", "first": "0001-01-01", "last": "0001-01-02"},
        {"period": "custom", "first": "9999-12-30", "last": "9999-12-31"},
        {"period": "fortnight"},
    ],
)
def test_bad_periods_re_render_the_form_with_a_400(alpha, staff, query):
    client = staff(Role.MANAGER)

    page = client.get(URL, query)
    as_json = client.get(URL, query | {"format": "json"})

    assert page.status_code == 400
    assert 'class="field-error"' in page.content.decode()
    assert as_json.status_code == 400 and as_json.json()["errors"]


@pytest.mark.parametrize("query", [{"format": "csv"}, {"format": "json", "report": "nope"}])
def test_unknown_format_or_report_is_a_bad_request(alpha, staff, query):
    assert staff(Role.MANAGER).get(URL, query).status_code == 400


def test_a_fixed_number_of_queries_whatever_the_rows(season, staff, today):
    client = staff(Role.MANAGER)
    PanelConnection.objects.create(base_url="http://panel.example/octo/v1")
    query = custom(season)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL, query).status_code == 200
        return len(queries)

    before = count()
    more = slot(activity("boat"), capacity=30, starts_at=at(today - timedelta(6), 10))
    for n in range(6):
        made = at(today - timedelta(7), 9)
        reservation = hold(more, 1, scope=f"more-{n}", now=made)
        backdate(reservation, made)
        backdate(paid(reservation), made)
    assert count() == before
    assert before <= 20
