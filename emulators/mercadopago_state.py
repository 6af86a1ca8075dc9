"""Mercado Pago's objects (preferences, payments, refunds) in memory, and their transitions.

Methods that change a payment return the `Notification`s it causes (`payment.created` or
`payment.updated`); the app signs and delivers them to the payment's `notification_url`.
"""

import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from emulators import pix
from emulators.common import Counter, mp_datetime, parse_datetime
from emulators.mercadopago_objects import (
    SITES,
    build_payment,
    build_preference,
    build_refund,
    pix_interaction,
)

PIX_DEFAULT_EXPIRY_SECONDS = 86400
CANCELLABLE = ("pending", "in_process", "authorized")


class MPError(Exception):
    """An API error, rendered as Mercado Pago's `{message, error, status, cause}` body."""

    def __init__(self, status: int, message: str, error: str, causes=()) -> None:
        super().__init__(message)
        self.status = status
        self.body = {
            "message": message,
            "error": error,
            "status": status,
            "cause": [
                {"code": code, "description": text, "data": f"{mp_datetime()};{uuid.uuid4()}"}
                for code, text in causes
            ],
        }


class ActionError(Exception):
    """A hosted-page / control action that is not possible in the object's current state."""


def bad_request(code: int, description: str) -> MPError:
    return MPError(400, description, "bad_request", [(code, description)])


def payment_not_found() -> MPError:
    return MPError(404, "Payment not found", "not_found", [(2000, "Payment not found")])


def amount(value: object, message: str, code: int) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise bad_request(code, message)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise bad_request(code, message) from None
    if not number.is_finite() or number <= 0:
        raise bad_request(code, message)
    return number


def is_url(value: object) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


@dataclass
class Account:
    access_token: str
    user_id: int
    client_id: int
    webhook_secret: str | None = None
    site_id: str | None = None
    notification_url: str | None = None


@dataclass
class Notification:
    account: Account
    url: str
    payment_id: int
    action: str


@dataclass
class Record:
    account: Account
    data: dict
    extra: dict = field(default_factory=dict)


class MercadoPagoState:
    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.payment_ids = Counter(1_320_000_000 + int(time.time()) % 10_000_000)
        self.refund_ids = Counter(1_500_000_000)
        self.order_ids = Counter(21_000_000_000)
        self.reset()

    def reset(self) -> None:
        self.accounts.clear()
        self.preferences: dict[str, Record] = {}
        self.payments: dict[int, Record] = {}

    def payment(self, payment_id: object, account: Account | None = None) -> Record:
        try:
            record = self.payments.get(int(str(payment_id)))
        except ValueError:
            record = None
        if record is None or (account is not None and record.account is not account):
            raise payment_not_found()
        return record

    def preference(self, preference_id: str, account: Account | None = None) -> Record:
        record = self.preferences.get(preference_id)
        if record is None or (account is not None and record.account is not account):
            raise MPError(
                404, f"The preference with identifier {preference_id} was not found", "not_found"
            )
        return record

    def _notify(self, record: Record, action: str) -> list[Notification]:
        url = record.data.get("notification_url") or record.account.notification_url
        return [Notification(record.account, url, record.data["id"], action)] if url else []

    def _touch(self, payment: dict, **changes) -> None:
        payment.update(changes)
        payment["date_last_updated"] = mp_datetime()

    # Preferences (Checkout Pro) --------------------------------------------------------------

    def create_preference(self, account: Account, body: dict, base_url: str) -> dict:
        items = body.get("items")
        if not isinstance(items, list) or not items:
            raise MPError(400, "items needed", "invalid_items")
        normalized = [self._item(item, account) for item in items]
        if len({item["currency_id"] for item in normalized}) > 1:
            raise MPError(400, "currency_id invalid: all items must share it", "invalid_items")
        back_urls = body.get("back_urls") or {}
        if not isinstance(back_urls, dict):
            raise MPError(400, "back_urls invalid", "invalid_back_urls")
        if body.get("auto_return") and not back_urls.get("success"):
            raise MPError(
                400, "auto_return invalid. back_url.success must be defined", "invalid_auto_return"
            )
        if body.get("auto_return") not in (None, "", "approved", "all"):
            raise MPError(400, "auto_return invalid", "invalid_auto_return")
        if body.get("notification_url") and not is_url(body["notification_url"]):
            raise MPError(400, "notification_url must be url valid", "invalid_notification_url")
        for name in ("expiration_date_from", "expiration_date_to"):
            if body.get(name):
                try:
                    parse_datetime(str(body[name]))
                except ValueError:
                    raise MPError(400, f"{name} invalid", "invalid_expiration_date") from None
        currency = normalized[0]["currency_id"]
        site_id = account.site_id or SITES.get(currency, "MLB")
        preference = build_preference(body, normalized, account, site_id, base_url)
        total = sum(item["unit_price"] * item["quantity"] for item in normalized)
        extra = {"total": total, "currency": currency, "merchant_order_id": self.order_ids()}
        self.preferences[preference["id"]] = Record(account, preference, extra)
        return preference

    def _item(self, item: object, account: Account) -> dict:
        if not isinstance(item, dict) or not item.get("title"):
            raise MPError(400, "title invalid", "invalid_items")
        quantity = item.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise MPError(400, "quantity invalid", "invalid_items")
        try:
            price = amount(item.get("unit_price"), "unit_price invalid", 0)
        except MPError:
            raise MPError(400, "unit_price invalid", "invalid_items") from None
        default_currency = {v: k for k, v in SITES.items()}.get(account.site_id or "", "BRL")
        currency = item.get("currency_id") or default_currency
        if currency not in SITES and currency != "USD":
            raise MPError(400, "currency_id invalid", "invalid_items")
        return {
            "id": item.get("id") or "",
            "category_id": item.get("category_id") or "",
            "currency_id": currency,
            "description": item.get("description") or "",
            "picture_url": item.get("picture_url"),
            "title": item["title"],
            "quantity": quantity,
            "unit_price": price,
        }

    def update_preference(self, record: Record, body: dict) -> dict:
        if "items" in body:
            items = [self._item(item, record.account) for item in body["items"] or []]
            if not items:
                raise MPError(400, "items needed", "invalid_items")
            record.data["items"] = items
            record.extra["total"] = sum(i["unit_price"] * i["quantity"] for i in items)
        for key in (
            "back_urls",
            "auto_return",
            "external_reference",
            "notification_url",
            "expires",
            "expiration_date_from",
            "expiration_date_to",
            "metadata",
            "payer",
        ):
            if key in body:
                record.data[key] = body[key]
        record.data["last_updated"] = mp_datetime()
        return record.data

    def preference_expired(self, record: Record) -> bool:
        data = record.data
        limit = data.get("expiration_date_to")
        return bool(data.get("expires") and limit and parse_datetime(str(limit)) < time.time())

    def checkout(self, preference_id: str, approve: bool) -> tuple[dict, list[Notification]]:
        """A buyer pays (or is declined) on the hosted page: a card payment is created."""
        record = self.preferences.get(preference_id)
        if record is None:
            raise ActionError("This payment link does not exist.")
        if self.preference_expired(record):
            raise ActionError("This payment link has expired.")
        data = record.data
        payment = build_payment(
            record.account,
            self.payment_ids(),
            amount=record.extra["total"],
            currency=record.extra["currency"],
            method_id="visa",
            status="approved" if approve else "rejected",
            status_detail="accredited" if approve else "cc_rejected_other_reason",
            description=data["items"][0]["title"],
            external_reference=data["external_reference"] or None,
            payer_email=data["payer"].get("email") or "test_user_80507629@testuser.com",
            metadata=data["metadata"],
            notification_url=data["notification_url"],
            order_id=record.extra["merchant_order_id"],
        )
        stored = Record(record.account, payment, {"preference_id": preference_id})
        self.payments[payment["id"]] = stored
        return payment, self._notify(stored, "payment.created")

    # Payments API (Pix) ----------------------------------------------------------------------

    def create_payment(self, account: Account, body: dict, base_url: str) -> tuple[dict, list]:
        method = body.get("payment_method_id")
        if method != "pix":
            raise bad_request(2006, f"payment_method_id {method!r} requires a card token")
        total = amount(body.get("transaction_amount"), "Invalid transaction_amount", 4037)
        payer = body.get("payer") or {}
        email = payer.get("email") if isinstance(payer, dict) else None
        if not isinstance(email, str) or "@" not in email:
            raise bad_request(4050, "payer.email must be a valid email")
        notification_url = body.get("notification_url")
        if notification_url and not is_url(notification_url):
            raise bad_request(4020, "notificaction_url attribute must be url valid")
        expires = time.time() + PIX_DEFAULT_EXPIRY_SECONDS
        if body.get("date_of_expiration"):
            try:
                expires = parse_datetime(str(body["date_of_expiration"]))
            except ValueError:
                raise bad_request(
                    23,
                    "The following parameters must be valid date and format "
                    "(yyyy-MM-dd'T'HH:mm:ssz) date_of_expiration",
                ) from None
        payment_id = self.payment_ids()
        payment = build_payment(
            account,
            payment_id,
            amount=total,
            currency="BRL",
            method_id="pix",
            status="pending",
            status_detail="pending_waiting_transfer",
            description=body.get("description"),
            external_reference=body.get("external_reference"),
            payer_email=email,
            metadata=body.get("metadata") or {},
            notification_url=notification_url,
            date_of_expiration=mp_datetime(expires),
        )
        code = pix.br_code(total, pix.new_location(base_url.split("://", 1)[-1]))
        ticket_url = f"{base_url}/pix/{payment_id}"
        payment["point_of_interaction"] = pix_interaction(code, pix.qr_png_base64(code), ticket_url)
        record = Record(account, payment, {"expires_at": expires})
        self.payments[payment_id] = record
        return payment, self._notify(record, "payment.created")

    def settle(self, payment_id: object, outcome: str) -> list[Notification]:
        """Control / page actions on a pending payment: approve, reject, expire."""
        try:
            record = self.payment(payment_id)
        except MPError:
            raise ActionError(f"Payment {payment_id} not found") from None
        payment = record.data
        if payment["status"] not in CANCELLABLE:
            raise ActionError(f"Payment {payment_id} is {payment['status']}.")
        if outcome == "approve":
            stamp = mp_datetime()
            self._touch(
                payment,
                status="approved",
                status_detail="accredited",
                date_approved=stamp,
                money_release_date=stamp,
            )
            payment["transaction_details"]["net_received_amount"] = payment["transaction_amount"]
        elif outcome == "reject":
            detail = (
                "rejected_by_bank"
                if payment["payment_method_id"] == "pix"
                else ("cc_rejected_other_reason")
            )
            self._touch(payment, status="rejected", status_detail=detail)
        elif outcome == "expire":
            self._touch(payment, status="cancelled", status_detail="expired")
        else:
            raise ActionError(f"Unknown action {outcome!r}")
        return self._notify(record, "payment.updated")

    def update_payment(self, record: Record, body: dict) -> tuple[dict, list]:
        unknown = sorted(set(body) - {"status"})
        if unknown:
            raise bad_request(8, f"The name of the following parameters is wrong : {unknown}")
        payment = record.data
        if body.get("status") != "cancelled" or payment["status"] not in CANCELLABLE:
            raise bad_request(
                2018, "The action requested is not valid for the current payment state"
            )
        self._touch(payment, status="cancelled", status_detail="by_collector")
        return payment, self._notify(record, "payment.updated")

    def refund(self, record: Record, body: dict) -> tuple[dict, list]:
        payment = record.data
        if payment["status"] != "approved":
            raise bad_request(
                2063, "The action requested is not valid for the current payment state"
            )
        remaining = payment["transaction_amount"] - payment["transaction_amount_refunded"]
        value = remaining
        if body.get("amount") is not None:
            try:
                value = amount(body["amount"], "amount attribute must be positive", 4040)
            except MPError:
                raise bad_request(4040, "amount attribute must be positive") from None
        if value > remaining:
            raise bad_request(
                2063, f"Invalid refund amount: {value} exceeds the refundable balance {remaining}"
            )
        refund = build_refund(self.refund_ids(), payment, value, record.account)
        refunded = payment["transaction_amount_refunded"] + value
        payment["refunds"].append(refund)
        full = refunded == payment["transaction_amount"]
        self._touch(
            payment,
            transaction_amount_refunded=refunded,
            status="refunded" if full else "approved",
            status_detail="refunded" if full else "partially_refunded",
        )
        return refund, self._notify(record, "payment.updated")

    def search_preferences(self, account: Account, filters: dict[str, str]) -> dict:
        """GET /checkout/preferences/search: {elements, next_offset, total}, newest first."""
        rows = [r.data for r in self.preferences.values() if r.account is account]
        for name in ("external_reference", "site_id", "marketplace", "sponsor_id"):
            if filters.get(name):
                rows = [row for row in rows if str(row.get(name)) == filters[name]]
        rows.sort(key=lambda row: row["date_created"], reverse=True)
        try:
            limit = max(1, min(int(filters.get("limit") or 30), 100))
            offset = max(0, int(filters.get("offset") or 0))
        except ValueError:
            raise MPError(400, "invalid query.", "ds_search_query") from None
        page = rows[offset : offset + limit]
        return {"elements": page, "next_offset": offset + len(page), "total": len(rows)}

    def search(self, account: Account, filters: dict[str, str]) -> dict:
        rows = [r.data for r in self.payments.values() if r.account is account]
        for name in ("external_reference", "status", "payment_method_id"):
            if filters.get(name):
                rows = [row for row in rows if str(row.get(name)) == filters[name]]
        rows.sort(key=lambda row: row["id"], reverse=filters.get("criteria", "desc") != "asc")
        try:
            limit = max(1, min(int(filters.get("limit") or 30), 1000))
            offset = max(0, int(filters.get("offset") or 0))
        except ValueError:
            raise bad_request(1, "Params Error") from None
        paging = {"total": len(rows), "limit": limit, "offset": offset}
        return {"paging": paging, "results": rows[offset : offset + limit]}

    def expire_due(self) -> list[list[Notification]]:
        moment = time.time()
        batches = []
        for record in self.payments.values():
            due = record.extra.get("expires_at")
            if due and due <= moment and record.data["status"] in ("pending", "in_process"):
                self._touch(record.data, status="cancelled", status_detail="expired")
                batches.append(self._notify(record, "payment.updated"))
        return batches
