"""The activity editor's forms: texts grouped by language (the operator's own language
required, the others optional), settings in minutes and hours, and rates whose prices are typed
the way the staff member's language writes numbers ("170.000,50" in Spanish, "170,000.50" in
English)."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from backoffice.forms import RateForm, in_language
from backoffice.prices import PriceField
from booking.activities import ActivityDraft, RateDraft, activity_settings
from booking.content import content_languages
from booking.models import ACTIVITY_TEXTS, Activity, PassengerData, Rate

LANGUAGE_NAMES = dict(settings.LANGUAGES)
TEXT_LABELS = {
    "name": _("Name"),
    "summary": _("Summary"),
    "description": _("Description"),
    "meeting_point": _("Meeting point"),
}


def text_field_name(field: str, language: str) -> str:
    return f"{field}_{language.replace('-', '_')}"


SETTINGS = (
    "duration_minutes",
    "booking_cutoff_minutes",
    "hold_minutes",
    "free_cancellation_hours",
    "late_refund_percent",
    "passenger_data",
)


class ActivityForm(forms.Form):
    """An activity's texts per language and its settings. The operator's own language is
    required: every other one falls back to it."""

    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=5, max_value=60 * 24 * 30
    )
    booking_cutoff_minutes = forms.IntegerField(
        label=_("Online booking closes (minutes before departure)"),
        min_value=0,
        max_value=60 * 24 * 60,
    )
    hold_minutes = forms.IntegerField(
        label=_("Hold time (minutes)"),
        min_value=1,
        max_value=24 * 60,
        required=False,
        help_text=_(
            "How long seats stay held while the traveller pays. Empty: the operator's setting."
        ),
    )
    free_cancellation_hours = forms.IntegerField(
        label=_("Free cancellation until (hours before departure)"),
        min_value=0,
        max_value=24 * 365,
        required=False,
        help_text=_("Empty: no free cancellation."),
    )
    late_refund_percent = forms.IntegerField(
        label=_("Refund after that (percent)"), min_value=0, max_value=100, initial=0
    )
    passenger_data = forms.ChoiceField(
        label=_("Details to collect for each passenger"),
        choices=PassengerData.choices,
        help_text=_("What travellers enter for each passenger after holding their seats."),
    )

    def __init__(self, *args, operator_language: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.operator_language = operator_language
        texts = {}
        for language in content_languages():
            for name in ACTIVITY_TEXTS:
                model_field = Activity._meta.get_field(name)
                required = language == operator_language and name in ("name", "meeting_point")
                texts[text_field_name(name, language)] = forms.CharField(
                    label=in_language(str(TEXT_LABELS[name]), language),
                    required=required,
                    max_length=model_field.max_length,
                    widget=forms.Textarea(attrs={"rows": 4}) if name == "description" else None,
                )
        self.fields = texts | self.fields
        self.fields["hold_minutes"].widget.attrs["placeholder"] = kwargs.get("initial", {}).get(
            "operator_hold_minutes", ""
        )

    @classmethod
    def for_activity(cls, activity: Activity | None, *, operator, data=None) -> "ActivityForm":
        initial = {
            "duration_minutes": 120,
            "booking_cutoff_minutes": 120,
            "late_refund_percent": 0,
            "passenger_data": PassengerData.NONE,
        }
        if activity is not None:
            initial = {
                text_field_name(name, language): text
                for name in ACTIVITY_TEXTS
                for language, text in activity.texts(name).items()
            } | activity_settings(activity)
        initial["operator_hold_minutes"] = operator.hold_minutes
        return cls(data, initial=initial, operator_language=operator.locale)

    def languages(self) -> list[dict]:
        """The text fields grouped by language, the operator's own first."""
        ordered = sorted(content_languages(), key=lambda code: code != self.operator_language)
        return [
            {
                "code": language,
                "name": LANGUAGE_NAMES[language],
                "required": language == self.operator_language,
                "fields": [self[text_field_name(name, language)] for name in ACTIVITY_TEXTS],
            }
            for language in ordered
        ]

    def settings_fields(self) -> list:
        return [self[name] for name in SETTINGS]

    def draft(self) -> ActivityDraft:
        data = self.cleaned_data
        return ActivityDraft(
            texts={
                name: {
                    language: data[text_field_name(name, language)].strip()
                    for language in content_languages()
                }
                for name in ACTIVITY_TEXTS
            },
            duration=timedelta(minutes=data["duration_minutes"]),
            booking_cutoff=timedelta(minutes=data["booking_cutoff_minutes"]),
            hold_minutes=data["hold_minutes"],
            free_cancellation_hours=data["free_cancellation_hours"],
            late_refund_percent=data["late_refund_percent"],
            passenger_data=data["passenger_data"],
        )


class RateEditForm(RateForm):
    """A rate's names per language (the operator's own required), price and limits."""

    def __init__(self, *args, currency: str, operator_language: str, **kwargs):
        super().__init__(*args, currency=currency, **kwargs)
        names = {
            text_field_name("name", language): forms.CharField(
                label=in_language(gettext("Name"), language),
                required=language == operator_language,
                max_length=Rate._meta.get_field("name").max_length,
            )
            for language in sorted(content_languages(), key=lambda code: code != operator_language)
        }
        self.fields = names | self.fields
        self.fields["amount"] = PriceField(currency=currency)

    @classmethod
    def for_rate(cls, rate: Rate | None, *, operator, data=None, prefix=None) -> "RateEditForm":
        initial = {"min_per_booking": 0, "max_per_booking": 20}
        if rate is not None:
            initial = {
                text_field_name("name", language): text
                for language, text in rate.texts("name").items()
            } | {
                "amount": rate.amount,
                "min_per_booking": rate.min_per_booking,
                "max_per_booking": rate.max_per_booking,
            }
        currency = rate.currency if rate is not None else operator.default_currency
        return cls(
            data,
            initial=initial,
            prefix=prefix,
            currency=currency,
            operator_language=operator.locale,
        )

    def draft(self) -> RateDraft:
        data = self.cleaned_data
        return RateDraft(
            names={
                language: data[text_field_name("name", language)].strip()
                for language in content_languages()
            },
            amount=data["amount"],
            min_per_booking=data["min_per_booking"],
            max_per_booking=data["max_per_booking"],
        )
