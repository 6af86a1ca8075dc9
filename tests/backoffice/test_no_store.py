"""Staff pages and the JSON export carry customers' data: no cache keeps them."""

import pytest

from tenants.models import Role


@pytest.mark.parametrize(
    "path", ["/backoffice/", "/backoffice/reservations/", "/backoffice/reservations/export/"]
)
def test_staff_pages_and_the_export_are_never_cached(staff, path):
    response = staff(Role.AGENT).get(path)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_even_the_refusals_of_staff_pages_are_never_cached(staff, alpha_client):
    assert "no-store" in alpha_client.get("/backoffice/")["Cache-Control"]
    refused = staff(Role.AGENT).get("/backoffice/team/")
    assert refused.status_code == 403 and "no-store" in refused["Cache-Control"]
