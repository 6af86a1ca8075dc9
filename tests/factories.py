"""Test data builders: the one place tests import data from (fixtures stay in conftest.py
files and are requested by name). Builders that touch the database run on the schema in use.
"""

import hashlib
import hmac
import io
import json
import time
import uuid
from datetime import datetime, timedelta
from datetime import time as clock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from booking.catalogue import RateSpec, activity_upsert
from booking.images import prepare_photo
from booking.models import Activity, ActivityPhoto, Rate, Reservation, Slot
from booking.photos import photo_add
from booking.services import Contact, PricedLine, reservation_hold
from payments.models import PaymentIntent
from tenants.actors import Actor
from tenants.models import Membership, Operator, Role, StaffUser

ALPHA_HOST = "alpha.localhost"
BETA_HOST = "beta.localhost"

# Each operator's credentials, as Secrets Manager holds them (see the `operator_secrets`
# fixture).
ALPHA_SECRETS = {
    "stripe": {
        "secret_key": "sk_test_alpha",
        "webhook_secrets": ["whsec_alpha_new", "whsec_alpha_old"],
    },
    "mercadopago": {"access_token": "TEST-alpha-token", "webhook_secret": "mp-alpha-secret"},
}
BETA_SECRETS = {
    "stripe": {"secret_key": "sk_test_beta", "webhook_secrets": ["whsec_beta"]},
    "mercadopago": {"access_token": "TEST-beta-token", "webhook_secret": "mp-beta-secret"},
}


# Who acts (every service that changes data names its actor)

SYSTEM = Actor.system("test")


def traveller(scope: str = "client-1") -> Actor:
    """A traveller's browser; `hold` holds seats for the scope "client-1" by default."""
    return Actor.traveller(scope)


def provider(name: str = "stripe webhook") -> Actor:
    """A provider's verified word (a webhook, or its API's answer)."""
    return Actor.provider(name)


def staff(role: str = Role.OWNER, email: str | None = None, operator: Operator | None = None):
    """A staff member of `operator` (by default the one whose schema is in use) with `role`,
    as a view hands it to a service after checking the membership (nothing is written)."""
    from django.db import connection

    operator = operator or Operator.objects.get(schema_name=connection.schema_name)
    email = email or f"{role}@{operator.schema_name}.example"
    user = StaffUser(sub=email, email=email)
    return Actor.staff(Membership(user=user, operator=operator, role=role))


# Booking


def activity(slug: str = "boat", **overrides) -> Activity:
    """A two-hour trip with an adult and a child rate (ARS), created or brought back."""
    fields = {
        "slug": slug,
        "name": f"Trip {slug}",
        "summary": "A trip",
        "description": "A trip on the water.",
        "duration": timedelta(hours=2),
        "meeting_point": "Pier 1",
        "currency": "ARS",
        "rates": [
            RateSpec("adult", "Adult", 10_000_00, min_per_booking=0, max_per_booking=10),
            RateSpec("child", "Child", 5_000_00, max_per_booking=10),
        ],
    } | overrides
    return activity_upsert(actor=SYSTEM, **fields)


def slot(
    of: Activity | None = None, *, capacity: int = 10, starts_at: datetime | None = None, **fields
) -> Slot:
    """A departure (of the "boat" trip unless told otherwise) in three days."""
    of = of or Activity.objects.filter(slug="boat").first() or activity()
    starts_at = starts_at or timezone.now() + timedelta(days=3)
    return Slot.objects.create(activity=of, starts_at=starts_at, capacity=capacity, **fields)


def adult_rate(departure: Slot) -> Rate:
    return departure.activity.rates.get(code="adult")


def hold(
    departure: Slot,
    seats: int = 1,
    *,
    scope: str = "client-1",
    now: datetime | None = None,
    **kwargs,
) -> Reservation:
    """Hold `seats` adult seats through the service, as the booking page would."""
    return reservation_hold(
        slot_id=departure.pk,
        lines=[PricedLine(rate=adult_rate(departure), quantity=seats)],
        contact=Contact(name="Ana Viajera", email="ana@example.com"),
        actor=Actor.traveller(scope),
        language="es",
        now=now,
        **kwargs,
    )


def local(day_offset: int, hour: int) -> datetime:
    """`hour` o'clock, `day_offset` days from today, in the current time zone."""
    zone = timezone.get_current_timezone()
    day = timezone.localdate() + timedelta(days=day_offset)
    return datetime.combine(day, clock(hour), tzinfo=zone)


def book_data(departure: Slot, adults=2, children=1, key="key-1", **extra) -> dict:
    """The booking form as a traveller fills it in."""
    adult, child = departure.activity.rates.all()
    return {
        f"rate_{adult.pk}": adults,
        f"rate_{child.pk}": children,
        "contact_name": "Ana Viajera",
        "contact_email": "Ana@Example.com",
        "contact_phone": "+54 9 2901 000000",
        "idempotency_key": key,
        "hold": "1",
    } | extra


def change_data(departure: Slot, adults=0, children=0, **buttons) -> dict:
    """The change form (backoffice's and the traveller's) as posted: a departure, counts."""
    adult, child = departure.activity.rates.all()
    return {
        "slot": departure.pk,
        f"rate_{adult.pk}": adults,
        f"rate_{child.pk}": children,
    } | buttons


# Payments: provider objects and webhooks signed with the providers' real schemes


def stripe_intent(reservation: Reservation, reference: str, **fields) -> PaymentIntent:
    """A pending card payment of the whole reservation at Stripe, whose Checkout Session is
    `reference`."""
    defaults = {
        "provider": "stripe",
        "method": "card",
        "status": "pending",
        "amount": reservation.total_amount,
        "currency": reservation.currency,
        "provider_reference": reference,
    }
    return PaymentIntent.objects.create(reservation=reservation, **(defaults | fields))


def paid_by_card(reservation: Reservation, payment_id: str = "pi_1") -> Reservation:
    """A held reservation paid in full by card at Stripe, as its verified webhook leaves it:
    the succeeded intent, and the reservation paid."""
    from booking.services import reservation_confirm_payment

    PaymentIntent.objects.create(
        reservation=reservation,
        provider="stripe",
        method="card",
        status="succeeded",
        amount=reservation.total_amount,
        currency=reservation.currency,
        provider_payment_id=payment_id,
    )
    reservation_confirm_payment(reservation_id=reservation.pk, actor=provider())
    return Reservation.objects.get(pk=reservation.pk)


def stripe_event(event_type: str, obj: dict, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": int(time.time()),
        "type": event_type,
        "livemode": False,
        "data": {"object": obj},
    }


def checkout_session(
    intent: PaymentIntent,
    *,
    status="complete",
    payment_status="paid",
    amount: int | None = None,
    payment_intent="pi_test_1",
) -> dict:
    """Stripe's Checkout Session of an intent, as its events carry it."""
    return {
        "id": intent.provider_reference,
        "object": "checkout.session",
        "amount_total": intent.amount if amount is None else amount,
        "currency": intent.currency.lower(),
        "status": status,
        "payment_status": payment_status,
        "payment_intent": payment_intent if status == "complete" else None,
        "metadata": {"intent_id": str(intent.pk), "reservation": intent.reservation.code},
        "client_reference_id": intent.reservation.code,
    }


def post_stripe(
    client,
    event: dict | str,
    *,
    secret: str = "whsec_alpha_new",
    timestamp: int | None = None,
    header: str | None = None,
):
    """Deliver a Stripe event signed with Stripe's real scheme."""
    import stripe

    body = event if isinstance(event, str) else json.dumps(event)
    if header is None:
        header = stripe.WebhookSignature.generate_signature_header(
            body, secret, timestamp=timestamp or int(time.time())
        )
    headers = {"HTTP_STRIPE_SIGNATURE": header} if header else {}
    return client.post("/webhooks/stripe/", body, content_type="application/json", **headers)


def mercadopago_signature(
    data_id: str, request_id: str, secret: str = "mp-alpha-secret", ts: int | None = None
) -> str:
    """Mercado Pago's x-signature: HMAC-SHA256 of the id;request-id;ts manifest."""
    ts = ts or int(time.time())
    manifest = f"id:{data_id};request-id:{request_id};ts:{ts};"
    return f"ts={ts},v1={hmac.new(secret.encode(), manifest.encode(), hashlib.sha256).hexdigest()}"


# Photos


def picture(
    width: int = 2000, height: int = 1500, kind: str = "JPEG", exif: Image.Exif | None = None
) -> bytes:
    """An image file of the given size and format, in a gradient (so it compresses as a photo
    would, not to nothing)."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    output = io.BytesIO()
    image.save(output, kind, **({"exif": exif} if exif is not None else {}))
    return output.getvalue()


def upload(
    content: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type)


def photo(
    activity: Activity, *, width: int = 2000, height: int = 1500, alt: str = "A photo"
) -> ActivityPhoto:
    """A photo added to the activity's gallery through the service (the store must be up:
    the `photo_store` fixture)."""
    prepared = prepare_photo(upload(picture(width, height)))
    return photo_add(activity_id=activity.pk, prepared=prepared, alt=alt, actor=SYSTEM)


# Payments and refunds, as the providers' verified word would make them


def paid(reservation: Reservation, provider: str = "stripe", method: str = "card") -> PaymentIntent:
    """Pay a held reservation in full, as the provider's verified word would: an intent
    moved to succeeded through the state machine (which confirms the reservation)."""
    from django.db import transaction

    from payments.providers.base import PaymentState
    from payments.services.transitions import intent_apply_state

    intent = PaymentIntent.objects.create(
        reservation=reservation,
        provider=provider,
        method=method,
        status="pending",
        amount=reservation.total_amount,
        currency=reservation.currency,
    )
    with transaction.atomic():
        intent = PaymentIntent.objects.locked().get(pk=intent.pk)
        intent_apply_state(
            intent, PaymentState(status="succeeded"), actor=Actor.provider(f"{provider} test")
        )
    return intent


def refunded(intent: PaymentIntent, amount: int, *, confirmed: bool = True):
    """A refund of `amount` asked for by the owner and, when `confirmed`, given back by the
    provider (a full one releases the seats)."""
    from django.db import transaction

    from payments.models import Refund
    from payments.providers.base import PaymentState
    from payments.services.transitions import intent_apply_state

    refund = Refund.objects.create(intent=intent, amount=amount, requested_by="owner@test")
    if confirmed:
        with transaction.atomic():
            locked = PaymentIntent.objects.locked().get(pk=intent.pk)
            state = PaymentState(status="refunded", amount_refunded=locked.amount_refunded + amount)
            intent_apply_state(locked, state, actor=Actor.provider(f"{intent.provider} test"))
    refund.refresh_from_db()
    return refund


def backdate(row, at: datetime) -> None:
    """Set a row's `created_at` (written by the database when it was made) to `at`."""
    type(row).objects.filter(pk=row.pk).update(created_at=at)
