"""The traveller's payment pages (a booking, and the change of a paid one), and the
providers' webhooks."""

from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import (
    HttpResponseClientRedirect,
    HttpResponseClientRefresh,
    HttpResponseStopPolling,
)

from booking.calendar_links import after_booking
from booking.models import Reservation, Slot
from payments.change_form import change_attempt
from payments.models import Method, Provider
from payments.panels import change_payment, payment_options_html
from payments.providers import (
    ProviderNotConfigured,
    change_options,
    payment_options,
    provider_for,
)
from payments.providers.base import (
    CheckoutUrls,
    InvalidWebhook,
    MalformedWebhook,
    ProviderError,
    ProviderNoAnswer,
)
from payments.services.changes import change_pending
from payments.services.checkout import PaymentNotPossible, payment_start
from payments.services.returns import payment_check_on_return
from payments.services.webhooks import payment_apply_webhook, webhook_reject, webhook_seen
from payments.traveller_state import PaymentShown, Shown, payment_shown
from tenants.actors import Actor, client_scope

# What the "not answering" page asks the browser to wait: it says "in a minute".
PROVIDER_RETRY_AFTER_SECONDS = 60


def _reservation(code: str) -> Reservation:
    return get_object_or_404(
        Reservation.objects.select_related("slot__activity").prefetch_related(
            "lines", "passengers"
        ),
        code=code,
    )


@require_POST
def pay(request: HttpRequest, code: str, change_id: int | None = None) -> HttpResponse:
    """Open a payment with the chosen provider and method, and send the traveller there: for
    a held reservation, or for the difference of its pending change (`change_id`)."""
    reservation = _reservation(code)
    change = None
    if change_id is not None:
        change = get_object_or_404(reservation.changes, pk=change_id)
    elif reservation.passengers_missing():
        # The reservation page asks for them before it offers the ways to pay.
        messages.error(request, _("Please tell us who is travelling first."))
        return redirect(reservation)
    choice = tuple(request.POST.get("pay", "").split(":", 1))
    offered = change_options if change else payment_options
    if choice not in offered(reservation.currency):
        return redirect(reservation)
    provider, method = choice
    if change is None:
        return_url = request.build_absolute_uri(reverse("payments:return", args=[code]))
        cancel_url = f"{return_url}?cancelled=1"
    else:
        return_url = cancel_url = request.build_absolute_uri(reservation.get_absolute_url())
    urls = CheckoutUrls(
        success=return_url,
        cancel=cancel_url,
        notification=request.build_absolute_uri(reverse("payments:webhook", args=[provider])),
    )
    try:
        intent = payment_start(
            reservation=reservation,
            provider=provider,
            method=method,
            urls=urls,
            actor=Actor.traveller(client_scope(request)),
            change=change,
        )
    except PaymentNotPossible:
        if change is not None:
            messages.error(request, _("This change can no longer be paid."))
        else:
            messages.error(request, _("This reservation can no longer be paid."))
        return redirect(reservation)
    except ProviderNoAnswer:
        return _provider_not_answering(request, reservation)
    except ProviderError:
        messages.error(
            request,
            _(
                "The payment provider is not answering. Please try again "
                "in a minute; nothing was charged."
            ),
        )
        return redirect(reservation)
    if provider == Provider.MERCADOPAGO and method == Method.PIX:
        target = reverse("payments:pix", args=[code, intent.pk])
    else:
        target = intent.checkout_url
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)


def _provider_not_answering(request: HttpRequest, reservation: Reservation) -> HttpResponse:
    """503 with Retry-After: the seats stay held, and the ways to pay are offered again. The
    attempt that went unanswered is left to the reconciler."""
    response = render(
        request,
        "payments/provider_unavailable.html",
        {"reservation": reservation, "choices": payment_options_html(request, reservation)},
        status=503,
    )
    response["Retry-After"] = str(PROVIDER_RETRY_AFTER_SECONDS)
    return response


def _payment_state(
    request: HttpRequest,
    reservation: Reservation,
    shown: PaymentShown,
    template: str,
    context: dict,
) -> HttpResponse:
    """The page, or for htmx its payment state box, polled while the state changes by itself
    (286 stops it). When the polled state is no longer the one the page shows (`?shown=`), a
    paid reservation moves on to its confirmation, and any other change reloads the page,
    which then offers what the new state allows."""
    context = {
        "reservation": reservation,
        "shown": shown,
        "on_pix_page": False,
        "hold_line": True,
        **context,
    }
    if not request.htmx:
        if shown.payable:
            context["choices"] = payment_options_html(request, reservation)
        return render(request, template, context)
    if shown.state == Shown.PAID:
        return HttpResponseClientRedirect(reverse("payments:confirmed", args=[reservation.code]))
    if request.GET.get("shown") != shown.state:
        return HttpResponseClientRefresh()
    response = render(request, "payments/_payment_state.html", context)
    if not shown.polled:
        response.status_code = HttpResponseStopPolling.status_code
    return response


def payment_return(request: HttpRequest, code: str) -> HttpResponse:
    """Where the provider sends the traveller back: by the checkout's success link, or by its
    cancel (failure) link, which adds `?cancelled=1`. Nothing else in the query string is
    read, and nothing in it marks anything paid: on landing, the provider's own API is asked
    about the latest attempt (and, on a cancel, the checkout is ended there first); the page
    shows what that answer and the webhooks recorded. Polls only read the database."""
    reservation = _reservation(code)
    if not request.htmx and reservation.status == Reservation.Status.HELD:
        payment_check_on_return(
            reservation=reservation,
            cancelled=request.GET.get("cancelled") == "1",
            actor=Actor.traveller(client_scope(request)),
        )
        reservation = _reservation(code)
    shown = payment_shown(reservation)
    if shown.state == Shown.PAID and not request.htmx:
        return redirect("payments:confirmed", code)
    poll_url = reverse("payments:return", args=[code])
    return _payment_state(
        request, reservation, shown, "payments/return.html", {"poll_url": poll_url}
    )


def pix(request: HttpRequest, code: str, intent_id: int) -> HttpResponse:
    """Our page for a Mercado Pago Pix code: waiting for the payer's bank (no spinner: the
    traveller has yet to pay), then the confirmation."""
    reservation = _reservation(code)
    intent = get_object_or_404(reservation.payment_intents, pk=intent_id, method=Method.PIX)
    shown = payment_shown(reservation, intent)
    if shown.state == Shown.PAID and not request.htmx:
        return redirect("payments:confirmed", code)
    # The hold's countdown sits in the polled box instead of the hold line.
    context = {"pix": intent, "poll_url": request.path, "on_pix_page": True, "hold_line": False}
    return _payment_state(request, reservation, shown, "payments/pix.html", context)


def change_status(request: HttpRequest, code: str, change_id: int) -> HttpResponse:
    """The pending change's box, polled while its payment is awaited; once the change is
    applied or dropped, the page is reloaded to show the booking as it is."""
    reservation = _reservation(code)
    change = get_object_or_404(reservation.changes, pk=change_id)
    if change_pending(reservation.pk) != change:
        return HttpResponseClientRefresh()
    return HttpResponse(change_payment(request, reservation))


# How far ahead a traveller may move their booking.
CHANGE_PICKER_DAYS = 120


@require_http_methods(["GET", "POST"])
def change(request: HttpRequest, code: str) -> HttpResponse:
    """The traveller changes their paid booking (anyone with its code, as for paying): other
    passengers, or another departure open for online booking of any activity sold in the
    booking's currency. A cheaper change is refunded at once, a dearer one paid on the
    booking's page."""
    reservation = _reservation(code)
    if not reservation.can_be_changed_by_traveller():
        messages.error(request, _("This booking can no longer be changed online."))
        return redirect(reservation)
    now = timezone.now()
    departures = (
        Slot.objects.bookable(now)
        .filter(
            activity__is_active=True,
            activity__rates__currency=reservation.currency,
            starts_at__lt=now + timedelta(days=CHANGE_PICKER_DAYS),
        )
        .distinct()
        .select_related("activity")
        .order_by("activity__position", "activity__name", "starts_at")
    )
    attempt = change_attempt(
        posted=request.POST if request.method == "POST" else None,
        reservation=reservation,
        departures=departures,
        actor=Actor.traveller(client_scope(request)),
    )
    if attempt.change is not None:
        messages.success(request, _changed(attempt.change))
        target = reservation.get_absolute_url()
        return HttpResponseClientRedirect(target) if request.htmx else redirect(target)
    template = "payments/change.html" + ("#change" if request.htmx else "")
    context = {"reservation": reservation, **attempt.context()}
    return render(request, template, context, status=attempt.status)


def _changed(change) -> str:
    if change.difference > 0:
        return _("We hold the seats for your change: pay the difference to confirm it.")
    if change.difference < 0:
        return _("Your booking was changed. We are refunding the difference.")
    return _("Your booking was changed.")


def confirmed(request: HttpRequest, code: str) -> HttpResponse:
    reservation = _reservation(code)
    if reservation.status != Reservation.Status.PAID:
        return redirect(reservation)
    operator = request.tenant
    after = after_booking(reservation, operator=operator, site=operator.site_url())
    return render(request, "payments/confirmed.html", {"reservation": reservation, "after": after})


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, provider: str) -> HttpResponse:
    """Verified before anything is parsed; recorded once per key made of signed or re-fetched
    facts; applied in one transaction. 400 for a bad signature or a body not in the provider's
    format (logged as rejected), 2xx for a duplicate, 503 when the provider must retry (its
    API did not answer our question)."""
    if provider not in Provider.values:
        raise Http404
    body = request.body
    try:
        gateway = provider_for(provider)
        verified = gateway.verify_webhook(body, request.headers, request.GET)
        if verified.event_id and webhook_seen(provider=provider, event_id=verified.event_id):
            return JsonResponse({"received": True, "duplicate": True})
        facts = gateway.webhook_facts(verified)
    except (InvalidWebhook, ProviderNotConfigured) as exc:
        webhook_reject(
            provider=provider,
            reason=str(exc) or type(exc).__name__,
            remote_addr=request.META.get("REMOTE_ADDR"),
            body=body,
        )
        malformed = isinstance(exc, MalformedWebhook)
        return HttpResponseBadRequest("malformed webhook" if malformed else "invalid signature")
    except ProviderError:
        return HttpResponse("provider unavailable, retry later", status=503)
    if not facts.event_id:  # nothing we record (a topic we never asked to be told about)
        return JsonResponse({"received": True, "duplicate": False, "outcome": "ignored"})
    if facts.event_id != verified.event_id and webhook_seen(
        provider=provider, event_id=facts.event_id
    ):
        return JsonResponse({"received": True, "duplicate": True})
    event, new = payment_apply_webhook(provider=provider, webhook=verified, facts=facts)
    return JsonResponse(
        {"received": True, "duplicate": not new, "outcome": event.outcome if event else "duplicate"}
    )
