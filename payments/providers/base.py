"""What the payments services need from a provider, in the product's own terms."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from django.utils import timezone

from payments.models import PaymentIntent, Refund


class ProviderError(Exception):
    """The provider refused what we asked (or gave no usable answer: see ProviderNoAnswer)."""


class ProviderNoAnswer(ProviderError):
    """The provider did not answer within the call's budget (settings, "Outgoing calls"): a
    timeout, a connection refused or dropped, a server error (5xx). Whether it did what we
    asked is unknown, so nothing is concluded from it: an attempt whose opening went
    unanswered stays open for the reconciler, a refund stays requested."""


class InvalidWebhook(Exception):
    """A webhook we cannot take: refused with 400 and logged (WebhookRejection), nothing
    applied."""


class InvalidSignature(InvalidWebhook):
    """The webhook is not from the provider (or not for this operator): nothing is trusted."""


class MalformedWebhook(InvalidWebhook):
    """Validly signed, but not in the provider's format (not a JSON object, no data, an id
    that is not one): nothing in it is read further."""


@dataclass(frozen=True)
class CheckoutUrls:
    success: str
    cancel: str
    notification: str


@dataclass(frozen=True)
class Checkout:
    """What a create call returned: where to send the traveller, or what to show them."""

    reference: str
    payment_id: str = ""
    url: str = ""
    pix_code: str = ""
    pix_qr_base64: str = ""
    expires_at: datetime | None = None


@dataclass(frozen=True)
class PaymentState:
    """The provider object's current state, mapped onto our intent statuses."""

    status: str  # a PaymentIntent.Status
    payment_id: str = ""
    amount: int | None = None  # minor units, when the provider says what was paid
    currency: str = ""
    amount_refunded: int = 0
    declined: bool = False
    detail: str = ""
    # The provider's id of this try at paying (Stripe's charge, Mercado Pago's payment): a
    # decline is recorded once per attempt, however often it is told.
    attempt: str = ""
    # The payer did their part at the provider (a completed checkout, a payment made), which
    # has yet to confirm it: an asynchronous method, a payment under review. A Pix code not
    # yet paid is not in progress: the payer has yet to act.
    in_progress: bool = False


@dataclass(frozen=True)
class RefundState:
    refund_id: str
    succeeded: bool
    failed: bool = False
    our_id: int | None = None  # our Refund's id, where the provider echoes our metadata


@dataclass(frozen=True)
class VerifiedWebhook:
    """A webhook whose signature was verified and whose shape was checked. `event_id` is the
    provider's own event id where the signature covers it (Stripe signs the whole body);
    empty where only the provider's API can say what the webhook is about (Mercado Pago signs
    only `data.id`: the body, its `id` included, is read but not trusted)."""

    event_id: str
    event_type: str
    raw_body: str
    payload: dict = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookFacts:
    """What a verified webhook says, found before the transaction that applies it.

    `event_id` is the key the webhook is recorded and deduplicated by (DESIGN.md, invariant
    3), made of signed or re-fetched facts only: Stripe's signed event id; for Mercado Pago
    the signed payment id with the status, amount refunded and last update its API returned.
    Empty: nothing to record (a Mercado Pago topic we never ask the API about).

    Our intent is the one that stored the provider's object id (`reference`: Stripe's
    Checkout Session; else `payment_id`), or the one the provider's API itself names
    (`intent_id`: Mercado Pago's re-fetched external_reference). `intent_hint` (Stripe's
    metadata, which anyone with the account can set) only has to agree with what was found:
    if it does not, nothing is applied."""

    event_id: str = ""
    intent_id: int | None = None
    intent_hint: int | None = None
    reference: str = ""
    payment_id: str = ""
    state: PaymentState | None = None
    refund: RefundState | None = None


def checkout_expiry(intent: PaymentIntent, *, minimum: timedelta, fallback: timedelta) -> datetime:
    """When a provider's checkout for the intent is to end: with its reservation's hold, never
    later, unless the provider refuses a checkout that short (`minimum`: then the checkout is
    ended at the hold's end, payments.services.late_money). `fallback` for an attempt that
    pays a change's difference (it has no hold of its own)."""
    now = timezone.now()
    hold_end = None if intent.change_id else intent.reservation.hold_expires_at
    return max(hold_end or now + fallback, now + minimum)


class PaymentProvider(Protocol):
    name: str

    def checkout_request(self, intent: PaymentIntent, urls: CheckoutUrls) -> dict:
        """What `create_checkout` sends for the intent: kept on it before the call
        (`provider_request`), so that the call can be made again, unchanged, with the same
        idempotency key."""
        ...

    def create_checkout(self, intent: PaymentIntent) -> Checkout: ...

    def find_checkout(self, intent: PaymentIntent) -> Checkout | None:
        """What an unanswered `create_checkout` made at the provider, or None if it made
        nothing. Raises ProviderError when the provider cannot tell."""
        ...

    def fetch_state(self, intent: PaymentIntent) -> PaymentState: ...

    def cancel_checkout(self, intent: PaymentIntent) -> None: ...

    def refund(self, intent: PaymentIntent, refund: Refund) -> RefundState: ...

    def verify_webhook(self, body: bytes, headers, query) -> VerifiedWebhook: ...

    def webhook_facts(self, webhook: VerifiedWebhook) -> WebhookFacts: ...
