"""The period a report covers: this week, this month, the season, or a range of days the
staff chose, always whole days in the operator's time zone."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.days import local_day_bounds, validate_day

# A custom range is at most a year and a bit: a report is one screen, and its daily chart
# one bar a day.
MAX_DAYS = 400
# The season: the weeks behind and ahead of today that staff look back on and plan for.
SEASON_DAYS_BACK, SEASON_DAYS_AHEAD = 60, 60


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # included

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """The UTC instants where the period's first local day starts and its last ends."""
        return local_day_bounds(self.first, self.days)

    def each_day(self) -> list[date]:
        return [self.first + timedelta(days=offset) for offset in range(self.days)]

    def each_week(self) -> list[date]:
        """The Mondays of the weeks the period touches."""
        monday = self.first - timedelta(days=self.first.weekday())
        return [monday + timedelta(weeks=n) for n in range((self.last - monday).days // 7 + 1)]


class PeriodForm(forms.Form):
    """The period picker, read from the query string. Without one, this month."""

    WEEK, MONTH, SEASON, CUSTOM = "week", "month", "season", "custom"
    period = forms.ChoiceField(
        label=_("Period"),
        choices=[
            (WEEK, _("This week")),
            (MONTH, _("This month")),
            (SEASON, _("Season (60 days back, 60 ahead)")),
            (CUSTOM, _("Custom range")),
        ],
        required=False,
    )
    first = forms.DateField(
        label=_("From"),
        required=False,
        validators=[validate_day],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    last = forms.DateField(
        label=_("Until"),
        required=False,
        validators=[validate_day],
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("period") != self.CUSTOM:
            return cleaned
        first, last = cleaned.get("first"), cleaned.get("last")
        for name in ("first", "last"):
            if cleaned.get(name) is None and name not in self.errors:
                self.add_error(name, _("A custom range needs both days."))
        if first and last:
            if last < first:
                self.add_error("last", _("The range must end after it starts."))
            elif (last - first).days >= MAX_DAYS:
                self.add_error("last", _("At most %(days)d days at a time.") % {"days": MAX_DAYS})
        return cleaned

    def period_chosen(self, today: date | None = None) -> Period:
        """The period of a valid form (today in the operator's time zone)."""
        today = today or timezone.localdate()
        data = self.cleaned_data
        match data.get("period") or self.MONTH:
            case self.WEEK:
                monday = today - timedelta(days=today.weekday())
                return Period(monday, monday + timedelta(days=6))
            case self.SEASON:
                return Period(
                    today - timedelta(days=SEASON_DAYS_BACK),
                    today + timedelta(days=SEASON_DAYS_AHEAD),
                )
            case self.CUSTOM:
                return Period(data["first"], data["last"])
            case _:
                first = today.replace(day=1)
                following = (first + timedelta(days=32)).replace(day=1)
                return Period(first, following - timedelta(days=1))
