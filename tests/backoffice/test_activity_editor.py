"""The activity editor: managers and owners create, edit and archive activities and their
rates (texts per language, prices typed the staff's way), agents may not; every change is in
the audit log with its old and new values; malformed posts get a 400, never a 500."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEntry
from booking.models import Activity, Rate, Slot
from tenants.models import Role
from tests.factories import ALPHA_HOST, hold, local

NEW = "/backoffice/activities/new/"


def activity_data(**overrides) -> dict:
    return {
        "name_es": "Kayak en el Beagle",
        "name_pt_br": "Caiaque no Beagle",
        "name_en": "Beagle kayak",
        "summary_es": "Remada guiada",
        "summary_pt_br": "",
        "summary_en": "A guided paddle",
        "description_es": "Con traje seco.",
        "description_pt_br": "",
        "description_en": "",
        "meeting_point_es": "Playa Larga",
        "meeting_point_pt_br": "",
        "meeting_point_en": "Playa Larga beach",
        "duration_minutes": "180",
        "booking_cutoff_minutes": "120",
        "hold_minutes": "",
        "free_cancellation_hours": "24",
        "late_refund_percent": "50",
        "passenger_data": "document",
        "save": "1",
    } | overrides


def rate_data(prefix: str = "new", **overrides) -> dict:
    return {
        f"{prefix}-name_es": "Adulto",
        f"{prefix}-name_pt_br": "",
        f"{prefix}-name_en": "Adult",
        f"{prefix}-amount": "170.000,50",
        f"{prefix}-min_per_booking": "1",
        f"{prefix}-max_per_booking": "6",
    } | overrides


@pytest.fixture
def manager(staff):
    return staff(Role.MANAGER)


@pytest.fixture
def kayak(manager) -> Activity:
    response = manager.post(NEW, activity_data())
    assert response.status_code == 302, response.content.decode()
    return Activity.objects.get(slug="kayak-en-el-beagle")


def edit_url(activity: Activity) -> str:
    return f"/backoffice/activities/{activity.pk}/"


def test_a_manager_creates_an_activity_in_three_languages_and_it_is_audited(manager, kayak):
    assert kayak.texts("name") == {
        "es": "Kayak en el Beagle",
        "pt-br": "Caiaque no Beagle",
        "en": "Beagle kayak",
    }
    assert kayak.texts("summary")["pt-br"] == ""
    assert kayak.duration == timedelta(hours=3)
    assert (kayak.free_cancellation_hours, kayak.late_refund_percent) == (24, 50)
    assert kayak.hold_minutes is None and kayak.is_active
    assert kayak.passenger_data == "document"
    entry = AuditEntry.objects.get(action="activity_created")
    assert entry.actor == "manager@alpha.example"
    assert entry.data["changes"]["name.en"] == {"from": None, "to": "Beagle kayak"}
    assert "summary.pt-br" not in entry.data["changes"]


def test_the_operators_own_language_is_required_the_others_are_not(manager):
    response = manager.post(NEW, activity_data(name_es="", name_en="Only English"))
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not Activity.objects.exists()


def test_validation_messages_speak_the_staff_members_language(staff):
    spanish = staff(Role.MANAGER)
    spanish.defaults["HTTP_ACCEPT_LANGUAGE"] = "es"
    response = spanish.post(NEW, activity_data(name_es="", duration_minutes="-3"))
    body = response.content.decode()
    assert response.status_code == 400
    assert "Este campo es obligatorio." in body
    assert "Asegúrese de que este valor es mayor o igual a 5." in body


def test_editing_records_each_old_and_new_value(manager, kayak):
    response = manager.post(
        edit_url(kayak),
        activity_data(
            name_en="Kayaking the Beagle",
            hold_minutes="25",
            late_refund_percent="0",
            passenger_data="document_birth",
        ),
    )
    assert response.status_code == 302
    kayak.refresh_from_db()
    assert kayak.texts("name")["en"] == "Kayaking the Beagle"
    assert kayak.hold_minutes == 25
    entry = AuditEntry.objects.get(action="activity_changed")
    assert entry.data["changes"] == {
        "name.en": {"from": "Beagle kayak", "to": "Kayaking the Beagle"},
        "hold_minutes": {"from": None, "to": 25},
        "late_refund_percent": {"from": 50, "to": 0},
        "passenger_data": {"from": "document", "to": "document_birth"},
    }


def test_an_edit_that_changes_nothing_records_nothing(manager, kayak):
    assert manager.post(edit_url(kayak), activity_data()).status_code == 302
    assert not AuditEntry.objects.filter(action="activity_changed").exists()


@pytest.mark.parametrize("role", [Role.AGENT])
def test_agents_may_not_create_edit_or_archive(staff, kayak, role):
    agent = staff(role)
    assert agent.get(NEW).status_code == 403
    assert agent.post(NEW, activity_data(name_es="Otra")).status_code == 403
    assert agent.get(edit_url(kayak)).status_code == 403
    assert agent.post(edit_url(kayak), {"archive": "1"}).status_code == 403
    assert agent.post(edit_url(kayak), rate_data() | {"add_rate": "1"}).status_code == 403
    kayak.refresh_from_db()
    assert kayak.is_active and not kayak.rates.exists()
    assert Activity.objects.count() == 1
    assert agent.get("/backoffice/activities/").status_code == 200  # agents still see prices


def test_owners_edit_too(staff, kayak):
    owner = staff(Role.OWNER)
    assert owner.post(edit_url(kayak), {"archive": "1"}).status_code == 302


@pytest.mark.parametrize(
    ("language", "typed", "minor"),
    [
        ("es", "170.000,50", 17_000_050),
        ("es", "170000,5", 17_000_050),
        ("en", "170,000.50", 17_000_050),
        ("en", "170000", 17_000_000),
        ("pt-br", "850,00", 85_000),
    ],
)
def test_prices_are_typed_the_way_the_staff_members_language_writes_numbers(
    manager, kayak, language, typed, minor
):
    manager.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    response = manager.post(edit_url(kayak), rate_data(**{"new-amount": typed}) | {"add_rate": "1"})
    assert response.status_code == 302, response.content.decode()
    rate = kayak.rates.get()
    assert (rate.amount, rate.currency, rate.code) == (minor, "ARS", "adulto")
    assert rate.texts("name") == {"es": "Adulto", "pt-br": "", "en": "Adult"}
    entry = AuditEntry.objects.get(action="rate_created")
    assert entry.data["changes"]["amount"] == {"from": None, "to": minor}


LIKE = "Type the price as a number, like 170,000.50."


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("new-amount", "170.000,50", LIKE),
        ("new-amount", "-5", LIKE),
        ("new-amount", "twelve", LIKE),
        ("new-amount", "NaN", LIKE),
        ("new-amount", "1e5", LIKE),
        ("new-amount", "\u0661\u0662", LIKE),
        ("new-amount", "1.234", "ARS prices have at most 2 decimals."),
        ("new-amount", "9" * 25, "At most 21,474,836.47."),
        ("new-amount", "9" * 40, "Ensure this value has at most 32 characters (it has 40)."),
        ("new-amount", "", "This field is required."),
        ("new-min_per_booking", "9" * 40, "Ensure this value is less than or equal to 100."),
        ("new-max_per_booking", "-1", "Ensure this value is greater than or equal to 1."),
        ("new-max_per_booking", "x", "Enter a whole number."),
        ("new-max_per_booking", "0", "Ensure this value is greater than or equal to 1."),
        ("new-min_per_booking", "7", "The maximum must not be below the minimum."),
        ("new-name_es", "", "This field is required."),
        ("new-name_en", "n" * 61, "Ensure this value has at most 60 characters (it has 61)."),
    ],
)
def test_a_malformed_rate_is_refused_with_a_clear_message(manager, kayak, field, value, message):
    response = manager.post(edit_url(kayak), rate_data(**{field: value}) | {"add_rate": "1"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not kayak.rates.exists()


def test_a_price_error_speaks_spanish_to_a_spanish_speaker(manager, kayak):
    manager.defaults["HTTP_ACCEPT_LANGUAGE"] = "es"
    response = manager.post(
        edit_url(kayak), rate_data(**{"new-amount": "170,000.50"}) | {"add_rate": "1"}
    )
    assert response.status_code == 400
    assert "Escribe el precio como un número, por ejemplo 170.000,50." in response.content.decode()


@pytest.mark.parametrize(
    "post",
    [
        {},
        {"save_rate": "abc"},
        {"rate_up": "1" * 30},
        {"remove_rate": ""},
        {"save": "1", "duration_minutes": "9" * 40, "late_refund_percent": "101"},
        {"save": "1", "booking_cutoff_minutes": "-5"},
        {"add_rate": "1"},
    ],
)
def test_malformed_posts_get_a_4xx_never_a_500(manager, kayak, post):
    assert manager.post(edit_url(kayak), post).status_code == 400
    assert manager.post(NEW, post).status_code == 400
    assert Activity.objects.count() == 1


def test_a_rate_of_another_activity_is_not_found(manager, kayak, make_activity):
    other = make_activity().rates.first()
    response = manager.post(edit_url(kayak), rate_data(f"rate{other.pk}") | {"save_rate": other.pk})
    assert response.status_code == 404


def test_a_rate_is_changed_in_place_and_its_errors_shown_beside_it(manager, make_activity):
    activity = make_activity()
    adult = activity.rates.get(code="adult")
    prefix = f"rate{adult.pk}"
    data = rate_data(prefix, **{f"{prefix}-amount": "12.500"}) | {"save_rate": adult.pk}
    assert manager.post(edit_url(activity), data).status_code == 400  # English: 12.500 = 12.5
    adult.refresh_from_db()
    assert adult.amount == 10_000_00
    data[f"{prefix}-amount"] = "12,500"
    assert manager.post(edit_url(activity), data).status_code == 302
    adult.refresh_from_db()
    assert adult.amount == 12_500_00
    entry = AuditEntry.objects.get(action="rate_changed")
    assert entry.data["changes"]["amount"] == {"from": 10_000_00, "to": 12_500_00}


def test_a_rate_with_bookings_is_archived_instead_of_deleted(manager, make_activity, make_slot):
    activity = make_activity()
    slot = make_slot(activity)
    hold(slot, 1)  # an adult
    adult, child = activity.rates.all()
    manager.post(edit_url(activity), {"remove_rate": adult.pk})
    manager.post(edit_url(activity), {"remove_rate": child.pk})
    assert list(Rate.objects.filter(activity=activity)) == [adult]
    adult.refresh_from_db()
    assert adult.is_archived
    assert {e.action for e in AuditEntry.objects.all()} >= {"rate_archived", "rate_deleted"}
    client = manager.__class__(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE="en")
    booking = client.get(f"/departures/{slot.pk}/book/").content.decode()
    assert f"rate_{adult.pk}" not in booking
    manager.post(edit_url(activity), {"restore_rate": adult.pk})
    adult.refresh_from_db()
    assert not adult.is_archived


def test_rates_are_reordered(manager, make_activity):
    activity = make_activity()
    adult, child = activity.rates.all()
    assert manager.post(edit_url(activity), {"rate_down": adult.pk}).status_code == 302
    assert list(activity.rates.all()) == [child, adult]
    manager.post(edit_url(activity), {"rate_down": adult.pk})  # already last: nothing moves
    assert list(activity.rates.all()) == [child, adult]
    assert AuditEntry.objects.filter(action="rates_reordered").count() == 1


def test_an_archived_activity_is_hidden_from_travellers_and_keeps_its_bookings(
    manager, make_activity, make_slot
):
    activity = make_activity(name="Kayak")
    slot = make_slot(activity)
    reservation = hold(slot, 2)
    assert manager.post(edit_url(activity), {"archive": "1"}).status_code == 302
    traveller = manager.__class__(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE="en")
    assert "Kayak" not in traveller.get("/").content.decode()
    assert traveller.get(f"/activities/{activity.slug}/").status_code == 404
    assert Slot.objects.get(pk=slot.pk).taken == 2
    reservation.refresh_from_db()
    assert reservation.status == "held"
    assert "archived" in manager.get("/backoffice/activities/").content.decode()
    manager.post(edit_url(activity), {"restore": "1"})
    assert traveller.get(f"/activities/{activity.slug}/").status_code == 200
    assert [e.action for e in AuditEntry.objects.order_by("id")][-2:] == [
        "activity_archived",
        "activity_restored",
    ]


def test_the_hold_lasts_the_activitys_hold_time_else_the_operators(make_activity, make_slot):
    quick = make_activity(slug="quick")
    Activity.objects.filter(pk=quick.pk).update(hold_minutes=5)
    usual_slot = make_slot(make_activity(slug="usual"))
    quick_slot = make_slot(Activity.objects.get(pk=quick.pk))
    now = timezone.now()
    with CaptureQueriesContext(connection) as usual_queries:
        usual_hold = hold(usual_slot, 1, now=now)
    with CaptureQueriesContext(connection) as quick_queries:
        quick_hold = hold(quick_slot, 1, now=now)
    assert usual_hold.hold_expires_at == now + timedelta(minutes=15)
    assert quick_hold.hold_expires_at == now + timedelta(minutes=5)
    assert len(quick_queries) == len(usual_queries)
    # The activity came with the rate: the hold reads its hold time without asking for it.
    assert not any('FROM "booking_activity"' in q["sql"] for q in quick_queries.captured_queries)


def test_the_cancellation_policy_is_shown_before_payment(manager, kayak):
    traveller = manager.__class__(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE="en")
    page = traveller.get(f"/activities/{kayak.slug}/").content.decode()
    assert "Free cancellation until 24 hours before departure" in page
    assert "after that, 50% refund" in page
    slot = Slot.objects.create(activity=kayak, starts_at=local(3, 10), capacity=5)
    Rate.objects.create(activity=kayak, code="a", name="Adulto", amount=100, currency="ARS")
    assert (
        "Free cancellation until 24 hours"
        in traveller.get(f"/departures/{slot.pk}/book/").content.decode()
    )
