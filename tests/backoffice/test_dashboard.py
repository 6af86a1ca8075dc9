"""The dashboard: today's bookings (and revenue, for managers), the departures of today and
the next days as occupancy bars, and the small charts that lead to the reports."""

from datetime import timedelta

from django.utils import timezone

from tenants.models import Role
from tests.factories import hold, local, paid, slot


def test_managers_see_todays_bookings_revenue_and_departures(alpha, staff):
    with timezone.override(alpha.zone):
        tomorrow = slot(capacity=10, starts_at=local(1, 10))
        slot(capacity=10, starts_at=local(5, 10))  # after the next days: not listed
    paid(hold(tomorrow, 3, scope="c1"))
    hold(tomorrow, 1, scope="c2")
    client = staff(Role.MANAGER)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "es"

    page = client.get("/backoffice/").content.decode()

    assert "Reservas de hoy" in page and "Ingresos de hoy" in page
    assert "30.000,00" in page  # three adults at 10.000,00 ARS
    assert page.count(f'href="/backoffice/departures/{tomorrow.pk}/"') == 1
    assert "4/10 (40 %)" in page
    assert page.count('class="chart-svg" role="img"') == 2
    assert 'href="/backoffice/reports/#bookings"' in page


def test_agents_see_bookings_but_no_money_and_no_reports(alpha, staff):
    with timezone.override(alpha.zone):
        paid(hold(slot(capacity=10, starts_at=local(1, 10)), 2))

    page = staff(Role.AGENT).get("/backoffice/").content.decode()

    assert 'data-testid="today-figures"' in page
    assert "Revenue today" not in page and "20,000.00" not in page
    assert "/backoffice/reports/" not in page


def test_departures_later_today_and_none_at_all(alpha, staff):
    page = staff(Role.MANAGER).get("/backoffice/").content.decode()
    assert "No departures today or in the next two days." in page

    with timezone.override(alpha.zone):
        slot(capacity=8, starts_at=timezone.now() + timedelta(minutes=30))
    page = staff(Role.MANAGER).get("/backoffice/").content.decode()
    assert "0/8 (0 %)" in page
