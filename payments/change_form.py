"""The change form's round trip, shared by the staff's page (backoffice) and the traveller's
(payments.views): the departure picker, the counts of the chosen departure's activity, the
preview of the difference, and the change itself, priced again on the server each time."""

from dataclasses import dataclass

from django.http import QueryDict
from django.utils.translation import gettext as _

from booking.changes import ChangeQuote, change_quote
from booking.errors import BookingError
from booking.forms import ChangeForm
from booking.models import Reservation, ReservationChange, Slot
from payments.services.changes import booking_change
from tenants.actors import Actor


@dataclass
class ChangeAttempt:
    form: ChangeForm
    chosen: Slot
    quote: ChangeQuote | None = None
    change: ReservationChange | None = None
    refusal: str = ""
    status: int = 200

    def context(self) -> dict:
        """What the form's template (booking/_change_form.html) reads."""
        return {
            "form": self.form,
            "chosen": self.chosen,
            "quote": self.quote,
            "refusal": self.refusal,
        }


def change_attempt(
    *, posted: QueryDict | None, reservation: Reservation, departures, actor: Actor
) -> ChangeAttempt:
    """GET (`posted` None): the form. A POST without a button (the picker changed, under
    htmx): the form for the chosen departure's activity, unbound. `preview`: the quote.
    `confirm`: the change (payments.services.changes.booking_change)."""
    posted = posted or QueryDict()
    chosen = departures.filter(pk=_id(posted.get("slot"))).first() or reservation.slot
    data = posted if "preview" in posted or "confirm" in posted else None
    form = ChangeForm(
        data,
        departures=departures,
        reservation=reservation,
        rates=list(chosen.activity.rates.all()),
        chosen=chosen,
    )
    attempt = ChangeAttempt(form=form, chosen=chosen)
    if reservation.status != Reservation.Status.PAID:
        attempt.refusal = _("Only a paid booking can be changed.")
        attempt.status = 409
    elif form.is_bound and not form.is_valid():
        attempt.status = 400
    elif form.is_bound:
        try:
            attempt.quote = change_quote(
                reservation=reservation,
                to_slot=form.cleaned_data["slot"],
                quantities=form.quantities(),
            )
            if "confirm" in posted:
                attempt.change = booking_change(quote=attempt.quote, actor=actor)
        except BookingError as exc:
            form.add_error(None, exc.message)
            attempt.quote, attempt.status = None, 409
    return attempt


def _id(value: str | None) -> int | None:
    if not value or not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return int(value)
