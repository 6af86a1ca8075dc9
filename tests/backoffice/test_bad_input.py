"""Input from outside that the backoffice must refuse (400) or ignore as an unknown filter,
never answer 500 (issue 8): days beyond the calendar, ids that are not ids, amounts and
e-mails longer than their columns."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from booking.models import Rate, Reservation, ReservationEvent, Slot
from panel_sync.models import PanelConflict
from payments.models import Anomaly
from tenants.models import Membership, Role
from tenants.services import membership_grant
from tests.factories import ALPHA_HOST, SYSTEM, hold

USHUAIA = ZoneInfo("America/Argentina/Ushuaia")  # Alpha's time zone
# An address the e-mail validator alone accepts (up to 320), longer than the column (254).
LONG_EMAIL = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".com"
# The longest address the column holds.
LONGEST_EMAIL = "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".cc.com"


def test_the_addresses_are_the_lengths_they_claim():
    assert (len(LONG_EMAIL), len(LONGEST_EMAIL)) == (312, 254)


@pytest.mark.parametrize("activity", ["%C2%B2", "99999999999999999999999", "-1", "abc", ""])
def test_departures_ignore_an_activity_that_is_not_an_id(staff, make_slot, activity):
    slot = make_slot()
    response = staff(Role.AGENT).get(f"/backoffice/departures/?activity={activity}")
    assert response.status_code == 200
    assert slot in [slot for _, slots in response.context["days"] for slot in slots]


def test_departures_filter_by_an_activity_id(staff, make_activity, make_slot):
    kept, other = make_activity("kept"), make_activity("other")
    make_slot(kept), make_slot(other)
    response = staff(Role.AGENT).get(f"/backoffice/departures/?activity={kept.pk}")
    shown = {slot.activity for _, slots in response.context["days"] for slot in slots}
    assert shown == {kept}


@pytest.mark.parametrize(
    "query",
    [
        "from=0001-01-01",
        "from=9999-12-31",
        "from=9999-12-31&view=calendar",
        "from=0001-01-01&view=calendar",
        "month=9999-12",
        "day=9999-12-31",
    ],
)
def test_departures_ignore_days_beyond_the_calendar(staff, make_slot, query):
    make_slot()
    response = staff(Role.AGENT).get(f"/backoffice/departures/?{query}")
    assert response.status_code == 200
    today = timezone.localdate(timezone=USHUAIA)
    expected = today.replace(day=1) if "calendar" in query else today
    assert response.context["first"] == expected


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_reservations_ignore_a_day_beyond_the_calendar_and_keep_the_other_filters(
    staff, make_slot, day
):
    slot = make_slot()
    kept = hold(slot, 1)
    hold(slot, 1).__class__.objects.exclude(pk=kept.pk).update(contact_name="Someone Else")
    response = staff(Role.AGENT).get(f"/backoffice/reservations/?day={day}&q=Viajera")
    assert response.status_code == 200
    assert [r.pk for r in response.context["page"]] == [kept.pk]


@pytest.mark.parametrize(
    "query", ["from=9999-12-31", "from=0001-01-01", "to=9999-12-31", "from=9999-12-31&to=x"]
)
def test_the_export_ignores_days_beyond_the_calendar(staff, query):
    response = staff(Role.AGENT).get(f"/backoffice/reservations/export/?{query}")
    assert response.status_code == 200
    today = timezone.localdate(timezone=USHUAIA).isoformat()
    assert response.json()["from"] == today == response.json()["to"]


def test_the_manifest_ignores_any_query(staff, make_slot):
    slot = make_slot()
    for query in ("day=9999-12-31", "from=0001-01-01", "month=" + "9" * 36 + "-1"):
        response = staff(Role.AGENT).get(f"/backoffice/departures/{slot.pk}/manifest/?{query}")
        assert response.status_code == 200


@pytest.mark.parametrize(
    ("first", "last"), [(date(9999, 1, 1), date(9999, 12, 31)), (date(1, 1, 1), date(1, 1, 7))]
)
def test_recurring_departures_beyond_the_calendar_are_refused(staff, make_activity, first, last):
    activity = make_activity()
    data = {
        "activity": activity.pk,
        "first_day": first,
        "last_day": last,
        "weekdays": [0, 1, 2, 3, 4, 5, 6],
        "times": "09:00",
        "capacity": "5",
    }
    response = staff(Role.MANAGER).post("/backoffice/departures/new/", data)
    assert response.status_code == 400
    assert "Choose a day between the years 1900 and 2999." in response.content.decode()
    assert not Slot.objects.exists()


@pytest.fixture
def posts(make_slot):
    """Each backoffice button that posts a row's id: its URL, the name it posts the id under,
    and what it would change."""
    slot = make_slot()
    reservation = hold(slot, 1)
    return {
        "resolve": "/backoffice/anomalies/",
        "rate": "/backoffice/activities/",
        "remove": "/backoffice/team/",
        "reconcile": f"/backoffice/reservations/{reservation.code}/",
        "refund": f"/backoffice/reservations/{reservation.code}/",
    }


@pytest.mark.parametrize("name", ["resolve", "rate", "remove", "reconcile", "refund"])
@pytest.mark.parametrize("value", ["abc", "", "²", "-1", "1.0", "1e3", "9" * 30, " 1"])
def test_a_posted_id_that_is_not_an_id_is_refused_with_400(staff, posts, name, value):
    owner = staff(Role.OWNER)
    before = _everything()
    response = owner.post(posts[name], {name: value})
    assert response.status_code == 400
    assert "This request could not be understood" in response.content.decode()
    assert _everything() == before


@pytest.mark.parametrize("name", ["resolve", "rate", "remove", "reconcile", "refund"])
def test_a_posted_id_of_nothing_here_is_not_found(staff, posts, name):
    assert staff(Role.OWNER).post(posts[name], {name: "987654"}).status_code == 404


def _everything():
    return (
        list(Reservation.objects.values_list("pk", "status")),
        list(Membership.objects.values_list("pk", "role")),
        list(Anomaly.objects.values_list("pk", "resolved_at")),
        list(Rate.objects.values_list("pk", "amount")),
        ReservationEvent.objects.count(),
    )


@pytest.mark.parametrize("amount", ["21474836.48", "9999999999.99"])
def test_a_price_beyond_what_an_amount_holds_is_refused(staff, make_slot, amount):
    rate = make_slot().activity.rates.first()
    prefix = f"rate{rate.pk}"
    response = staff(Role.MANAGER).post(
        "/backoffice/activities/",
        {
            "rate": rate.pk,
            f"{prefix}-amount": amount,
            f"{prefix}-min_per_booking": "0",
            f"{prefix}-max_per_booking": "5",
        },
    )
    assert response.status_code == 400
    assert "At most 21,474,836.47." in response.content.decode()
    rate.refresh_from_db()
    assert rate.amount == 10_000_00


def test_the_largest_price_an_amount_holds_is_saved(staff, make_slot):
    rate = make_slot().activity.rates.first()
    prefix = f"rate{rate.pk}"
    response = staff(Role.MANAGER).post(
        "/backoffice/activities/",
        {
            "rate": rate.pk,
            f"{prefix}-amount": "21474836.47",
            f"{prefix}-min_per_booking": "0",
            f"{prefix}-max_per_booking": "5",
        },
    )
    assert response.status_code == 302
    rate.refresh_from_db()
    assert rate.amount == 2_147_483_647


def test_a_member_email_longer_than_its_column_is_refused(staff):
    response = staff(Role.OWNER).post(
        "/backoffice/team/",
        {"grant": "1", "sub": "long-sub", "email": LONG_EMAIL, "role": Role.MANAGER},
    )
    assert response.status_code == 400
    assert "Ensure this value has at most 254 characters (it has 312)." in (
        response.content.decode()
    )
    assert not Membership.objects.filter(user__sub="long-sub").exists()


def test_a_member_subject_longer_than_its_column_is_refused(staff):
    response = staff(Role.OWNER).post(
        "/backoffice/team/",
        {"grant": "1", "sub": "s" * 256, "email": "x@example.com", "role": Role.MANAGER},
    )
    assert response.status_code == 400


def test_a_member_with_the_longest_email_is_recorded_in_full_where_they_act(staff, alpha):
    granted = staff(Role.OWNER).post(
        "/backoffice/team/",
        {"grant": "1", "sub": "long-sub", "email": LONGEST_EMAIL, "role": Role.MANAGER},
    )
    assert granted.status_code == 302
    slot_reservation = hold(Slot.objects.create(**_slot_fields()), 1)
    anomaly = Anomaly.objects.create(
        kind="amount_mismatch", reservation=slot_reservation, details="x"
    )
    conflict = PanelConflict.objects.create(
        kind="refused", reservation=slot_reservation, details="refused by the panel"
    )
    membership = membership_grant(
        actor=SYSTEM, operator=alpha, sub="long-sub", email=LONGEST_EMAIL, role=Role.MANAGER
    )
    client = Client(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(membership.user)

    resolved = client.post("/backoffice/anomalies/", {"resolve": anomaly.pk})
    settled = client.post("/backoffice/panel/conflicts/", {"resolve": conflict.pk})
    cancelled = client.post(f"/backoffice/reservations/{slot_reservation.code}/", {"cancel": "1"})

    assert resolved.status_code == settled.status_code == cancelled.status_code == 302
    anomaly.refresh_from_db()
    conflict.refresh_from_db()
    assert anomaly.resolved_by == conflict.resolved_by == LONGEST_EMAIL
    assert ReservationEvent.objects.get(kind="cancelled").actor == LONGEST_EMAIL


def _slot_fields():
    from tests.factories import activity

    return {
        "activity": activity(),
        "starts_at": timezone.now() + timedelta(days=3),
        "capacity": 5,
    }
