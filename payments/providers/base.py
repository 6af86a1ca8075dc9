"""What the payments services need from a provider, in the product's own terms."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from payments.models import PaymentIntent, Refund


class ProviderError(Exception):
    """The provider refused or could not be reached."""


class InvalidSignature(Exception):
    """The webhook is not from the provider (or not for this operator): nothing is trusted."""


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


@dataclass(frozen=True)
class RefundState:
    refund_id: str
    succeeded: bool
    failed: bool = False
    our_id: int | None = None  # our Refund's id, where the provider echoes our metadata


@dataclass(frozen=True)
class VerifiedWebhook:
    """A webhook whose signature was verified; `payload` is now trusted."""

    event_id: str
    event_type: str
    raw_body: str
    payload: dict = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookFacts:
    """What a verified webhook says, found before the transaction that applies it: which of
    our intents it is about, and the state of the provider's object."""

    intent_id: int | None = None
    reference: str = ""
    payment_id: str = ""
    state: PaymentState | None = None
    refund: RefundState | None = None


class PaymentProvider(Protocol):
    name: str

    def create_checkout(self, intent: PaymentIntent, urls: CheckoutUrls) -> Checkout: ...

    def fetch_state(self, intent: PaymentIntent) -> PaymentState: ...

    def cancel_checkout(self, intent: PaymentIntent) -> None: ...

    def refund(self, intent: PaymentIntent, refund: Refund) -> RefundState: ...

    def verify_webhook(self, body: bytes, headers, query) -> VerifiedWebhook: ...

    def webhook_facts(self, webhook: VerifiedWebhook) -> WebhookFacts: ...
