"""Two staff check in the same booking at the same moment: both succeed, the last mark wins,
and both of their pages show it."""

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from tenants.models import Role
from tenants.services import membership_grant
from tests.factories import ALPHA_HOST, SYSTEM, hold

pytestmark = pytest.mark.xdist_group("races")
HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(operator, role: str) -> Client:
    membership = membership_grant(
        actor=SYSTEM,
        operator=operator,
        sub=f"alpha-{role}",
        email=f"{role}@alpha.example",
        role=role,
    )
    client = Client(HTTP_HOST=ALPHA_HOST, HTTP_ACCEPT_LANGUAGE="en")
    with tenant_context(operator):  # sessions live in the operator's schema
        client.force_login(membership.user)
    return client


def test_two_staff_marking_one_booking_at_once_both_succeed_and_see_the_last_mark(committed):
    slot = committed.slot(capacity=10)
    with tenant_context(committed.operator):
        reservation = hold(slot, 2)
    url = f"/backoffice/departures/{slot.pk}/check-in/"
    staff = [signed_in(committed.operator, Role.AGENT), signed_in(committed.operator, Role.MANAGER)]
    marks = ["arrived", "no_show"]

    def mark(index: int):
        data = {"reservation": reservation.pk, "attendance": marks[index]}
        return staff[index].post(url, data, **HTMX).status_code

    assert committed.run_concurrently(2, mark) == [200, 200]
    with tenant_context(committed.operator):
        reservation.refresh_from_db()
        events = list(reservation.events.filter(kind__in=["checked_in", "no_show"]))
    assert len(events) == 2
    last = events[-1]
    assert reservation.attendance == {"checked_in": "arrived", "no_show": "no_show"}[last.kind]
    assert reservation.attendance_by == last.actor
    assert events[0].data == {"was": ""} and last.data["was"] != ""  # one after the other
    shown = reservation.get_attendance_display()
    for client in staff:
        page = client.get(url, **HTMX).content.decode()
        assert f"<strong>{shown}</strong>" in page and last.actor in page
