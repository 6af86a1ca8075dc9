"""Input from outside that the backoffice must refuse (400) or ignore as an unknown filter,
never answer 500 (issue 8): ids that are not ids."""

import pytest

from booking.models import Rate, Reservation, ReservationEvent
from payments.models import Anomaly
from tenants.models import Membership, Role
from tests.factories import hold


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
