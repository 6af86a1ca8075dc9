"""Find my booking: a traveller gives the reservation code and the e-mail it was booked with
and is taken to the booking's page, where they can see and cancel it.

A miss reads the same whichever half was wrong, runs the same queries, and counts against
the client's address and against the code: past their limits the page answers 429 with
Retry-After before looking anything up. The counters live in the database (LookupAttempts),
which every web worker shares. A match proves the e-mail for this browser's session, which
the cancellation asks for (`proven_email`)."""

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django import forms
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.db.models.functions import Greatest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from booking.models import LookupAttempts, Reservation
from tenants.actors import client_scope

# Misses allowed per window: per client address (someone trying codes), and per code
# (someone who knows a code trying e-mails, from many addresses).
WINDOW = timedelta(minutes=15)
MISSES_PER_CLIENT = 10
MISSES_PER_CODE = 5
FOUND_SESSION_KEY = "bookings_found"
MISS = _("There is no booking with that code and e-mail.")


def normalise_code(value: str) -> str:
    """What travellers type from a ticket or an e-mail: any case, spaces and dashes."""
    return re.sub(r"[\s\-]+", "", value).upper()


class FindForm(forms.Form):
    code = forms.CharField(
        label=_("Reservation code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    email = forms.EmailField(
        label=_("E-mail used for the booking"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )

    def clean_code(self) -> str:
        return normalise_code(self.cleaned_data["code"])


def client_address(request: HttpRequest) -> str:
    """The client's address: behind the production load balancer (which appends the address
    it saw to X-Forwarded-For), the last entry; elsewhere the socket's."""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if settings.SECURE_PROXY_SSL_HEADER and forwarded:
        return forwarded.rsplit(",", 1)[-1].strip()[:64]
    return request.META.get("REMOTE_ADDR", "")


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:64]


def _window(now: datetime) -> datetime:
    seconds = int(WINDOW.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=UTC)


@dataclass(frozen=True)
class Claim:
    keys: tuple[str, ...]
    window_start: datetime
    retry_after: int  # seconds; 0 when the lookup may go ahead


def lookup_claim(*, address: str, code: str, now: datetime | None = None) -> Claim:
    """Count one lookup against the client's address and the code, atomically (an upsert
    per key: concurrent requests cannot all pass at the limit). A lookup that finds the
    booking gives its count back (`lookup_give_back`), so only misses add up.

    Locks: the two counter rows, each for its own statement."""
    now = now or timezone.now()
    start = _window(now)
    limits = {_key("client", address): MISSES_PER_CLIENT, _key("code", code): MISSES_PER_CODE}
    table = LookupAttempts._meta.db_table
    over = False
    with connection.cursor() as cursor:
        for key, limit in limits.items():
            cursor.execute(
                f"INSERT INTO {table} (key, window_start, count) VALUES (%s, %s, 1) "
                "ON CONFLICT (key, window_start) "
                f"DO UPDATE SET count = {table}.count + 1 RETURNING count",
                [key, start],
            )
            over = over or cursor.fetchone()[0] > limit
    retry_after = int((start + WINDOW - now).total_seconds()) + 1 if over else 0
    return Claim(keys=tuple(limits), window_start=start, retry_after=retry_after)


def lookup_give_back(claim: Claim) -> None:
    """A lookup that found its booking, or that was refused without looking, does not
    count."""
    counters = LookupAttempts.objects.filter(key__in=claim.keys, window_start=claim.window_start)
    counters.update(count=Greatest(F("count") - 1, 0))
    counters.filter(count=0).delete()


def lookups_forget(*, now: datetime | None = None) -> int:
    """Drop the counters of windows long gone (on each miss: an indexed delete)."""
    before = _window(now or timezone.now()) - WINDOW
    return LookupAttempts.objects.filter(window_start__lt=before).delete()[0]


def remember_found(request: HttpRequest, reservation: Reservation, email: str) -> None:
    found = dict(request.session.get(FOUND_SESSION_KEY, {}))
    found[reservation.code] = email.strip().casefold()
    request.session[FOUND_SESSION_KEY] = found


def proven_email(request: HttpRequest, reservation: Reservation) -> str | None:
    """The booking's e-mail, if this browser proved it (find my booking) or made the booking;
    None otherwise."""
    email = request.session.get(FOUND_SESSION_KEY, {}).get(reservation.code)
    if email and email == reservation.contact_email.casefold():
        return email
    if reservation.client_scope == client_scope(request):
        return reservation.contact_email
    return None


@require_http_methods(["GET", "POST"])
def find_booking(request: HttpRequest) -> HttpResponse:
    """The form; a POST looks the booking up (code + e-mail) and goes to its page."""
    template = "booking/find.html" + ("#find" if request.htmx else "")
    if request.method == "GET":
        form = FindForm(initial={"code": normalise_code(request.GET.get("code", ""))[:40]})
        return render(request, template, {"form": form})
    form = FindForm(request.POST)
    if not form.is_valid():
        return render(request, template, {"form": form}, status=200 if request.htmx else 400)
    code, email = form.cleaned_data["code"], form.cleaned_data["email"]
    claim = lookup_claim(address=client_address(request), code=code)
    if claim.retry_after:
        lookup_give_back(claim)  # refused unlooked: it counts for nothing, and changes nothing
        form.add_error(None, _("Too many attempts. Please try again in a few minutes."))
        # htmx swaps only 2xx answers: its fragment carries the message instead.
        status = 200 if request.htmx else 429
        response = render(request, template, {"form": form}, status=status)
        response["Retry-After"] = str(claim.retry_after)
        return response
    reservation = Reservation.objects.filter(code=code, contact_email__iexact=email).first()
    if reservation is None:
        lookups_forget()  # the counters' upkeep grows with the misses, not with time
        form.add_error(None, MISS)  # an answer, not a refusal: the form again, with it
        return render(request, template, {"form": form})
    lookup_give_back(claim)
    remember_found(request, reservation, email)
    target = _next(request, reservation)
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)


def _next(request: HttpRequest, reservation: Reservation) -> str:
    """Where to go once found: the booking's page, or a page of its own the traveller was
    sent here from (`next`, e.g. its cancellation), never anywhere else."""
    home = reservation.get_absolute_url()
    wanted = request.GET.get("next", "")
    return wanted if wanted.startswith(home) and "\\" not in wanted else home
