from datetime import time

from babel import Locale
from django import forms
from django.conf import settings
from django.utils.translation import get_language, gettext, to_locale
from django.utils.translation import gettext_lazy as _

from backoffice.prices import PriceField
from booking.content import content_languages
from booking.days import validate_day
from booking.images import MAX_UPLOAD_BYTES, ImageRefused, prepare_photo
from booking.models import Activity, ActivityPhoto, Reservation
from panel_sync.models import DEFAULT_SYNC_WINDOW_DAYS

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]
MAX_RECURRING_DAYS = 370


class RecurringDeparturesForm(forms.Form):
    """Weekdays x times x date range x capacity, created in one transaction."""

    activity = forms.ModelChoiceField(queryset=Activity.objects.all(), label=_("Activity"))
    first_day = forms.DateField(
        label=_("From"), validators=[validate_day], widget=forms.DateInput(attrs={"type": "date"})
    )
    last_day = forms.DateField(
        label=_("Until"), validators=[validate_day], widget=forms.DateInput(attrs={"type": "date"})
    )
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, label=_("Weekdays"), widget=forms.CheckboxSelectMultiple
    )
    times = forms.CharField(
        label=_("Departure times"), help_text=_("Local times, separated by commas: 09:00, 15:30")
    )
    capacity = forms.IntegerField(label=_("Seats per departure"), min_value=1, max_value=1000)

    def clean_times(self) -> list[time]:
        parsed = []
        for part in self.cleaned_data["times"].split(","):
            try:
                parsed.append(time.fromisoformat(part.strip()))
            except ValueError as exc:
                raise forms.ValidationError(
                    _("“%(value)s” is not a time like 09:30."), params={"value": part.strip()}
                ) from exc
        return sorted(set(parsed))

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("first_day"), cleaned.get("last_day")
        if first and last:
            if last < first:
                self.add_error("last_day", _("The range must end after it starts."))
            elif (last - first).days > MAX_RECURRING_DAYS:
                self.add_error("last_day", _("At most one year at a time."))
        return cleaned


class CapacityForm(forms.Form):
    capacity = forms.IntegerField(label=_("Seats"), min_value=0, max_value=1000)


class RateForm(forms.Form):
    """A rate's price, typed as the staff member's language writes numbers (PriceField: in
    the currency's major units, cleaned to minor units), and its limits per booking."""

    min_per_booking = forms.IntegerField(label=_("Min per booking"), min_value=0, max_value=100)
    max_per_booking = forms.IntegerField(label=_("Max per booking"), min_value=1, max_value=100)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = {"amount": PriceField(currency=currency, label=_("Price"))} | self.fields

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("min_per_booking"), cleaned.get("max_per_booking")
        if low is not None and high is not None and low > high:
            self.add_error("max_per_booking", _("The maximum must not be below the minimum."))
        return cleaned


class ReservationFilterForm(forms.Form):
    q = forms.CharField(label=_("Code, name or e-mail"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any"))] + Reservation.Status.choices
    )
    day = forms.DateField(
        label=_("Departure day"),
        required=False,
        validators=[validate_day],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    activity = forms.ModelChoiceField(
        label=_("Activity"), required=False, queryset=Activity.objects.all(), empty_label=_("Any")
    )


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount to refund"), min_value=0, max_digits=12, decimal_places=2
    )
    reason = forms.CharField(label=_("Reason"), max_length=240, required=False)


class PanelConnectionForm(forms.Form):
    """The operator's panel connection (its API key is in the operator's secret, not here)."""

    base_url = forms.URLField(
        label=_("Panel address (OCTO API)"),
        max_length=200,
        assume_scheme="https",
        help_text=_(
            "The base address of the panel's OCTO API, e.g. https://api.panel.example/octo"
        ),
    )
    enabled = forms.BooleanField(
        label=_("Sync with the panel"),
        required=False,
        help_text=_("Off: nothing is pulled from or pushed to the panel."),
    )
    sync_window_days = forms.IntegerField(label=_("Days ahead to sync"), min_value=1, max_value=366)
    stale_after_minutes = forms.IntegerField(
        label=_("Stop selling online after (minutes without news from the panel)"),
        min_value=1,
        max_value=7 * 24 * 60,
        required=False,
        help_text=_("Empty: keep selling from the last known seats while the panel is down."),
    )

    @classmethod
    def for_connection(cls, panel, data=None) -> "PanelConnectionForm":
        initial = {"enabled": True, "sync_window_days": DEFAULT_SYNC_WINDOW_DAYS}
        if panel is not None:
            initial = {
                "base_url": panel.base_url,
                "enabled": panel.enabled,
                "sync_window_days": panel.sync_window_days,
                "stale_after_minutes": panel.stale_after_minutes,
            }
        return cls(data, initial=initial)


class PhotoUploadForm(forms.Form):
    """A photo for an activity's gallery, checked and resized (booking.images) as it is
    cleaned: `prepared` holds the result."""

    image = forms.FileField(
        label=_("Photo"),
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    alt = forms.CharField(
        label=_("Description"),
        help_text=_("What the photo shows, read aloud to travellers who cannot see it."),
        max_length=ActivityPhoto._meta.get_field("alt").max_length,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["image"].help_text = gettext("JPEG, PNG or WebP, up to %(size)d MB.") % {
            "size": MAX_UPLOAD_BYTES // 2**20
        }

    def clean_image(self):
        upload = self.cleaned_data["image"]
        try:
            self.prepared = prepare_photo(upload)
        except ImageRefused as refused:
            raise forms.ValidationError(refused.message, code="not_a_photo") from refused
        return upload


def in_language(label: str, language: str) -> str:
    """ "Nombre en portugués (Brasil)", "Name in Portuguese (Brazil)": the label of a text
    written in one of the content languages, the language named as the reader's language
    writes it mid-sentence (CLDR's names: lower case in Spanish and Portuguese)."""
    reader = to_locale(get_language() or settings.LANGUAGE_CODE)
    name = Locale.parse(to_locale(language)).get_display_name(reader)
    return gettext("%(label)s in %(language)s") % {"label": label, "language": name}


def alt_field_name(language: str) -> str:
    return f"alt_{language.replace('-', '_')}"


class PhotoAltForm(forms.Form):
    """A photo's description in each content language, the operator's own first; a missing
    one falls back to the operator's."""

    def __init__(self, *args, operator_language: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.languages = sorted(content_languages(), key=lambda code: code != operator_language)
        for language in self.languages:
            self.fields[alt_field_name(language)] = forms.CharField(
                label=in_language(gettext("Description"), language),
                max_length=ActivityPhoto._meta.get_field("alt").max_length,
                required=False,
            )

    @classmethod
    def for_photo(cls, photo: ActivityPhoto, *, operator, data=None) -> "PhotoAltForm":
        initial = {alt_field_name(language): text for language, text in photo.texts("alt").items()}
        return cls(
            data, prefix=f"photo{photo.pk}", initial=initial, operator_language=operator.locale
        )

    def texts(self) -> dict[str, str]:
        return {
            language: self.cleaned_data[alt_field_name(language)].strip()
            for language in self.languages
        }
