"""Payment intents and their state machine, refunds, webhook events and the staff's anomaly
queue, in each operator's schema."""

import uuid
from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.errors import IllegalTransition
from booking.models import Reservation, ReservationChange, ReservationEvent
from tenants.actors import ACTOR_MAX_LENGTH


class Provider(models.TextChoices):
    STRIPE = "stripe", "Stripe"
    MERCADOPAGO = "mercadopago", "Mercado Pago"


class Method(models.TextChoices):
    CARD = "card", _("Card")
    PIX = "pix", "Pix"
    CHECKOUT = "checkout", _("Mercado Pago checkout")


class PaymentIntentQuerySet(models.QuerySet):
    def locked(self):
        """SELECT ... FOR NO KEY UPDATE on the intents: the first lock of every change of a
        payment (lock order: intent, reservation, slot)."""
        return self.select_for_update(no_key=True, of=("self",))

    def open(self):
        return self.filter(status__in=PaymentIntent.OPEN)

    def stale(self, *, older_than: timedelta, now: datetime | None = None):
        """Open intents nothing has been heard of for `older_than`: the reconciler asks their
        provider, and the dashboard shows them."""
        return self.open().filter(updated_at__lte=(now or timezone.now()) - older_than)


class PaymentIntent(models.Model):
    """One attempt to pay a reservation with one provider. Its status moves only through
    `transition_to`, along TRANSITIONS: terminal states never move back, and `failed` never
    becomes `succeeded`."""

    class Status(models.TextChoices):
        CREATED = "created", _("Created")
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
        REFUNDED = "refunded", _("Refunded")

    S = Status
    TRANSITIONS: dict[str, frozenset[str]] = {
        S.CREATED: frozenset({S.PENDING, S.SUCCEEDED, S.FAILED, S.CANCELLED, S.EXPIRED}),
        S.PENDING: frozenset({S.SUCCEEDED, S.FAILED, S.CANCELLED, S.EXPIRED}),
        S.SUCCEEDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
        S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
        S.FAILED: frozenset(),
        S.CANCELLED: frozenset(),
        S.EXPIRED: frozenset(),
        S.REFUNDED: frozenset(),
    }
    OPEN = (S.CREATED, S.PENDING)
    PAID = (S.SUCCEEDED, S.PARTIALLY_REFUNDED, S.REFUNDED)

    reservation = models.ForeignKey(
        Reservation, on_delete=models.PROTECT, related_name="payment_intents"
    )
    # Set when the attempt pays the difference of a booking change, not the booking itself.
    change = models.ForeignKey(
        ReservationChange,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment_intents",
    )
    provider = models.CharField(max_length=16, choices=Provider.choices)
    method = models.CharField(max_length=16, choices=Method.choices)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.CREATED)
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    amount_refunded = models.PositiveIntegerField(default=0)
    idempotency_key = models.UUIDField(
        default=uuid.uuid4, unique=True, help_text=_("Sent with our create call to the provider.")
    )
    provider_reference = models.CharField(
        max_length=255,
        blank=True,
        help_text=_("Stripe Checkout Session, or Mercado Pago preference."),
    )
    provider_payment_id = models.CharField(
        max_length=255, blank=True, help_text=_("Stripe PaymentIntent, or Mercado Pago payment.")
    )
    # Kept before the create call is made, so that the reconciler can make it again unchanged
    # (same parameters, same idempotency key) when its answer never came.
    provider_request = models.JSONField(
        default=dict, blank=True, help_text=_("What the create call sent to the provider.")
    )
    checkout_url = models.URLField(max_length=1000, blank=True)
    pix_code = models.TextField(blank=True, help_text=_("Pix copy-and-paste code."))
    pix_qr_base64 = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PaymentIntentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["provider", "provider_reference"], name="intent_reference_idx"),
            models.Index(fields=["provider", "provider_payment_id"], name="intent_payment_idx"),
            models.Index(
                fields=["updated_at"],
                condition=Q(status__in=["created", "pending"]),
                name="intent_open_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_refunded__lte=models.F("amount")),
                name="intent_refund_lte_amount",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.get_method_display()} #{self.pk}"

    def can_transition_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]

    def transition_to(self, status: str) -> bool:
        """Move to `status`; False when already there. Raises IllegalTransition otherwise."""
        if status == self.status and status != self.Status.PARTIALLY_REFUNDED:
            return False
        if not self.can_transition_to(status):
            raise IllegalTransition(f"payment intent {self.pk}: {self.status} -> {status}")
        self.status = status
        return True

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def is_paid(self) -> bool:
        return self.status in self.PAID

    @property
    def refundable_amount(self) -> int:
        return self.amount - self.amount_refunded if self.is_paid else 0

    def add_to_timeline(self, kind: str, actor: object, note: str = "", **data) -> None:
        """What happened to this attempt, in its reservation's timeline (`actor` as named by
        its `str`)."""
        ReservationEvent.objects.create(
            reservation_id=self.reservation_id,
            kind=kind,
            actor=str(actor),
            note=note,
            data={"intent": self.pk, "provider": self.provider, **data},
        )


class RefundQuerySet(models.QuerySet):
    def unanswered(self, *, older_than: timedelta, now: datetime | None = None):
        """Requested refunds the provider never named (its answer did not come) for
        `older_than`: the reconciler sends them again, with the same idempotency key."""
        return self.filter(
            status=Refund.Status.REQUESTED,
            provider_refund_id="",
            created_at__lte=(now or timezone.now()) - older_than,
        )


class Refund(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    intent = models.ForeignKey(PaymentIntent, on_delete=models.PROTECT, related_name="refunds")
    amount = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    provider_refund_id = models.CharField(max_length=255, blank=True, db_index=True)
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True)
    requested_by = models.CharField(max_length=ACTOR_MAX_LENGTH)
    reason = models.CharField(max_length=240, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    objects = RefundQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_positive")]

    def __str__(self) -> str:
        return f"Refund {self.amount} {self.intent.currency} of {self.intent_id}"


WEBHOOK_EVENT_UNIQUE = "webhook_event_unique"


class WebhookEvent(models.Model):
    """A verified webhook, recorded once per provider event id (duplicates hit the unique
    constraint and change nothing)."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        IGNORED = "ignored", _("Ignored")
        ANOMALY = "anomaly", _("Anomaly raised")
        UNMATCHED = "unmatched", _("No matching payment")
        FAILED = "failed", _("Failed")

    provider = models.CharField(max_length=16, choices=Provider.choices)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=120)
    raw_body = models.TextField()
    intent = models.ForeignKey(
        PaymentIntent, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhooks"
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    note = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name=WEBHOOK_EVENT_UNIQUE)
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"


class WebhookRejection(models.Model):
    """A webhook that failed verification: logged for the on-call engineer, never trusted."""

    provider = models.CharField(max_length=16, choices=Provider.choices)
    reason = models.CharField(max_length=240)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    body_excerpt = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.provider}: {self.reason}"


class Anomaly(models.Model):
    """Something about money that needs a human: never dropped, resolved by staff."""

    class Kind(models.TextChoices):
        SUCCESS_ON_CLOSED_INTENT = "success_on_closed_intent", _("Payment for a closed attempt")
        PAID_WITHOUT_SEATS = "paid_without_seats", _("Paid, but the seats were gone")
        AMOUNT_MISMATCH = "amount_mismatch", _("Paid amount differs")
        PAID_TWICE = "paid_twice", _("Reservation paid twice")
        CHANGE_NOT_APPLIED = "change_not_applied", _("Difference paid for a change that ended")

    kind = models.CharField(max_length=32, choices=Kind.choices)
    reservation = models.ForeignKey(Reservation, on_delete=models.PROTECT, related_name="anomalies")
    intent = models.ForeignKey(
        PaymentIntent, null=True, blank=True, on_delete=models.PROTECT, related_name="anomalies"
    )
    webhook = models.ForeignKey(
        WebhookEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="anomalies"
    )
    details = models.TextField()
    # The provider's payment it is about (the one to refund or honour): the same fact told
    # again (a redelivery, a later notification, a reconciliation) raises nothing new.
    provider_payment_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=ACTOR_MAX_LENGTH, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "anomalies"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.reservation})"
