"""Input from outside that the traveller's pages must refuse or ignore, never answer 500
(issue 8): days and months beyond the calendar."""

from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

USHUAIA = "America/Argentina/Ushuaia"  # Alpha's time zone


@pytest.mark.parametrize(
    "query",
    [
        "month=9999-12",
        "day=9999-12-31",
        "month=" + "9" * 36 + "-1",
        "day=0001-01-01",
        "month=0001-01",
        "from=0001-01-01",
        "activity=%C2%B2",
        "month=%C2%B2%C2%B2%C2%B2%C2%B2-01",
        "day=9999-12-31&month=2030-01",
    ],
)
def test_days_and_months_beyond_the_calendar_show_the_default_month(alpha_client, trip, query):
    activity, _ = trip
    response = alpha_client.get(f"/activities/{activity.slug}/?{query}")
    assert response.status_code == 200
    this_month = timezone.localdate(timezone=ZoneInfo(USHUAIA)).replace(day=1)
    calendar = response.context["calendar"]
    assert calendar.month == this_month or query.endswith("month=2030-01")
    assert response.context["departures"] == []
