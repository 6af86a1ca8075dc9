"""The traveller's forms on a phone: the keyboard and autofill each field asks for, and the
booking form's passenger steppers without JavaScript: each − or + button posts the form, which
comes back with that count moved (within 0 and the rate's maximum), priced, and with everything
else the traveller typed. Nothing is held until "Hold my seats"."""

import re

import pytest

from booking.models import PassengerData, Reservation
from tests.factories import book_data, local
from tests.html_forms import form_with

HOLD = "Hold my seats"


def page_form(client, slot, body: str | None = None):
    html = body if body is not None else client.get(f"/departures/{slot.pk}/book/").content
    return form_with(html if isinstance(html, str) else html.decode(), button=HOLD)


def press(client, slot, form, button: str, **typed: str):
    response = client.post(f"/departures/{slot.pk}/book/", form.submission(button, **typed))
    assert response.status_code == 200
    return response.content.decode()


def counts(form, slot) -> tuple[str, str]:
    adult, child = slot.activity.rates.all()
    values = {control.name: control.value for control in form.fields}
    return values[f"rate_{adult.pk}"], values[f"rate_{child.pk}"]


def test_plus_and_minus_move_one_count_and_keep_what_was_typed(alpha_client, trip):
    _, slot = trip
    form = page_form(alpha_client, slot)
    assert counts(form, slot) == ("0", "0")

    body = press(alpha_client, slot, form, "+ Adult, more", contact_name="Ana Viajera")
    form = page_form(alpha_client, slot, body)
    assert counts(form, slot) == ("1", "0")
    assert 'value="Ana Viajera"' in body
    assert "10,000.00" in body  # priced on the server, as the live total is

    body = press(alpha_client, slot, form, "+ Child, more")
    form = page_form(alpha_client, slot, body)
    body = press(alpha_client, slot, form, "+ Adult, more")
    form = page_form(alpha_client, slot, body)
    assert counts(form, slot) == ("2", "1")
    assert "25,000.00" in body

    body = press(alpha_client, slot, form, "− Adult, fewer")
    assert counts(page_form(alpha_client, slot, body), slot) == ("1", "1")
    assert not Reservation.objects.exists()


@pytest.mark.parametrize(
    ("typed", "button", "expected"),
    [
        ("0", "− Adult, fewer", "0"),  # never below none
        ("10", "+ Adult, more", "10"),  # never above the rate's maximum
        ("99", "− Adult, fewer", "10"),
        ("two", "+ Adult, more", "1"),  # what is not a number counts as none
    ],
)
def test_a_count_stays_within_the_rates_limits(alpha_client, trip, typed, button, expected):
    _, slot = trip
    adult = slot.activity.rates.get(code="adult")
    form = page_form(alpha_client, slot)
    body = press(alpha_client, slot, form, button, **{f"rate_{adult.pk}": typed})
    assert counts(page_form(alpha_client, slot, body), slot)[0] == expected


def test_a_stepper_naming_no_rate_of_the_departure_changes_nothing(alpha_client, trip):
    _, slot = trip
    adult, _child = slot.activity.rates.all()
    data = {f"rate_{adult.pk}": "2", "more": "rate_999999", "idempotency_key": "k"}
    response = alpha_client.post(f"/departures/{slot.pk}/book/", data)
    assert response.status_code == 200
    assert counts(page_form(alpha_client, slot, response.content.decode()), slot)[0] == "2"


def test_steppers_are_named_for_screen_readers_and_return_to_their_row(alpha_client, trip):
    _, slot = trip
    body = alpha_client.get(f"/departures/{slot.pk}/book/").content.decode()
    adult = slot.activity.rates.get(code="adult")
    field = f"id_rate_{adult.pk}"
    assert '<span class="visually-hidden">Adult, fewer</span>' in body
    assert '<span class="visually-hidden">Adult, more</span>' in body
    assert f'aria-controls="{field}"' in body
    assert f'formaction="/departures/{slot.pk}/book/#{field}"' in body
    # The hold itself posts to the page without the row's fragment.
    assert f'action="/departures/{slot.pk}/book/"' in body


def test_fields_ask_for_the_right_keyboard_and_autofill(alpha_client, trip):
    _, slot = trip
    body = alpha_client.get(f"/departures/{slot.pk}/book/").content.decode()
    assert 'type="text" name="contact_name"' in body and 'autocomplete="name"' in body
    assert 'type="email" name="contact_email"' in body and 'autocomplete="email"' in body
    assert 'type="tel" name="contact_phone"' in body and 'autocomplete="tel"' in body
    assert 'inputmode="tel"' in body
    assert body.count('type="number"') == body.count('inputmode="numeric"') == 2


def test_passenger_fields_are_not_filled_with_the_browsers_own_details(
    alpha_client, make_activity, make_slot
):
    activity = make_activity("documented", passenger_data=PassengerData.DOCUMENT_BIRTH)
    slot = make_slot(activity, capacity=4, starts_at=local(3, 10))
    response = alpha_client.post(f"/departures/{slot.pk}/book/", book_data(slot, 1, 0))
    body = alpha_client.get(response["Location"]).content.decode()
    for name in ("full_name", "document_number", "birth_date", "nationality"):
        tag = re.search(rf'<(input|select)[^>]*name="passenger-1-{name}"[^>]*>', body)
        assert tag and 'autocomplete="off"' in tag[0], name
    assert re.search(r'<input type="date"[^>]*name="passenger-1-birth_date"', body)
    assert 'autocapitalize="characters"' in body
