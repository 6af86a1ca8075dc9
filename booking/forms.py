import hashlib
import json

from django import forms
from django.utils.translation import gettext_lazy as _

from booking.errors import BookingError
from booking.models import Rate
from booking.services import Contact, PricedLine, reservation_price


class HoldForm(forms.Form):
    """Passenger counts per rate and the contact details. Prices come from the rates on the
    server; the form never carries an amount."""

    contact_name = forms.CharField(label=_("Full name"), max_length=120)
    contact_email = forms.EmailField(label=_("E-mail"))
    contact_phone = forms.CharField(label=_("Phone (optional)"), max_length=40, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=255, required=False)

    def __init__(self, *args, rates: list[Rate], **kwargs):
        super().__init__(*args, **kwargs)
        self.rates = rates
        self.lines: list[PricedLine] = []
        for rate in rates:
            self.fields[self.rate_field(rate)] = forms.IntegerField(
                label=rate.name,
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
        if all(self.rate_field(rate) in cleaned for rate in self.rates):
            try:
                self.lines = reservation_price(rates=self.rates, quantities=self.quantities())
            except BookingError as exc:
                self.add_error(None, exc.message)
        return cleaned

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


class QuoteForm(HoldForm):
    """The live total: only the passenger counts matter."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("contact_name", "contact_email", "contact_phone"):
            self.fields[name].required = False
