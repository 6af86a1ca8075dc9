"""Stripe's objects (Checkout Sessions, PaymentIntents, Charges, Refunds, Events) in memory.

Methods that change state return the events they caused; the app signs and delivers them.
Every event carries a deep copy of its object as it is at that moment.
"""

import copy
from dataclasses import dataclass, field
from decimal import Decimal

from emulators import pix
from emulators.common import ZERO_DECIMAL, now, random_id
from emulators.stripe_objects import (
    build_charge,
    build_line_item,
    build_payment_intent,
    build_refund,
    build_session,
    card_decline_error,
    pix_expired_error,
)

DEFAULT_API_VERSION = "2025-09-30.clover"
SUPPORTED_METHODS = {"card", "pix"}
PIX_DEFAULT_EXPIRY = 86400


class StripeError(Exception):
    """An API error, rendered as Stripe's `{"error": {...}}` body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = {"message": message, "type": type}
        if code:
            self.error["code"] = code
            self.error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        if param:
            self.error["param"] = param


class ActionError(Exception):
    """A hosted-page / control action that is not possible in the object's current state."""


def missing(param: str) -> StripeError:
    return StripeError(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param
    )


def integer(value: object, param: str, minimum: int = 0) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise StripeError(
            400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=param
        ) from None
    if number < minimum:
        word = "positive" if minimum > 0 else "non-negative"
        raise StripeError(
            400, f"Invalid {word} integer", code="parameter_invalid_integer", param=param
        )
    return number


def money(amount: int, currency: str) -> str:
    symbol = {"usd": "$", "brl": "R$", "eur": "€", "gbp": "£"}.get(currency)
    value = f"{amount:,}" if currency in ZERO_DECIMAL else f"{amount / 100:,.2f}"
    return f"{symbol}{value}" if symbol else f"{value} {currency.upper()}"


@dataclass
class Account:
    api_key: str
    webhook_url: str | None = None
    webhook_secrets: list[str] = field(default_factory=list)
    api_version: str = DEFAULT_API_VERSION
    enabled_events: list[str] = field(default_factory=lambda: ["*"])

    @property
    def livemode(self) -> bool:
        return self.api_key.startswith("sk_live_")

    def wants(self, event_type: str) -> bool:
        return bool(self.webhook_url) and (
            "*" in self.enabled_events or event_type in self.enabled_events
        )


@dataclass
class Event:
    account: Account
    data: dict


@dataclass
class Record:
    account: Account
    data: dict
    extra: dict = field(default_factory=dict)


class StripeState:
    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.reset()

    def reset(self) -> None:
        self.accounts.clear()
        self.sessions: dict[str, Record] = {}
        self.intents: dict[str, Record] = {}
        self.charges: dict[str, Record] = {}
        self.refunds: dict[str, Record] = {}
        self.events: dict[str, Record] = {}

    # Lookups ---------------------------------------------------------------------------------

    def owned(self, kind: str, object_id: str, account: Account, param: str = "id") -> Record:
        collection = {
            "checkout.session": self.sessions,
            "payment_intent": self.intents,
            "charge": self.charges,
            "refund": self.refunds,
            "event": self.events,
        }[kind]
        record = collection.get(object_id)
        if record is None or record.account is not account:
            raise StripeError(
                404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param
            )
        return record

    def session(self, session_id: str) -> Record:
        record = self.sessions.get(session_id)
        if record is None:
            raise ActionError(f"No such checkout.session: '{session_id}'")
        return record

    def event(
        self, account: Account, type_: str, obj: dict, previous: dict | None = None, origin=None
    ) -> Event:
        request_id, idempotency_key = origin or (None, None)
        data: dict = {"object": copy.deepcopy(obj)}
        if previous:
            data["previous_attributes"] = previous
        body = {
            "id": random_id("evt_"),
            "object": "event",
            "api_version": account.api_version,
            "created": now(),
            "data": data,
            "livemode": account.livemode,
            "pending_webhooks": 1 if account.wants(type_) else 0,
            "request": {"id": request_id, "idempotency_key": idempotency_key},
            "type": type_,
        }
        self.events[body["id"]] = Record(account, body)
        return Event(account, body)

    # Checkout Sessions -----------------------------------------------------------------------

    def create_session(self, account: Account, params: dict, base_url: str) -> dict:
        mode = params.get("mode") or ""
        if not mode:
            raise missing("mode")
        if mode != "payment":
            raise StripeError(
                400, "Invalid mode: only `payment` Checkout Sessions are available.", param="mode"
            )
        items = params.get("line_items")
        if not isinstance(items, list) or not items:
            raise missing("line_items")
        line_items = [self._line_item(item, index) for index, item in enumerate(items)]
        currencies = {item["currency"] for item in line_items}
        if len(currencies) > 1:
            raise StripeError(
                400, "Line items must all have the same currency.", param="line_items"
            )
        currency = currencies.pop()
        methods = params.get("payment_method_types") or ["card"]
        if not isinstance(methods, list) or any(m not in SUPPORTED_METHODS for m in methods):
            raise StripeError(
                400,
                f"Invalid payment_method_types: must be among {sorted(SUPPORTED_METHODS)}",
                param="payment_method_types",
            )
        if "pix" in methods and currency != "brl":
            raise StripeError(
                400,
                f"The currency provided ({currency}) is invalid. Payments with pix support the "
                "following currencies: brl.",
                param="payment_method_types",
            )
        for name in ("success_url", "cancel_url"):
            url = params.get(name)
            if url and not url.startswith(("http://", "https://")):
                raise StripeError(400, "Not a valid URL", code="url_invalid", param=name)
        created = now()
        expires_at = created + 86400
        if params.get("expires_at"):
            expires_at = integer(params["expires_at"], "expires_at")
            if not created + 1800 <= expires_at <= created + 86400:
                raise StripeError(
                    400,
                    "The `expires_at` timestamp must be between 30 minutes and 24 hours from "
                    "Checkout Session creation.",
                    param="expires_at",
                )
        metadata = params.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise StripeError(400, "Invalid object", param="metadata")
        session_id = random_id("cs_test_" if not account.livemode else "cs_live_", 58)
        session = build_session(
            session_id, params, line_items, currency, methods, created, expires_at, account
        )
        session["url"] = f"{base_url}/checkout/{session_id}"
        intent_data = params.get("payment_intent_data") or {}
        pix_options = (params.get("payment_method_options") or {}).get("pix") or {}
        extra = {
            "line_items": line_items,
            "intent_data": intent_data if isinstance(intent_data, dict) else {},
            "pix_expires_after": int(
                pix_options.get("expires_after_seconds") or PIX_DEFAULT_EXPIRY
            ),
            "pix_code": None,
        }
        if "pix" in methods:
            host = base_url.split("://", 1)[-1]
            amount = Decimal(session["amount_total"]) / 100
            extra["pix_code"] = pix.br_code(amount, pix.new_location(host))
        self.sessions[session_id] = Record(account, session, extra)
        return session

    def _line_item(self, item: object, index: int) -> dict:
        prefix = f"line_items[{index}]"
        if not isinstance(item, dict):
            raise StripeError(400, "Invalid object", param=prefix)
        if item.get("price"):
            raise StripeError(
                404,
                f"No such price: '{item['price']}'",
                code="resource_missing",
                param=f"{prefix}[price]",
            )
        price_data = item.get("price_data")
        if not isinstance(price_data, dict):
            raise missing(f"{prefix}[price_data]")
        currency = (price_data.get("currency") or "").lower()
        if not currency:
            raise missing(f"{prefix}[price_data][currency]")
        if "unit_amount" not in price_data:
            raise missing(f"{prefix}[price_data][unit_amount]")
        unit_amount = integer(price_data["unit_amount"], f"{prefix}[price_data][unit_amount]")
        name = (price_data.get("product_data") or {}).get("name")
        if not name:
            raise missing(f"{prefix}[price_data][product_data][name]")
        if "quantity" not in item:
            raise missing(f"{prefix}[quantity]")
        quantity = integer(item["quantity"], f"{prefix}[quantity]", minimum=1)
        return build_line_item(name, currency, unit_amount, quantity)

    def _require_open(self, record: Record, method: str) -> None:
        status = record.data["status"]
        if status != "open":
            raise ActionError(f"This Checkout Session is {status}.")
        if method not in record.data["payment_method_types"]:
            raise ActionError(f"This Checkout Session does not accept {method}.")

    def _intent(self, record: Record, method: str) -> Record:
        session = record.data
        if session["payment_intent"]:
            intent = self.intents[session["payment_intent"]]
            intent.data["payment_method_types"] = [method]
            return intent
        data = build_payment_intent(
            session["amount_total"],
            session["currency"],
            method,
            record.extra["intent_data"],
            record.account.livemode,
        )
        intent = Record(record.account, data, {"session": session["id"]})
        self.intents[data["id"]] = intent
        session["payment_intent"] = data["id"]
        return intent

    def _charge(self, intent: Record, succeeded: bool, email: str | None) -> dict:
        data = build_charge(intent.data, succeeded, email)
        self.charges[data["id"]] = Record(intent.account, data)
        intent.data["latest_charge"] = data["id"]
        intent.data["payment_method"] = data["payment_method"]
        return data

    def _complete(self, session: dict, payment_status: str) -> None:
        session["status"] = "complete"
        session["payment_status"] = payment_status
        session["url"] = None  # Stripe: "only present when the session is active"
        session["customer_details"] = {
            "address": None,
            "email": session["customer_email"] or "customer@example.com",
            "name": "Test Customer",
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        }

    def pay_card(self, session_id: str) -> list[Event]:
        record = self.session(session_id)
        self._require_open(record, "card")
        session, account = record.data, record.account
        intent = self._intent(record, "card")
        charge = self._charge(intent, True, session["customer_email"])
        intent.data.update(
            status="succeeded", amount_received=intent.data["amount"], last_payment_error=None
        )
        self._complete(session, "paid")
        return [
            self.event(account, "charge.succeeded", charge),
            self.event(account, "payment_intent.succeeded", intent.data),
            self.event(account, "checkout.session.completed", session),
        ]

    def decline_card(self, session_id: str) -> list[Event]:
        record = self.session(session_id)
        self._require_open(record, "card")
        account = record.account
        intent = self._intent(record, "card")
        charge = self._charge(intent, False, record.data["customer_email"])
        intent.data.update(
            status="requires_payment_method", last_payment_error=card_decline_error(charge)
        )
        return [
            self.event(account, "charge.failed", charge),
            self.event(account, "payment_intent.payment_failed", intent.data),
        ]

    def pix_continue(self, session_id: str, base_url: str) -> list[Event]:
        record = self.session(session_id)
        self._require_open(record, "pix")
        session, account = record.data, record.account
        intent = self._intent(record, "pix")
        expires_at = now() + record.extra["pix_expires_after"]
        intent.extra["pix_expires_at"] = expires_at
        intent.data.update(
            status="requires_action",
            payment_method=random_id("pm_"),
            next_action={
                "type": "pix_display_qr_code",
                "pix_display_qr_code": {
                    "data": record.extra["pix_code"],
                    "expires_at": expires_at,
                    "hosted_instructions_url": f"{base_url}/checkout/{session_id}",
                    "image_url_png": f"{base_url}/qr/{intent.data['id']}.png",
                    "image_url_svg": f"{base_url}/qr/{intent.data['id']}.svg",
                },
            },
        )
        self._complete(session, "unpaid")
        return [
            self.event(account, "payment_intent.requires_action", intent.data),
            self.event(account, "checkout.session.completed", session),
        ]

    def _awaiting_pix(self, record: Record) -> Record:
        session = record.data
        intent = self.intents.get(session["payment_intent"] or "")
        if session["status"] != "complete" or intent is None:
            raise ActionError("This Checkout Session is not waiting for a Pix payment.")
        if intent.data["status"] != "requires_action":
            raise ActionError(f"The Pix payment is {intent.data['status']}.")
        return intent

    def pix_paid(self, session_id: str, base_url: str) -> list[Event]:
        record = self.session(session_id)
        events = self.pix_continue(session_id, base_url) if record.data["status"] == "open" else []
        intent = self._awaiting_pix(record)
        session, account = record.data, record.account
        charge = self._charge(intent, True, session["customer_email"])
        intent.data.update(
            status="succeeded", amount_received=intent.data["amount"], next_action=None
        )
        session["payment_status"] = "paid"
        return events + [
            self.event(account, "charge.succeeded", charge),
            self.event(account, "payment_intent.succeeded", intent.data),
            self.event(account, "checkout.session.async_payment_succeeded", session),
        ]

    def pix_failed(self, session_id: str) -> list[Event]:
        record = self.session(session_id)
        intent = self._awaiting_pix(record)
        intent.data.update(
            status="requires_payment_method",
            next_action=None,
            last_payment_error=pix_expired_error(intent.data),
        )
        account = record.account
        return [
            self.event(account, "payment_intent.payment_failed", intent.data),
            self.event(account, "checkout.session.async_payment_failed", record.data),
        ]

    def expire_session(self, record: Record, origin=None) -> list[Event]:
        session, account = record.data, record.account
        session.update(status="expired", url=None)
        events = []
        intent = self.intents.get(session["payment_intent"] or "")
        if intent and intent.data["status"] not in ("succeeded", "canceled"):
            intent.data.update(
                status="canceled", canceled_at=now(), cancellation_reason="abandoned"
            )
            events.append(self.event(account, "payment_intent.canceled", intent.data))
        events.append(self.event(account, "checkout.session.expired", session, origin=origin))
        return events

    # Refunds ---------------------------------------------------------------------------------

    def create_refund(self, account: Account, params: dict, origin=None) -> tuple[dict, list]:
        intent_id, charge_id = params.get("payment_intent"), params.get("charge")
        if intent_id:
            intent = self.owned("payment_intent", intent_id, account, "payment_intent").data
            charge_id = intent["latest_charge"] if intent["status"] == "succeeded" else None
            if not charge_id:
                raise StripeError(
                    400,
                    f"This PaymentIntent ({intent_id}) does not have a successful charge to "
                    "refund.",
                    code="charge_not_refundable",
                    param="payment_intent",
                )
        elif not charge_id:
            raise StripeError(
                400,
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
            )
        charge = self.owned("charge", charge_id, account, "charge").data
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        if charge["status"] != "succeeded" or remaining <= 0:
            raise StripeError(
                400,
                f"Charge {charge_id} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = remaining
        if params.get("amount") not in (None, ""):
            amount = integer(params["amount"], "amount", minimum=1)
        if amount > remaining:
            currency = charge["currency"]
            raise StripeError(
                400,
                f"Refund amount ({money(amount, currency)}) is greater than unrefunded amount on "
                f"charge ({money(remaining, currency)})",
                code="amount_too_large",
                param="amount",
            )
        refund = build_refund(charge, amount, params)
        self.refunds[refund["id"]] = Record(account, refund)
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
        return refund, [self.event(account, "refund.created", refund, origin=origin)]

    def settle_refund(self, refund_id: str) -> list[Event]:
        record = self.refunds.get(refund_id)
        if record is None or record.data["status"] != "pending":
            return []
        refund, account = record.data, record.account
        refund["status"] = "succeeded"
        charge = self.charges[refund["charge"]].data
        return [
            self.event(account, "refund.updated", refund, previous={"status": "pending"}),
            self.event(account, "charge.refunded", charge),
        ]

    # Time ------------------------------------------------------------------------------------

    def expire_due(self) -> list[list[Event]]:
        """Batches of events for sessions past `expires_at` and Pix codes past their expiry."""
        moment = now()
        batches = []
        for record in list(self.sessions.values()):
            session = record.data
            if session["status"] == "open" and session["expires_at"] <= moment:
                batches.append(self.expire_session(record))
        for intent in list(self.intents.values()):
            due = intent.extra.get("pix_expires_at")
            if intent.data["status"] == "requires_action" and due and due <= moment:
                batches.append(self.pix_failed(intent.extra["session"]))
        return batches
