"""The Mercado Pago emulator: Checkout Pro preferences, the Payments API (Pix), refunds, search
(payments, and preferences by external_reference).

JSON in and out; `Authorization: Bearer <access_token>` must name an account registered with
`POST /_emulator/accounts`. POST/PUT honour `X-Idempotency-Key`: a key already used on the same
endpoint returns the first response, without creating anything (as Mercado Pago documents).
Notifications go to the object's `notification_url` with `?data.id=<payment id>&type=payment`,
signed in `x-signature` (`ts=...,v1=HMAC-SHA256(secret, "id:..;request-id:..;ts:..;")`).
"""

import hashlib
import hmac
import json
import random
import time
import uuid
from decimal import Decimal
from urllib.parse import urlencode

from emulators.common import Counter, IdempotencyStore, StoredResponse, utc_iso
from emulators.mercadopago_objects import redirect_query
from emulators.mercadopago_pages import checkout_page, message_page, pix_page, result_page
from emulators.mercadopago_state import (
    Account,
    ActionError,
    MercadoPagoState,
    MPError,
    Notification,
)
from emulators.server import App, Request, Response
from emulators.webhooks import Outgoing


def signature_header(data_id: str, request_id: str, secret: str, ts: int | None = None) -> str:
    stamp = int(time.time()) if ts is None else ts
    manifest = f"id:{data_id};request-id:{request_id};ts:{stamp};"
    digest = hmac.new(secret.encode(), manifest.encode(), hashlib.sha256).hexdigest()
    return f"ts={stamp},v1={digest}"


def _with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


class MercadoPagoEmulator(App):
    name = "mercadopago"

    def __init__(self, public_url: str | None = None) -> None:
        super().__init__(public_url)
        self.state = MercadoPagoState()
        self.idempotency = IdempotencyStore()
        self.notification_ids = Counter(120_000_000_000)
        api = self._api
        self.route("POST", "/checkout/preferences", api(self.create_preference))
        self.route("GET", "/checkout/preferences/search", api(self.search_preferences))
        self.route("GET", "/checkout/preferences/{id}", api(self.get_preference))
        self.route("PUT", "/checkout/preferences/{id}", api(self.update_preference))
        self.route("GET", "/v1/payments/search", api(self.search_payments))
        self.route("POST", "/v1/payments", api(self.create_payment))
        self.route("GET", "/v1/payments/{id}", api(self.get_payment))
        self.route("PUT", "/v1/payments/{id}", api(self.update_payment))
        self.route("POST", "/v1/payments/{id}/refunds", api(self.create_refund))
        self.route("GET", "/v1/payments/{id}/refunds", api(self.list_refunds))
        self.route("GET", "/v1/payments/{id}/refunds/{refund_id}", api(self.get_refund))
        self.route("GET", "/checkout/v1/redirect", self.checkout_page)
        self.route("POST", "/checkout/v1/preferences/{id}/{action}", self.checkout_action)
        self.route("GET", "/pix/{id}", self.pix_page)
        self.route("POST", "/pix/{id}/paid", self.pix_paid)
        self.route("POST", "/_emulator/accounts", self.control_accounts)
        self.route("POST", "/_emulator/mercadopago/payments/{id}/{action}", self.control_payment)
        self.route(
            "POST", "/_emulator/mercadopago/preferences/{id}/{action}", self.control_preference
        )

    def reset(self) -> None:
        self.state.reset()
        self.idempotency.clear()

    # Plumbing --------------------------------------------------------------------------------

    def _account(self, request: Request) -> Account:
        header = request.header("Authorization").strip()
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        token = token or request.arg("access_token")
        if not token:
            message = "Must provide your access_token to proceed"
            raise MPError(401, message, "unauthorized", [(5, message)])
        account = self.state.accounts.get(token)
        if account is None:
            raise MPError(401, "invalid_token", "not_found")
        return account

    def _api(self, handler):
        def wrapped(request: Request) -> Response:
            request_id = str(uuid.uuid4())
            writes = request.method in ("POST", "PUT")
            key = request.header("X-Idempotency-Key") if writes else ""
            scope = f"{request.method} {request.path} {key}"
            try:
                account = self._account(request)
                stored = self.idempotency.get(account.access_token, scope) if key else None
                if stored:
                    response = Response(stored.status, stored.body)
                    response.headers["Content-Type"] = "application/json; charset=utf-8"
                else:
                    body = self._body(request) if writes else {}
                    status, data = handler(request, account, body)
                    response = Response.json(data, status)
                    if key and status < 400:
                        self.idempotency.put(
                            account.access_token,
                            scope,
                            StoredResponse(
                                None,
                                request.method,
                                request.path,
                                status,
                                response.body,
                                request_id,
                            ),
                        )
            except MPError as error:
                response = Response.json(error.body, error.status)
            response.headers["X-Request-Id"] = request_id
            return response

        return wrapped

    @staticmethod
    def _body(request: Request) -> dict:
        if not request.body.strip():
            return {}
        try:
            body = json.loads(request.body, parse_float=Decimal)
        except ValueError:
            raise MPError(400, "Invalid JSON", "bad_request") from None
        if not isinstance(body, dict):
            raise MPError(400, "Invalid JSON: an object is expected", "bad_request")
        return body

    def not_found(self, request: Request) -> Response:
        if request.path.startswith("/_emulator/"):
            return super().not_found(request)
        message = f"resource not found: {request.method} {request.path}"
        return Response.json(
            {"message": message, "error": "not_found", "status": 404, "cause": []}, 404
        )

    def deliver(self, notifications: list[Notification]) -> None:
        batch = []
        for item in notifications:
            notification_id = self.notification_ids()
            data_id = str(item.payment_id)
            payload = json.dumps(
                {
                    "action": item.action,
                    "api_version": "v1",
                    "data": {"id": data_id},
                    "date_created": utc_iso(),
                    "id": notification_id,
                    "live_mode": False,
                    "type": "payment",
                    "user_id": item.account.user_id,
                }
            ).encode()
            secret = item.account.webhook_secret

            def build(payload=payload, data_id=data_id, secret=secret):
                request_id = str(uuid.uuid4())
                headers = {
                    "Content-Type": "application/json",
                    "User-Agent": "MercadoPago WebHook v1.0 payment",
                    "x-request-id": request_id,
                }
                if secret:
                    headers["x-signature"] = signature_header(data_id, request_id, secret)
                return payload, headers

            url = _with_query(item.url, {"data.id": data_id, "type": "payment"})
            batch.append(Outgoing(str(notification_id), item.action, url, build))
        self.dispatcher.send(batch)

    def tick(self) -> None:
        for batch in self.state.expire_due():
            self.deliver(batch)

    # API handlers ----------------------------------------------------------------------------

    def create_preference(self, request, account, body):
        return 201, self.state.create_preference(account, body, self.base_url(request))

    def search_preferences(self, request, account, body):
        filters = {key: values[-1] for key, values in request.query.items()}
        return 200, self.state.search_preferences(account, filters)

    def get_preference(self, request, account, body):
        return 200, self.state.preference(request.params["id"], account).data

    def update_preference(self, request, account, body):
        record = self.state.preference(request.params["id"], account)
        return 200, self.state.update_preference(record, body)

    def create_payment(self, request, account, body):
        payment, notifications = self.state.create_payment(account, body, self.base_url(request))
        self.deliver(notifications)
        return 201, payment

    def get_payment(self, request, account, body):
        return 200, self.state.payment(request.params["id"], account).data

    def update_payment(self, request, account, body):
        record = self.state.payment(request.params["id"], account)
        payment, notifications = self.state.update_payment(record, body)
        self.deliver(notifications)
        return 200, payment

    def search_payments(self, request, account, body):
        filters = {key: values[-1] for key, values in request.query.items()}
        return 200, self.state.search(account, filters)

    def create_refund(self, request, account, body):
        record = self.state.payment(request.params["id"], account)
        refund, notifications = self.state.refund(record, body)
        self.deliver(notifications)
        return 201, refund

    def list_refunds(self, request, account, body):
        return 200, self.state.payment(request.params["id"], account).data["refunds"]

    def get_refund(self, request, account, body):
        refunds = self.state.payment(request.params["id"], account).data["refunds"]
        for refund in refunds:
            if str(refund["id"]) == request.params["refund_id"]:
                return 200, refund
        raise MPError(404, "Refund not found", "not_found", [(2032, "Refund not found")])

    # Hosted pages ----------------------------------------------------------------------------

    def checkout_page(self, request: Request) -> Response:
        record = self.state.preferences.get(request.arg("pref_id"))
        if record is None:
            return Response.html(message_page("This payment link does not exist."), 404)
        expired = self.state.preference_expired(record)
        html = checkout_page(record.data, record.extra["total"], record.extra["currency"], expired)
        return Response.html(html)

    def _checkout(self, preference_id: str, action: str) -> tuple[dict, str | None]:
        if action not in ("pay", "decline"):
            raise ActionError(f"Unknown action {action!r}")
        payment, notifications = self.state.checkout(preference_id, approve=action == "pay")
        self.deliver(notifications)
        record = self.state.preferences[preference_id]
        preference = record.data
        target = preference["back_urls"].get("success" if action == "pay" else "failure")
        if not target:
            return payment, None
        query = redirect_query(payment, preference, record.extra["merchant_order_id"])
        return payment, _with_query(target, query)

    def checkout_action(self, request: Request) -> Response:
        try:
            payment, target = self._checkout(request.params["id"], request.params["action"])
        except ActionError as error:
            return Response.html(message_page(str(error)), 409)
        return Response.redirect(target) if target else Response.html(result_page(payment))

    def pix_page(self, request: Request) -> Response:
        try:
            record = self.state.payment(request.params["id"])
        except MPError:
            return Response.html(message_page("This Pix payment does not exist."), 404)
        if record.data["payment_method_id"] != "pix":
            return Response.html(message_page("This payment is not a Pix payment."), 404)
        return Response.html(pix_page(record.data))

    def pix_paid(self, request: Request) -> Response:
        try:
            self.deliver(self.state.settle(request.params["id"], "approve"))
        except ActionError as error:
            return Response.html(message_page(str(error)), 409)
        return Response.redirect(f"/pix/{request.params['id']}")

    # Control API -----------------------------------------------------------------------------

    def control_accounts(self, request: Request) -> Response:
        body = request.json()
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            return Response.json({"error": "access_token is required"}, 400)
        digits = token.rsplit("-", 1)[-1]
        existing = self.state.accounts.get(token)
        default_user = int(digits) if digits.isdigit() and len(digits) < 16 else None
        if existing:
            default_user = existing.user_id
        account = Account(
            access_token=token,
            user_id=int(body.get("user_id") or default_user or random.randrange(10**8, 10**9)),
            client_id=existing.client_id if existing else random.randrange(10**15, 10**16),
            webhook_secret=body.get("webhook_secret") or None,
            site_id=body.get("site_id") or None,
            notification_url=body.get("notification_url") or None,
        )
        if existing:  # keep object ownership: update in place
            existing.__dict__.update(account.__dict__)
            account = existing
        self.state.accounts[token] = account
        return Response.json(vars(account), 201)

    def control_payment(self, request: Request) -> Response:
        payment_id, action = request.params["id"], request.params["action"]
        try:
            self.deliver(self.state.settle(payment_id, action))
        except ActionError as error:
            status = 404 if "not found" in str(error) else 409
            return Response.json({"error": str(error)}, status)
        return Response.json({"payment": self.state.payment(payment_id).data})

    def control_preference(self, request: Request) -> Response:
        try:
            payment, target = self._checkout(request.params["id"], request.params["action"])
        except ActionError as error:
            return Response.json({"error": str(error)}, 409)
        return Response.json({"payment": payment, "redirect_url": target})
