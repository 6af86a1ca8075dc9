"""The Stripe emulator: API under /v1, hosted Checkout under /checkout, control under /_emulator.

Requests are form-encoded with nested brackets (as the official SDK sends them), responses JSON.
`Authorization: Bearer sk_...` must name an account registered with `POST /_emulator/accounts`.
POSTs honour `Idempotency-Key`: same key and parameters replay the first response, same key with
other parameters (or another endpoint) is Stripe's 400 `idempotency_error`.
"""

import base64
import copy
import hashlib
import hmac
import io
import json
import threading
import time

import segno

from emulators import formdata, pix
from emulators.common import IdempotencyStore, StoredResponse, random_id
from emulators.server import App, HttpError, Request, Response
from emulators.stripe_pages import checkout_page, message_page, success_url
from emulators.stripe_state import (
    DEFAULT_API_VERSION,
    Account,
    ActionError,
    Event,
    StripeError,
    StripeState,
    integer,
)
from emulators.webhooks import Outgoing

NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)


def signature_header(payload: bytes, secrets: list[str], timestamp: int | None = None) -> str:
    """`t=...,v1=...[,v1=...]`: one v1 per secret, as Stripe does while a secret is rolled."""
    stamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{stamp}.".encode() + payload
    signatures = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets]
    return ",".join([f"t={stamp}", *(f"v1={sig}" for sig in signatures)])


def _mask(key: str) -> str:
    if len(key) <= 12:
        return "*" * len(key)
    prefix = key[: key.find("_", 3) + 1] if key.count("_") >= 2 else key[:3]
    return prefix + "*" * (len(key) - len(prefix) - 4) + key[-4:]


class StripeEmulator(App):
    name = "stripe"
    behaviour_defaults = {"refund_settle_seconds": 0.5}

    def __init__(self, public_url: str | None = None) -> None:
        super().__init__(public_url)
        self.state = StripeState()
        self.idempotency = IdempotencyStore()
        self._qr_cache: dict[str, str] = {}
        api = self._api
        self.route("POST", "/v1/checkout/sessions", api(self.create_session))
        self.route("GET", "/v1/checkout/sessions", api(self.list_sessions))
        self.route("GET", "/v1/checkout/sessions/{id}", api(self.retrieve_session))
        self.route("GET", "/v1/checkout/sessions/{id}/line_items", api(self.list_line_items))
        self.route("POST", "/v1/checkout/sessions/{id}/expire", api(self.expire_session))
        self.route("GET", "/v1/payment_intents/{id}", api(self.retrieve("payment_intent")))
        self.route("GET", "/v1/charges/{id}", api(self.retrieve("charge")))
        self.route("POST", "/v1/refunds", api(self.create_refund))
        self.route("GET", "/v1/refunds", api(self.list_refunds))
        self.route("GET", "/v1/refunds/{id}", api(self.retrieve("refund")))
        self.route("GET", "/v1/events", api(self.list_events))
        self.route("GET", "/v1/events/{id}", api(self.retrieve("event")))
        self.route("GET", "/checkout/{id}", self.page)
        self.route("POST", "/checkout/{id}/{action}", self.page_action)
        self.route("GET", "/qr/{name}", self.qr_image)
        self.route("POST", "/_emulator/accounts", self.control_accounts)
        self.route("POST", "/_emulator/stripe/sessions/{id}/{action}", self.control_action)

    def reset(self) -> None:
        self.state.reset()
        self.idempotency.clear()

    # Plumbing --------------------------------------------------------------------------------

    def _account(self, request: Request) -> Account:
        header = request.header("Authorization").strip()
        key = ""
        if header.lower().startswith("bearer "):
            key = header[7:].strip()
        elif header.lower().startswith("basic "):
            key = base64.b64decode(header[6:]).decode(errors="replace").split(":", 1)[0]
        if not key:
            raise StripeError(401, NO_KEY)
        account = self.state.accounts.get(key)
        if account is None:
            raise StripeError(401, f"Invalid API Key provided: {_mask(key)}")
        return account

    def _api(self, handler):
        """Wrap an API handler: auth, parameters, idempotency, Stripe's headers and errors."""

        def wrapped(request: Request) -> Response:
            request_id = random_id("req_", 14)
            key = request.header("Idempotency-Key") if request.method == "POST" else ""
            headers = {
                "Request-Id": request_id,
                "Stripe-Version": request.header("Stripe-Version", DEFAULT_API_VERSION),
            }
            if key:
                headers["Idempotency-Key"] = key
            try:
                account = self._account(request)
                raw = request.body.decode() if request.method == "POST" else request.query_string
                pairs = formdata.pairs(raw)
                if key:
                    replay = self._replay(account, key, request, sorted(pairs))
                    if replay:
                        replay.headers.update(headers)
                        return replay
                status, data = handler(request, account, formdata.decode(pairs), (request_id, key))
            except StripeError as error:
                status, data = error.status, {"error": error.error}
                if status == 401:
                    headers["WWW-Authenticate"] = 'Basic realm="Stripe"'
            response = Response.json(data, status, indent=2)
            response.headers.update(headers)
            if key and status < 400:
                self.idempotency.put(
                    account.api_key,
                    key,
                    StoredResponse(
                        sorted(pairs), "POST", request.path, status, response.body, request_id
                    ),
                )
            return response

        return wrapped

    def _replay(self, account: Account, key: str, request: Request, fingerprint):
        stored = self.idempotency.get(account.api_key, key)
        if stored is None:
            return None
        retry = f"Try using a key other than '{key}' if you meant to execute a different request."
        if stored.path != request.path:
            raise StripeError(
                400,
                "Keys for idempotent requests can only be used for the same endpoint they were "
                f"first used for ('{request.path}' vs '{stored.path}'). {retry}",
                type="idempotency_error",
            )
        if stored.fingerprint != fingerprint:
            raise StripeError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. {retry}",
                type="idempotency_error",
            )
        response = Response(stored.status, stored.body, {"Content-Type": "application/json"})
        response.headers.update(
            {"Idempotent-Replayed": "true", "Original-Request": stored.request_id}
        )
        return response

    def not_found(self, request: Request) -> Response:
        if not request.path.startswith("/v1/"):
            return super().not_found(request)
        message = (
            f"Unrecognized request URL ({request.method}: {request.path}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/."
        )
        return Response.json({"error": {"message": message, "type": "invalid_request_error"}}, 404)

    def deliver(self, events: list[Event]) -> None:
        batch = []
        for event in events:
            account = event.account
            if not account.wants(event.data["type"]):
                continue
            payload = json.dumps(event.data, indent=2).encode()

            def build(payload=payload, account=account):
                return payload, {
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                    "Stripe-Signature": signature_header(payload, account.webhook_secrets),
                }

            batch.append(Outgoing(event.data["id"], event.data["type"], account.webhook_url, build))
        self.dispatcher.send(batch)

    def _expanded(self, data: dict, expand: object, account: Account) -> dict:
        fields = expand if isinstance(expand, list) else []
        if not fields:
            return data
        data = copy.deepcopy(data)
        links = {"payment_intent": "payment_intent", "latest_charge": "charge", "charge": "charge"}
        for name in fields:
            if name == "line_items" and data["object"] == "checkout.session":
                data["line_items"] = self._line_items_list(data["id"])
            elif name in links and isinstance(data.get(name), str):
                data[name] = copy.deepcopy(self.state.owned(links[name], data[name], account).data)
        return data

    def _line_items_list(self, session_id: str) -> dict:
        items = self.state.sessions[session_id].extra["line_items"]
        url = f"/v1/checkout/sessions/{session_id}/line_items"
        return {"object": "list", "data": copy.deepcopy(items), "has_more": False, "url": url}

    @staticmethod
    def _page_of(records, account: Account, url: str, params: dict, **filters) -> dict:
        rows = [
            record.data
            for record in reversed(list(records))
            if record.account is account
            and all(
                value in (None, "") or record.data.get(k) == value for k, value in filters.items()
            )
        ]
        limit = integer(params.get("limit") or 10, "limit", minimum=1)
        after = params.get("starting_after")
        if after:
            ids = [row["id"] for row in rows]
            rows = rows[ids.index(after) + 1 :] if after in ids else []
        return {"object": "list", "data": rows[:limit], "has_more": len(rows) > limit, "url": url}

    # API handlers ----------------------------------------------------------------------------

    def create_session(self, request, account, params, origin):
        session = self.state.create_session(account, params, self.base_url(request))
        return 200, self._expanded(session, params.get("expand"), account)

    def retrieve_session(self, request, account, params, origin):
        record = self.state.owned("checkout.session", request.params["id"], account, "session")
        return 200, self._expanded(record.data, params.get("expand"), account)

    def list_sessions(self, request, account, params, origin):
        records = self.state.sessions.values()
        filters = {"payment_intent": params.get("payment_intent"), "status": params.get("status")}
        return 200, self._page_of(records, account, "/v1/checkout/sessions", params, **filters)

    def list_line_items(self, request, account, params, origin):
        self.state.owned("checkout.session", request.params["id"], account, "session")
        return 200, self._line_items_list(request.params["id"])

    def expire_session(self, request, account, params, origin):
        record = self.state.owned("checkout.session", request.params["id"], account, "session")
        if record.data["status"] != "open":
            raise StripeError(
                400,
                'Only Checkout Sessions with a status in ["open"] can be expired; this one '
                f"is {record.data['status']}.",
            )
        self.deliver(self.state.expire_session(record, origin))
        return 200, record.data

    def retrieve(self, kind: str):
        def handler(request, account, params, origin):
            record = self.state.owned(kind, request.params["id"], account)
            return 200, self._expanded(record.data, params.get("expand"), account)

        return handler

    def create_refund(self, request, account, params, origin):
        refund, events = self.state.create_refund(account, params, origin)
        self.deliver(events)
        delay = float(self.dispatcher.behaviour["refund_settle_seconds"])
        timer = threading.Timer(delay, self._settle_refund, args=(refund["id"],))
        timer.daemon = True
        timer.start()
        return 200, refund

    def _settle_refund(self, refund_id: str) -> None:
        with self.lock:
            self.deliver(self.state.settle_refund(refund_id))

    def list_refunds(self, request, account, params, origin):
        filters = {"payment_intent": params.get("payment_intent"), "charge": params.get("charge")}
        return 200, self._page_of(
            self.state.refunds.values(), account, "/v1/refunds", params, **filters
        )

    def list_events(self, request, account, params, origin):
        records = self.state.events.values()
        return 200, self._page_of(records, account, "/v1/events", params, type=params.get("type"))

    # Hosted pages ----------------------------------------------------------------------------

    def _qr_base64(self, code: str | None) -> str:
        if not code:
            return ""
        if code not in self._qr_cache:
            self._qr_cache[code] = pix.qr_png_base64(code)
        return self._qr_cache[code]

    def page(self, request: Request) -> Response:
        record = self.state.sessions.get(request.params["id"])
        if record is None:
            return Response.html(message_page("This checkout session does not exist."), 404)
        session, extra = record.data, record.extra
        intent = self.state.intents.get(session["payment_intent"] or "")
        html = checkout_page(
            session,
            extra["line_items"],
            intent.data if intent else None,
            extra,
            self._qr_base64(extra["pix_code"]),
        )
        return Response.html(html)

    def _perform(self, session_id: str, action: str, base_url: str) -> list[Event]:
        state = self.state
        actions = {
            "pay": lambda: state.pay_card(session_id),
            "decline": lambda: state.decline_card(session_id),
            "continue": lambda: state.pix_continue(session_id, base_url),
            "pix-continue": lambda: state.pix_continue(session_id, base_url),
            "pix-paid": lambda: state.pix_paid(session_id, base_url),
            "pix-failed": lambda: state.pix_failed(session_id),
            "expire": lambda: self._expire_action(session_id),
        }
        if action not in actions:
            raise HttpError(Response.json({"error": f"unknown action {action!r}"}, 404))
        events = actions[action]()
        self.deliver(events)
        return events

    def _expire_action(self, session_id: str) -> list[Event]:
        record = self.state.session(session_id)
        if record.data["status"] != "open":
            raise ActionError(f"This Checkout Session is {record.data['status']}.")
        return self.state.expire_session(record)

    def page_action(self, request: Request) -> Response:
        session_id, action = request.params["id"], request.params["action"]
        if action not in ("pay", "decline", "continue", "pix-paid"):
            return Response.html(message_page("Unknown action."), 404)
        try:
            self._perform(session_id, action, self.base_url(request))
        except ActionError as error:
            return Response.html(message_page(str(error)), 409)
        session = self.state.sessions[session_id].data
        target = success_url(session) if action != "decline" else None
        return Response.redirect(target or f"/checkout/{session_id}")

    def qr_image(self, request: Request) -> Response:
        name = request.params["name"]
        intent_id, _, kind = name.rpartition(".")
        intent = self.state.intents.get(intent_id)
        session = self.state.sessions.get(intent.extra["session"]) if intent else None
        code = session.extra["pix_code"] if session else None
        if not code or kind not in ("png", "svg"):
            return Response(404, b"not found", {"Content-Type": "text/plain"})
        if kind == "png":
            return Response(200, pix.qr_png(code), {"Content-Type": "image/png"})
        buffer = io.BytesIO()
        segno.make(code, error="m").save(buffer, kind="svg", scale=5)
        return Response(200, buffer.getvalue(), {"Content-Type": "image/svg+xml"})

    # Control API -----------------------------------------------------------------------------

    def control_accounts(self, request: Request) -> Response:
        body = request.json()
        key = body.get("api_key") if isinstance(body, dict) else None
        if not isinstance(key, str) or not key.startswith(("sk_test_", "sk_live_", "rk_")):
            return Response.json({"error": "api_key (sk_test_...) is required"}, 400)
        secrets = body.get("webhook_secrets") or (
            [body["webhook_secret"]] if body.get("webhook_secret") else []
        )
        if body.get("webhook_url") and not secrets:
            return Response.json({"error": "webhook_secrets are required with webhook_url"}, 400)
        account = Account(
            api_key=key,
            webhook_url=body.get("webhook_url") or None,
            webhook_secrets=list(secrets),
            api_version=body.get("api_version") or DEFAULT_API_VERSION,
            enabled_events=list(body.get("enabled_events") or ["*"]),
        )
        existing = self.state.accounts.get(key)
        if existing:  # keep object ownership: update in place (e.g. a secret rotation)
            existing.__dict__.update(account.__dict__)
            account = existing
        self.state.accounts[key] = account
        return Response.json(vars(account), 201)

    def control_action(self, request: Request) -> Response:
        session_id, action = request.params["id"], request.params["action"]
        try:
            events = self._perform(session_id, action, self.base_url(request))
        except ActionError as error:
            return Response.json({"error": str(error)}, 409)
        record = self.state.sessions[session_id]
        intent = self.state.intents.get(record.data["payment_intent"] or "")
        return Response.json(
            {
                "session": record.data,
                "payment_intent": intent.data if intent else None,
                "events": [event.data["id"] for event in events],
                "redirect_url": success_url(record.data) if action != "decline" else None,
            }
        )

    def tick(self) -> None:
        for batch in self.state.expire_due():
            self.deliver(batch)
