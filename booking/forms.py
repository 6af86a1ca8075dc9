import hashlib
import json

from django import forms
from django.core.validators import RegexValidator
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.countries import country_choices
from booking.days import validate_day
from booking.errors import BookingError, NotEnoughSeats
from booking.models import IdempotencyKey, Passenger, Rate, Reservation, Seat, Slot
from booking.passengers import PassengerDetails
from booking.services import Contact, PricedLine, reservation_price


def _max_length(model, field: str) -> int:
    return model._meta.get_field(field).max_length


KEY_MAX_LENGTH = _max_length(IdempotencyKey, "key")


class HoldForm(forms.Form):
    """Passenger counts per rate and the contact details. Prices come from the rates on the
    server; the form never carries an amount. Every text is held to its column's length.

    The idempotency key is the form's hidden field, or the request's `Idempotency-Key` header
    (`idempotency_header`), which wins when both are given."""

    contact_name = forms.CharField(
        label=_("Full name"),
        max_length=_max_length(Reservation, "contact_name"),
        widget=forms.TextInput(attrs={"autocomplete": "name", "autocapitalize": "words"}),
    )
    contact_email = forms.EmailField(
        label=_("E-mail"),
        max_length=_max_length(Reservation, "contact_email"),
        widget=forms.EmailInput(
            attrs={"autocomplete": "email", "autocapitalize": "off", "spellcheck": "false"}
        ),
    )
    contact_phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=_max_length(Reservation, "contact_phone"),
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    idempotency_key = forms.CharField(
        widget=forms.HiddenInput, max_length=KEY_MAX_LENGTH, required=False
    )

    def __init__(self, *args, rates: list[Rate], idempotency_header: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.rates = rates
        self.idempotency_header = idempotency_header
        self.lines: list[PricedLine] = []
        self.seats_limit = ""  # the live total's "only N seats left" (QuoteForm)
        for rate in rates:
            self.fields[self.rate_field(rate)] = forms.IntegerField(
                label=rate.name_i18n,
                min_value=0,
                max_value=rate.max_per_booking,
                initial=rate.min_per_booking,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "count"}),
            )

    @staticmethod
    def rate_field(rate: Rate) -> str:
        return f"rate_{rate.pk}"

    def rate_fields(self):
        return [(rate, self[self.rate_field(rate)]) for rate in self.rates]

    def quantities(self) -> dict[int, int]:
        return {
            rate.pk: self.cleaned_data.get(self.rate_field(rate)) or 0
            for rate in self.rates
            if self.rate_field(rate) in self.cleaned_data
        }

    def clean(self):
        cleaned = super().clean()
        header = self.idempotency_header
        if header is not None and (len(header) > KEY_MAX_LENGTH or not header.isprintable()):
            self.add_error(
                None,
                _(
                    "The request's Idempotency-Key header is not usable: it must be at most "
                    "%(max)d printable characters."
                )
                % {"max": KEY_MAX_LENGTH},
            )
        if all(self.rate_field(rate) in cleaned for rate in self.rates):
            try:
                self.lines = reservation_price(rates=self.rates, quantities=self.quantities())
            except BookingError as exc:
                self.add_error(None, exc.message)
        return cleaned

    def effective_idempotency_key(self) -> str:
        return self.idempotency_header or self.cleaned_data["idempotency_key"]

    def contact(self) -> Contact:
        data = self.cleaned_data
        return Contact(
            name=data["contact_name"].strip(),
            email=data["contact_email"].strip().lower(),
            phone=data["contact_phone"].strip(),
        )

    def fingerprint(self, slot_id: int) -> str:
        """What the request asks for, so a reused idempotency key with another request is told
        apart from a replay."""
        contact = self.contact()
        payload = {
            "slot": slot_id,
            "quantities": sorted(self.quantities().items()),
            "contact": [contact.name, contact.email, contact.phone],
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def counts_stepped(data: QueryDict, rates: list[Rate]) -> QueryDict:
    """The posted counts with one rate's count moved by its stepper's − (`fewer`) or +
    (`more`) button, kept between 0 and the rate's maximum: the steppers without JavaScript.
    A button naming no rate of this departure changes nothing."""
    step = 1 if "more" in data else -1
    name = data.get("more" if step > 0 else "fewer")
    rate = next((rate for rate in rates if HoldForm.rate_field(rate) == name), None)
    if rate is None:
        return data
    try:
        count = int(data.get(name) or 0)
    except ValueError:
        count = 0
    stepped = data.copy()
    stepped[name] = str(max(0, min(count + step, rate.max_per_booking)))
    return stepped


class QuoteForm(HoldForm):
    """The live total: only the passenger counts matter. More passengers than the departure
    has seats left says so before the traveller submits, in the words the hold refuses them
    with (NotEnoughSeats); the hold itself still counts the seats under its lock."""

    def __init__(self, *args, seats_left: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.seats_left = seats_left
        for name in ("contact_name", "contact_email", "contact_phone"):
            self.fields[name].required = False

    def clean(self):
        cleaned = super().clean()
        seats = sum(line.quantity for line in self.lines)
        if self.seats_left is not None and seats > self.seats_left:
            self.seats_limit = NotEnoughSeats(self.seats_left).message
            self.lines = []
        return cleaned


# Passports, national identity cards (DNI 12.345.678, RG 12.345.678-9, CPF 123.456.789-09):
# letters and digits, with the dots, dashes, slashes and spaces people type between them.
document_number_validator = RegexValidator(
    r"^[0-9A-Za-z](?:[0-9A-Za-z./ -]*[0-9A-Za-z])?$",
    _("Use the letters and digits of the document (dots, dashes and spaces may separate them)."),
)


class PassengerForm(forms.Form):
    """One seat's passenger, with the fields its activity asks for."""

    # Each passenger is someone else: the browser's own name, country or birthday would be
    # wrong on every seat but one, so nothing is autofilled ("off"); passports have letters.
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=_max_length(Passenger, "full_name"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "words"}),
    )
    document_number = forms.CharField(
        label=_("Document number"),
        max_length=_max_length(Passenger, "document_number"),
        validators=[document_number_validator],
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    nationality = forms.ChoiceField(
        label=_("Nationality"), widget=forms.Select(attrs={"autocomplete": "off"})
    )
    birth_date = forms.DateField(
        label=_("Date of birth"),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "off"}, format="%Y-%m-%d"),
        validators=[validate_day],
    )

    def __init__(self, *args, seat: Seat, reservation: Reservation, **kwargs):
        super().__init__(*args, **kwargs)
        self.seat = seat
        activity = reservation.slot.activity
        if activity.asks_for_documents:
            self.fields["nationality"].choices = [("", "—"), *country_choices()]
        else:
            del self.fields["document_number"], self.fields["nationality"]
        if not activity.asks_for_birth_date:
            del self.fields["birth_date"]

    def clean_birth_date(self):
        born = self.cleaned_data["birth_date"]
        if born >= timezone.localdate():
            raise forms.ValidationError(_("The date of birth must be in the past."))
        return born

    def details(self) -> PassengerDetails:
        data = self.cleaned_data
        return PassengerDetails(
            rate_id=self.seat.rate_id,
            full_name=" ".join(data["full_name"].split()),
            document_number=data.get("document_number", "").strip().upper(),
            nationality=data.get("nationality", ""),
            birth_date=data.get("birth_date"),
        )


class PassengersForm:
    """A PassengerForm per seat of a reservation (lines, passengers prefetched; slot and
    activity selected), filled with the passengers entered before. The seats come from the
    reservation on the server, never from the request."""

    def __init__(self, reservation: Reservation, data=None):
        entered = {passenger.position: passenger for passenger in reservation.passengers.all()}
        self.forms = []
        for position, seat in enumerate(reservation.seat_list(), start=1):
            passenger = entered.get(position)
            initial = None
            if passenger is not None and passenger.rate_id == seat.rate_id:
                initial = {
                    "full_name": passenger.full_name,
                    "document_number": passenger.document_number,
                    "nationality": passenger.nationality,
                    "birth_date": passenger.birth_date,
                }
            self.forms.append(
                PassengerForm(
                    data,
                    prefix=f"passenger-{position}",
                    seat=seat,
                    reservation=reservation,
                    initial=initial,
                )
            )

    def __iter__(self):
        return iter(self.forms)

    def is_valid(self) -> bool:
        valid = [form.is_valid() for form in self.forms]  # every form, for all its errors
        return all(valid)

    def details(self) -> list[PassengerDetails]:
        return [form.details() for form in self.forms]


class ChangeForm(forms.Form):
    """A booking's new departure and passenger counts, one field per rate of the chosen
    departure's activity (prices come from the rates on the server; never posted)."""

    slot = forms.ModelChoiceField(queryset=Slot.objects.none(), label=_("Departure"))

    def __init__(
        self, *args, departures, reservation: Reservation, rates: list, chosen: Slot, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.fields["slot"].queryset = departures
        self.fields["slot"].initial = chosen.pk
        current = {line.rate_id: line.quantity for line in reservation.lines.all()}
        self.rates = rates
        for rate in rates:
            self.fields[f"rate_{rate.pk}"] = forms.IntegerField(
                label=rate.name_i18n,
                min_value=0,
                max_value=rate.max_per_booking,
                initial=current.get(rate.pk, 0),
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "count"}),
            )

    def rate_fields(self):
        return [(rate, self[f"rate_{rate.pk}"]) for rate in self.rates]

    def quantities(self) -> dict[int, int]:
        return {rate.pk: self.cleaned_data[f"rate_{rate.pk}"] for rate in self.rates}
