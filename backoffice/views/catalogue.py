"""Activities and the prices of their passenger types."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from backoffice.common import actor, after_action, posted_id
from backoffice.forms import RateForm
from booking.catalogue import rate_set_price
from booking.models import Activity, Rate
from tenants.models import Role
from tenants.permissions import membership_require, staff_required


@staff_required
def activity_list(request: HttpRequest) -> HttpResponse:
    """Every activity with its rates; managers change a rate's price and limits in place."""
    invalid: dict[int, RateForm] = {}
    if request.method == "POST":
        membership_require(request.user, request.tenant, Role.MANAGER)
        rate = get_object_or_404(Rate, pk=posted_id(request, "rate"))
        form = RateForm(request.POST, prefix=f"rate{rate.pk}", currency=rate.currency)
        if form.is_valid():
            rate_set_price(
                rate_id=rate.pk,
                amount=form.cleaned_data["amount"],
                min_per_booking=form.cleaned_data["min_per_booking"],
                max_per_booking=form.cleaned_data["max_per_booking"],
                actor=actor(request),
            )
            messages.success(request, _("Price of %(rate)s saved.") % {"rate": rate})
            return after_action(request, request.path)
        invalid[rate.pk] = form
    activities = Activity.objects.prefetch_related("rates", "photos")
    rows = [
        (
            activity,
            [
                (
                    rate,
                    invalid.get(rate.pk)
                    or RateForm(
                        prefix=f"rate{rate.pk}",
                        currency=rate.currency,
                        initial={
                            "amount": rate.amount,
                            "min_per_booking": rate.min_per_booking,
                            "max_per_booking": rate.max_per_booking,
                        },
                    ),
                )
                for rate in activity.rates.all()
            ],
        )
        for activity in activities
    ]
    return render(
        request, "backoffice/activities.html", {"rows": rows}, status=400 if invalid else 200
    )
