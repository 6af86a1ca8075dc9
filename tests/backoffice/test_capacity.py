"""A departure's capacity, changed through its page as a browser posts the form: the field
and the button pressed together, read from the rendered page rather than written by hand."""

import pytest

from audit.models import AuditEntry
from payments.models import PaymentIntent
from tenants.models import Role
from tests.factories import hold
from tests.html_forms import button_field_collisions, form_with


def test_a_capacity_change_saves_the_number_typed_and_audits_both_values(staff, make_slot):
    slot = make_slot(capacity=10)
    client = staff(Role.MANAGER)
    url = f"/backoffice/departures/{slot.pk}/"
    form = form_with(client.get(url).content.decode(), button="Change capacity")
    posted = form.submission("Change capacity", capacity="25")

    response = client.post(url, posted, follow=True)

    assert response.redirect_chain == [(url, 302)]
    page = response.content.decode()
    assert "Capacity changed." in page
    assert form_with(page, button="Change capacity").submission("Change capacity")["capacity"] == [
        "25"
    ]
    slot.refresh_from_db()
    assert slot.capacity == 25
    entry = AuditEntry.objects.get(action="capacity_changed")
    assert entry.actor == "manager@alpha.example"
    assert (entry.data["slot"], entry.data["from"], entry.data["to"]) == (slot.pk, 10, 25)


def test_a_capacity_that_is_not_a_number_re_renders_the_form_with_its_message(staff, make_slot):
    slot = make_slot(capacity=10)
    client = staff(Role.MANAGER)
    url = f"/backoffice/departures/{slot.pk}/"
    form = form_with(client.get(url).content.decode(), button="Change capacity")

    response = client.post(url, form.submission("Change capacity", capacity="many"))

    assert response.status_code == 400
    assert "Enter a whole number." in response.content.decode()
    slot.refresh_from_db()
    assert slot.capacity == 10
    assert not AuditEntry.objects.filter(action="capacity_changed").exists()


def test_a_post_without_a_known_button_is_a_bad_request_that_changes_nothing(staff, make_slot):
    slot = make_slot(capacity=10)

    response = staff(Role.MANAGER).post(f"/backoffice/departures/{slot.pk}/", {"capacity": "3"})

    assert response.status_code == 400
    slot.refresh_from_db()
    assert slot.capacity == 10


@pytest.fixture
def busy_operator(make_slot):
    """A departure with a held and a paid reservation (whose payment may be refunded)."""
    slot = make_slot(capacity=10)
    held = hold(slot, 2)
    paid = hold(slot, 1, scope="client-2")
    PaymentIntent.objects.create(
        reservation=paid,
        provider="stripe",
        method="card",
        status="succeeded",
        amount=paid.total_amount,
        currency=paid.currency,
        provider_payment_id="pi_1",
    )
    paid.status = "paid"
    paid.save(update_fields=["status"])
    return {"slot": slot, "held": held, "paid": paid}


def test_no_backoffice_form_has_a_button_named_like_one_of_its_fields(staff, busy_operator):
    slot, held, paid = busy_operator["slot"], busy_operator["held"], busy_operator["paid"]
    client = staff(Role.OWNER)
    pages = [
        "/backoffice/",
        "/backoffice/departures/",
        "/backoffice/departures/new/",
        f"/backoffice/departures/{slot.pk}/",
        "/backoffice/activities/",
        "/backoffice/reservations/",
        f"/backoffice/reservations/{held.code}/",
        f"/backoffice/reservations/{paid.code}/",
        "/backoffice/anomalies/",
        "/backoffice/team/",
        "/backoffice/panel/",
        "/backoffice/panel/mapping/",
        "/backoffice/panel/conflicts/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert button_field_collisions(response.content.decode()) == [], url
