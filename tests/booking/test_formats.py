"""Clear times and prices (issue 11, point 5): every time says its time zone, in the
traveller's language; prices follow the language; pt-BR names in lower case mid-sentence;
an empty month says so."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.test import Client
from django.utils import timezone, translation

from booking.calendar import month_calendar
from booking.money import format_money
from booking.photos import photo_set_alt
from tenants.models import Operator
from tests.factories import ALPHA_HOST, hold, photo, staff

NBSP = "\u00a0"
UTC = ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("amount", "currency", "language", "expected"),
    [
        (170_000_00, "ARS", "es", "ARS 170.000,00"),
        (170_000_00, "ARS", "en", "ARS 170,000.00"),
        (170_000_00, "ARS", "pt-br", "ARS 170.000,00"),
        (850_00, "BRL", "pt-br", "R$ 850,00"),
        (850_00, "BRL", "en", "BRL 850.00"),
        (850_00, "BRL", "es", "BRL 850,00"),
        (45_000, "CLP", "es", "CLP 45.000"),
        (45_000, "CLP", "en", "CLP 45,000"),
        (12_50, "USD", "es", "USD 12,50"),
        (12_50, "USD", "en", "USD 12.50"),
        (1_234_567_89, "USD", "pt-br", "USD 1.234.567,89"),
    ],
)
def test_prices_follow_the_language(amount, currency, language, expected):
    formatted = format_money(amount, currency, language)
    assert formatted == expected.replace(" ", NBSP)  # never wrapped between code and amount
    with translation.override(language):
        assert format_money(amount, currency) == formatted  # the active language by default


def render(template: str, zone: str, language: str, **context) -> str:
    with timezone.override(ZoneInfo(zone)), translation.override(language):
        return Template("{% load booking_tags %}" + template).render(Context(context))


@pytest.mark.parametrize(
    ("zone", "instant", "language", "expected"),
    [
        # Ushuaia: UTC−3 all year.
        ("America/Argentina/Ushuaia", datetime(2027, 1, 8, 13), "es", "10:00 (Ushuaia, UTC−3)"),
        ("America/Argentina/Ushuaia", datetime(2027, 7, 8, 13), "en", "10:00 (Ushuaia, UTC−3)"),
        # Santiago keeps summer time in January (UTC−3), standard time in July (UTC−4); the
        # city's name is the language's own.
        ("America/Santiago", datetime(2027, 1, 8, 13), "es", "10:00 (Santiago de Chile, UTC−3)"),
        ("America/Santiago", datetime(2027, 7, 8, 14), "en", "10:00 (Santiago, UTC−4)"),
        ("America/Santiago", datetime(2027, 7, 8, 14), "pt-br", "10:00 (Santiago, UTC−4)"),
        # Brazil has no summer time any more.
        ("America/Sao_Paulo", datetime(2027, 1, 8, 13), "pt-br", "10:00 (São Paulo, UTC−3)"),
        ("America/New_York", datetime(2027, 1, 8, 15), "pt-br", "10:00 (Nova York, UTC−5)"),
        ("Asia/Kathmandu", datetime(2027, 1, 8, 4, 15), "en", "10:00 (Kathmandu, UTC+5:45)"),
        ("Europe/London", datetime(2027, 1, 8, 10), "en", "10:00 (London, UTC)"),
    ],
)
def test_a_time_says_its_time_zone_at_that_instant(zone, instant, language, expected):
    value = instant.replace(tzinfo=UTC)
    assert render('{{ value|when:"time" }}', zone, language, value=value) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es", "Viernes 8 de enero de 2027, 10:00 (Ushuaia, UTC−3)"),
        ("en", "Friday, January 8, 2027, 10:00 (Ushuaia, UTC−3)"),
        ("pt-br", "Sexta-feira, 8 de janeiro de 2027, 10:00 (Ushuaia, UTC−3)"),
    ],
)
def test_a_departure_in_full_with_its_zone(language, expected):
    value = datetime(2027, 1, 8, 13, tzinfo=UTC)
    zone = "America/Argentina/Ushuaia"
    assert render("{{ value|when|capfirst }}", zone, language, value=value) == expected


@pytest.mark.parametrize(
    ("language", "day", "month", "short"),
    [
        ("pt-br", "segunda-feira, 1 de março", "março de 2027", "seg, 1 mar, 10:00 (São Paulo"),
        ("es", "lunes 1 de marzo", "marzo de 2027", "lun 1 mar, 10:00 (São Paulo"),
        ("en", "Monday, March 1", "March 2027", "Mon, Mar 1, 10:00 (São Paulo"),
    ],
)
def test_weekdays_and_months_in_lower_case_where_the_language_writes_them_so(
    language, day, month, short
):
    value = datetime(2027, 3, 1, 13, tzinfo=UTC)
    template = '{{ value|when:"day" }}|{{ value|when:"month" }}|{{ value|when:"short" }}'
    rendered = render(template, "America/Sao_Paulo", language, value=value).split("|")
    assert rendered[:2] == [day, month]
    assert rendered[2].startswith(short)


def test_a_bare_clock_time_and_the_zone_alone():
    value = datetime(2027, 7, 8, 14, tzinfo=UTC)
    rendered = render(
        '{{ value|when:"clock" }}|{{ value|zone }}', "America/Santiago", "es", value=value
    )
    assert rendered == "10:00|Santiago de Chile, UTC−4"


def client_in(language: str) -> Client:
    return Client(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE=language)


def alpha_in_zone(zone: str) -> None:
    Operator.objects.filter(schema_name="alpha").update(time_zone=zone)


@pytest.mark.parametrize(
    ("language", "price", "next_departure"),
    [
        ("es", "ARS 5.000,00", "Vie 8 ene, 10:00 (Santiago de Chile, UTC−3)"),
        ("en", "ARS 5,000.00", "Fri, Jan 8, 10:00 (Santiago, UTC−3)"),
        ("pt-br", "ARS 5.000,00", "Sex, 8 jan, 10:00 (Santiago, UTC−3)"),
    ],
)
def test_catalogue_prices_and_next_departure_follow_the_language(
    make_activity, make_slot, language, price, next_departure
):
    alpha_in_zone("America/Santiago")
    make_slot(make_activity(), starts_at=datetime(2027, 1, 8, 13, tzinfo=UTC))
    body = client_in(language).get("/").content.decode()
    assert price.replace(" ", NBSP) in body
    assert next_departure in body


def test_activity_page_says_the_zone_once_above_the_days_departures(make_activity, make_slot):
    alpha_in_zone("America/Santiago")
    activity = make_activity()
    for hour in (13, 17):  # 10:00 and 14:00 in Santiago's summer
        make_slot(activity, starts_at=datetime(2027, 1, 8, hour, tzinfo=UTC))
    body = client_in("en").get(f"/activities/{activity.slug}/?day=2027-01-08").content.decode()
    assert body.count("Santiago, UTC−3") == 1
    assert "Times in Santiago, UTC−3" in body
    assert ">10:00</time>" in body and ">14:00</time>" in body


def test_reservation_page_says_the_zone_of_the_hold_end(trip):
    _activity, slot = trip
    reservation = hold(slot)
    body = client_in("en").get(reservation.get_absolute_url()).content.decode()
    until = timezone.localtime(reservation.hold_expires_at, ZoneInfo("America/Argentina/Ushuaia"))
    assert f"We keep your seats until {until:%H:%M} (Ushuaia, UTC−3)." in body


@pytest.fixture
def first_of_month():
    return timezone.localdate().replace(day=1)


def month_after(month: date, count: int = 1) -> date:
    for _ in range(count):
        month = (month + timedelta(days=32)).replace(day=1)
    return month


@pytest.mark.parametrize(
    ("language", "empty", "link"),
    [
        ("en", "No departures in {month}.", "See {next}"),
        ("es", "No hay salidas en {month}.", "Ver {next}"),
        ("pt-br", "Nenhuma saída em {month}.", "Ver {next}"),
    ],
)
def test_an_empty_month_says_so_and_links_the_next_month_with_departures(
    make_activity, make_slot, first_of_month, language, empty, link
):
    activity = make_activity()
    empty_month, later = month_after(first_of_month, 2), month_after(first_of_month, 4)
    with timezone.override("America/Argentina/Ushuaia"):
        make_slot(
            activity,
            starts_at=timezone.make_aware(datetime.combine(later, datetime.min.time()))
            + timedelta(days=9, hours=10),
        )
    response = client_in(language).get(
        f"/activities/{activity.slug}/?month={empty_month:%Y-%m}", HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    with translation.override(language):
        month_name = render('{{ value|when:"month" }}', "UTC", language, value=empty_month)
        next_name = render('{{ value|when:"month" }}', "UTC", language, value=later)
    assert empty.format(month=month_name) in body
    assert link.format(next=next_name) in body
    assert f'href="?month={later:%Y-%m}"' in body


def test_a_month_with_departures_or_without_any_later_says_no_more(
    make_activity, make_slot, first_of_month
):
    activity = make_activity()
    with timezone.override("America/Argentina/Ushuaia"):
        departure = make_slot(activity, starts_at=timezone.now() + timedelta(days=40))
        month = timezone.localdate(departure.starts_at).replace(day=1)
        with translation.override("en"):
            busy = month_calendar(activity, month, timezone.localdate())
            after = month_calendar(activity, month_after(month), timezone.localdate())
    assert not busy.is_empty and busy.next_month_with_departures is None
    assert after.is_empty and after.next_month_with_departures is None
    body = (
        client_in("en")
        .get(f"/activities/{activity.slug}/?month={month_after(month):%Y-%m}")
        .content.decode()
    )
    assert "No departures in" in body and "See " not in body


def test_a_sold_out_or_closed_departure_is_not_the_next_month_to_see(
    make_activity, make_slot, first_of_month
):
    activity = make_activity()
    later = month_after(first_of_month, 3)
    with timezone.override("America/Argentina/Ushuaia"):
        starts_at = timezone.make_aware(datetime.combine(later, datetime.min.time())) + timedelta(
            days=3
        )
        make_slot(activity, starts_at=starts_at, capacity=2, taken=2)
        make_slot(activity, starts_at=starts_at + timedelta(days=1), is_open=False)
        with translation.override("en"):
            empty = month_calendar(activity, month_after(first_of_month), timezone.localdate())
    assert empty.is_empty and empty.next_month_with_departures is None


def signed_in_manager(language: str) -> Client:
    from tenants.models import Role
    from tenants.services import membership_grant
    from tests.factories import SYSTEM

    alpha = Operator.objects.get(schema_name="alpha")
    membership = membership_grant(
        actor=SYSTEM,
        operator=alpha,
        sub="alpha-manager",
        email="m@alpha.example",
        role=Role.MANAGER,
    )
    client = Client(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(membership.user)
    return client


@pytest.mark.parametrize(
    ("language", "alt"),
    [
        ("en", "The pier at dawn"),
        ("es", "El muelle al amanecer"),
        ("pt-br", "El muelle al amanecer"),
    ],
)
def test_photo_alt_text_in_the_travellers_language_with_the_operators_as_fallback(
    photo_store, make_activity, language, alt
):
    activity = make_activity()
    cover = photo(activity, width=800, height=600, alt="El muelle al amanecer")
    photo_set_alt(
        photo_id=cover.pk,
        alt={"es": "El muelle al amanecer", "en": "The pier at dawn"},
        actor=staff("manager"),
    )
    client = client_in(language)
    assert f'alt="{alt}"' in client.get("/").content.decode()
    assert f'alt="{alt}"' in client.get(f"/activities/{activity.slug}/").content.decode()


def test_the_photo_editor_describes_a_photo_in_each_language(photo_store, make_activity):
    activity = make_activity()
    cover = photo(activity, width=800, height=600, alt="El muelle")
    manager = signed_in_manager("es")
    url = f"/backoffice/activities/{activity.pk}/photos/"
    page = manager.get(url).content.decode()
    labels = re.findall(rf'<label for="id_photo{cover.pk}-alt_[a-z_]+">([^<]+)</label>', page)
    assert labels == [
        "Descripción en español",
        "Descripción en portugués (Brasil)",
        "Descripción en inglés",
    ]
    response = manager.post(
        url,
        {
            "describe": cover.pk,
            f"photo{cover.pk}-alt_es": "El muelle",
            f"photo{cover.pk}-alt_pt_br": "O cais",
            f"photo{cover.pk}-alt_en": "",
        },
    )
    assert response.status_code == 302
    cover.refresh_from_db()
    assert cover.texts("alt") == {"es": "El muelle", "pt-br": "O cais", "en": ""}


def test_the_rate_editor_names_the_language_as_a_sentence_does(make_activity):
    activity = make_activity()
    page = signed_in_manager("es").get(f"/backoffice/activities/{activity.pk}/").content.decode()
    assert "Nombre en portugués (Brasil)" in page and "Portugués (Brasil))" not in page
