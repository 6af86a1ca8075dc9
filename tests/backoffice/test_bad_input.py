"""Input from outside that the backoffice must refuse (400) or ignore as an unknown filter,
never answer 500 (issue 8): days beyond the calendar, ids that are not ids."""

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from booking.models import Rate, Reservation, ReservationEvent, Slot
from payments.models import Anomaly
from tenants.models import Membership, Role
from tests.factories import hold

USHUAIA = ZoneInfo("America/Argentina/Ushuaia")  # Alpha's time zone


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
