"""The OCTO panel emulator: the operator's external activity panel (its reservation system) as our
platform reaches it, a real HTTP server speaking OCTO v1 under `/octo/v1`, with its own state.

    python -m emulators.octo --port 12113 [--demo] [--state-file var/octo.pickle]

OCTO API (`docs/octo/openapi.yaml`), per supplier, `Authorization: Bearer <api key>`:
`GET /capabilities`, `GET /supplier`, `GET /products`, `GET /products/{id}`, `POST /availability`,
`POST /availability/calendar`, `POST /bookings` (reserve: ON_HOLD for `expirationMinutes`,
default 30; the client's `uuid` makes it idempotent), `GET /bookings` (by `localDate`,
`localDateStart`+`localDateEnd`, `resellerReference` or `supplierReference`, narrowed by
`productId` / `optionId`; the supplier's key sees every booking, the desk's too),
`GET|PATCH /bookings/{uuid}`, `POST /bookings/{uuid}/confirm|cancel|extend`. Paths answer
with and without a trailing slash (the spec writes `/products/`, OCTO's docs `/products`).
`Octo-Capabilities` is honoured and echoed: `octo/pricing` and `octo/content`.

Errors are `{"error", "errorMessage", ...}` with OCTO's codes and, as the spec and OCTO's docs
say ("OCTO will respond to every request with either a 200 OK ... or 400 Bad Request"), status
400 for all of them, UNAUTHORIZED (no key) and FORBIDDEN (unknown key) included. A reserve
beyond the vacancies, on a closed departure or while the panel is sold out is
UNPROCESSABLE_ENTITY (as octotravel's validator expects); a uuid reused with another body is
INVALID_BOOKING_UUID. A departure that is closed, past its booking cutoff or sold out at the
panel shows `vacancies: 0`; a departure is LIMITED under half of its capacity left.

Control API (`/_emulator/...`, JSON; see `emulators/octo_testing.py` for a client):
- `POST /suppliers`: a supplier with its `api_key` and catalogue in one call (format in
  `octo_catalogue.py`; optional `bookings` made at the desk and `notifications`);
  `GET /suppliers/{id}`: its departures with capacity, seats taken, vacancies, status.
- `POST /suppliers/{id}/bookings`: a desk booking (`status` CONFIRMED or ON_HOLD), 409 when
  refused; `POST /suppliers/{id}/bookings/{uuid}/confirm|cancel`; `GET /suppliers/{id}/bookings`.
- `POST /suppliers/{id}/departures` (add), `/departures/set` (`capacity`, `closed`), `/prices`.
- `POST /suppliers/{id}/notifications`: `{url, token?, hmac_secret?}` (`{"url": null}` stops).
- `GET /counters`: per (supplier, operation, uuid) the `calls`, `applied` and `refused` of
  reserve / confirm / cancel / extend / patch. `GET /exchanges?since=N`: every OCTO request and
  the answer given (keys masked), for contract checks. `POST /clock {"advance_seconds"}`.
- `POST /behaviour`: faults `down` (the connection is closed without an answer), `slow_seconds`,
  `fail_next` (that many calls answered `fail_status`, 500 by default, or 502/503/504),
  `fail_always`, `sold_out` (every departure sold out at the panel: reserves refused); and the
  delivery knobs of `webhooks.py`. `GET /deliveries`, `POST /reset`, `GET /health`.

Notifications: OCTO's spec defines none (it only names an `octo/webhooks` capability), so this
is a small scheme of our own. A desk booking, its confirmation, cancellation or expiry, a
capacity change, a closure or reopening, a new departure or a price change POSTs
`{"id", "event": "booking_update"|"availability_update", "supplierId", "productId", "optionId",
"localDateStart", "localDateEnd", "localDate"?, "availabilityId"?, "bookingUuid"?,
"utcCreatedAt"}` with `Authorization: Bearer <token>` and/or `Octo-Signature: t=<unix>,v1=<hex
HMAC-SHA256 of "<t>.<body>">`. The body only names what changed: receivers fetch it again.
Retries and the delivery log are `webhooks.py`'s. Changes an OCTO client made itself are not
notified to it.
"""

import argparse
import hashlib
import hmac
import json
import os
import pickle
import signal
import sys
import threading
import time
import uuid
from collections import Counter, deque
from urllib.parse import urlsplit

from emulators.common import random_id, utc_iso
from emulators.octo_catalogue import parse_supplier
from emulators.octo_control import BASE, OctoControl
from emulators.octo_desk import desk_booking
from emulators.octo_objects import (
    CONTENT,
    SUPPORTED_CAPABILITIES,
    OctoError,
    availability_json,
    bad_request,
    booking_json,
    calendar_day_json,
    product_json,
    supplier_json,
)
from emulators.octo_state import Change, OctoState
from emulators.server import (
    App,
    EmulatorServer,
    Request,
    Response,
    _RequestHandler,
    start_ticker,
)
from emulators.webhooks import Outgoing

DEFAULT_PORT = 12113
MAX_EXCHANGES = 5000
RECORDED_HEADERS = ("authorization", "octo-capabilities", "content-type", "accept-language")
CAPABILITY_DOCS = {
    CONTENT: "Titles, descriptions and locations of products, options and units.",
    "octo/pricing": "Prices in minor units on products, options, units, availability, bookings.",
}


def _mask(header: str) -> str:
    scheme, _, credential = header.partition(" ")
    return f"{scheme} ***{credential[-4:]}" if credential else header


class OctoEmulator(OctoControl, App):
    name = "octo"
    behaviour_defaults = {
        "down": False,
        "slow_seconds": 0.0,
        "fail_next": 0,
        "fail_always": False,
        "fail_status": 500,
        "sold_out": False,
    }

    def __init__(self, public_url: str | None = None, state_file: str | None = None) -> None:
        super().__init__(public_url)
        self.state = OctoState()
        self.state_file = state_file
        self.exchanges: deque = deque(maxlen=MAX_EXCHANGES)
        self._sequence = 0
        # API requests received and not answered yet, by "METHOD /path" under the API's base
        # ("POST /bookings"), for GET /_emulator/health.
        self.serving: Counter = Counter()
        if state_file and os.path.exists(state_file):
            with open(state_file, "rb") as stored:  # written by this emulator only
                self.state = pickle.load(stored)
        api = self._api
        for method, path, handler in [
            ("GET", "/capabilities", self.capabilities),
            ("GET", "/supplier", self.supplier),
            ("GET", "/products", self.products),
            ("GET", "/products/{id}", self.product),
            ("POST", "/availability", self.availability),
            ("POST", "/availability/calendar", self.calendar),
            ("POST", "/bookings", self.reserve),
            ("GET", "/bookings", self.list_bookings),
            ("GET", "/bookings/{uuid}", self.get_booking),
            ("PATCH", "/bookings/{uuid}", self.booking_operation("patch")),
            ("POST", "/bookings/{uuid}/confirm", self.booking_operation("confirm")),
            ("POST", "/bookings/{uuid}/cancel", self.booking_operation("cancel")),
            ("POST", "/bookings/{uuid}/extend", self.booking_operation("extend")),
        ]:
            self.route(method, BASE + path, api(handler))
        self.register_control()

    # Plumbing ----------------------------------------------------------------------------------

    def is_api(self, path: str) -> bool:
        return path == BASE or path.startswith(BASE + "/")

    def is_down(self, path: str) -> bool:
        return self.is_api(path) and bool(self.dispatcher.behaviour["down"])

    def handle(self, request: Request) -> Response:
        if not self.is_api(request.path):
            response = super().handle(request)
            if request.method != "GET" and response.status < 500:
                with self.lock:
                    self._save()
            return response
        key = f"{request.method} {request.path.rstrip('/').removeprefix(BASE)}"
        with self.lock:
            self.serving[key] += 1
        try:
            return self._handle_api(request)
        finally:
            with self.lock:
                self.serving[key] -= 1

    def _handle_api(self, request: Request) -> Response:
        request.path = request.path.rstrip("/")  # `/products/` and `/products` alike
        behaviour = self.dispatcher.behaviour
        if behaviour["slow_seconds"]:  # outside the lock: a slow panel still serves others
            time.sleep(float(behaviour["slow_seconds"]))
        with self.lock:
            failing = behaviour["fail_always"] or behaviour["fail_next"] > 0
            if failing and not behaviour["fail_always"]:
                behaviour["fail_next"] -= 1
        if failing:
            error = OctoError("INTERNAL_SERVER_ERROR", status=int(behaviour["fail_status"]))
            response = Response.json(error.body, error.status)
            if error.status == 503:
                response.headers["Retry-After"] = "1"
        else:
            response = super().handle(request)
        with self.lock:
            self.record(request, response, "fail" if failing else None)
            if request.method != "GET" and not failing:
                self._save()
        return response

    def control_health(self, request: Request) -> Response:
        with self.lock:
            serving = {key: count for key, count in self.serving.items() if count}
        return Response.json({"ok": True, "provider": self.name, "serving": serving})

    def record(self, request: Request, response: Response | None, fault: str | None) -> None:
        self._sequence += 1
        headers = {
            name: (_mask(value) if name.lower() == "authorization" else value)
            for name, value in request.headers.items()
            if name.lower() in RECORDED_HEADERS
        }
        self.exchanges.append(
            {
                "seq": self._sequence,
                "at": utc_iso(),
                "method": request.method,
                "path": request.path,
                "query": request.query_string,
                "requestHeaders": headers,
                "requestBody": request.body.decode("utf-8", errors="replace"),
                "status": response.status if response else None,
                "responseHeaders": dict(response.headers) if response else {},
                "responseBody": response.body.decode("utf-8", errors="replace") if response else "",
                "fault": fault,
            }
        )

    def _save(self) -> None:
        if not self.state_file:
            return
        partial = self.state_file + ".tmp"
        with open(partial, "wb") as stored:
            pickle.dump(self.state, stored)
        os.replace(partial, self.state_file)

    def not_found(self, request: Request) -> Response:
        if not self.is_api(request.path):
            return super().not_found(request)
        message = f"No OCTO endpoint {request.method} {request.path}"
        return Response.json({"error": "NOT_FOUND", "errorMessage": message}, 404)

    def _api(self, handler):
        """Capabilities, authentication, the JSON body, expiries due, OCTO's errors."""

        def wrapped(request: Request) -> Response:
            wanted = [c.strip() for c in request.header("Octo-Capabilities").split(",")]
            caps = [c for c in wanted if c in SUPPORTED_CAPABILITIES]
            headers = {"Octo-Capabilities": ", ".join(caps)}
            try:
                supplier = self._authenticate(request)
                body = self._body(request)
                self.state.sold_out = bool(self.dispatcher.behaviour["sold_out"])
                self.notify(self.state.expire_due())
                data = handler(request, supplier, set(caps), body)
                status = 200
                if CONTENT in caps:
                    headers["Content-Language"] = supplier.locale
                    headers["Available-Languages"] = supplier.locale
            except OctoError as error:
                status, data = error.status, error.body
            response = Response.json(data, status)
            response.headers.update(headers)
            return response

        return wrapped

    def _authenticate(self, request: Request):
        scheme, _, key = request.header("Authorization").strip().partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise OctoError("UNAUTHORIZED")
        supplier = self.state.supplier_for_key(key.strip())
        if supplier is None:
            raise OctoError("FORBIDDEN")
        return supplier

    @staticmethod
    def _body(request: Request) -> dict:
        if request.method == "GET":
            return {}
        try:
            body = request.json()
        except (ValueError, UnicodeDecodeError):
            raise bad_request("The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object")
        return body

    def notify(self, changes: list[Change]) -> None:
        batch = []
        for change in changes:
            target = change.supplier.notifications
            if target is None:
                continue
            days = sorted({dep.local_date for dep in change.departures})
            body: dict = {
                "id": random_id("ntf_"),
                "event": change.event,
                "supplierId": change.supplier.id,
                "productId": change.product_id,
                "optionId": change.option_id,
                "localDateStart": days[0] if days else None,
                "localDateEnd": days[-1] if days else None,
            }
            if len(days) == 1:
                body["localDate"] = days[0]
            if len(change.departures) == 1:
                body["availabilityId"] = change.departures[0].id
            if change.booking_uuid:
                body["bookingUuid"] = change.booking_uuid
            body["utcCreatedAt"] = utc_iso(self.state.now())
            payload = json.dumps(body).encode()

            def build(payload=payload, target=target):
                headers = {
                    "Content-Type": "application/json",
                    "User-Agent": "octo-panel-emulator",
                }
                if target.token:
                    headers["Authorization"] = f"Bearer {target.token}"
                if target.hmac_secret:
                    headers["Octo-Signature"] = signature_header(payload, target.hmac_secret)
                return payload, headers

            batch.append(Outgoing(body["id"], change.event, target.url, build))
        self.dispatcher.send(batch)

    def booking_data(self, supplier, booking, caps: set[str]) -> dict:
        product, option, slot = self.state.booking_context(supplier, booking)
        return booking_json(product, option, booking, slot, caps, self.state.now())

    def tick(self) -> None:
        changes = self.state.expire_due()
        if changes:
            self.notify(changes)
            self._save()

    def reset(self) -> None:
        self.state.reset()
        self.exchanges.clear()

    # OCTO API ----------------------------------------------------------------------------------

    def capabilities(self, request, supplier, caps, body):
        return [
            {"id": cap, "revision": 1, "required": False, "dependencies": [], "docs": docs}
            for cap, docs in CAPABILITY_DOCS.items()
        ]

    def supplier(self, request, supplier, caps, body):
        return supplier_json(supplier, self.base_url(request) + BASE, caps)

    def products(self, request, supplier, caps, body):
        return [product_json(product, caps) for product in supplier.products]

    def product(self, request, supplier, caps, body):
        return product_json(self.state.product(supplier, request.params["id"]), caps)

    def availability(self, request, supplier, caps, body):
        product, option, slots, units = self.state.availability(supplier, body)
        return [availability_json(product, option, slot, caps, units) for slot in slots]

    def calendar(self, request, supplier, caps, body):
        product, option, slots, units = self.state.availability(supplier, body, calendar=True)
        days: dict[str, list] = {}
        for slot in slots:
            days.setdefault(slot.departure.local_date, []).append(slot)
        return [
            calendar_day_json(product, option, day, day_slots, caps, units)
            for day, day_slots in days.items()
        ]

    def reserve(self, request, supplier, caps, body):
        if not body.get("uuid"):  # no uuid from the client: the panel names the booking
            body = {**body, "uuid": str(uuid.uuid4())}
        with self.state.counting(supplier, "reserve", str(body["uuid"])) as counts:
            booking, created = self.state.reserve(supplier, body)
            counts.applied += created
        return self.booking_data(supplier, booking, caps)

    def list_bookings(self, request, supplier, caps, body):
        query = {key: values[-1] for key, values in request.query.items()}
        return [
            self.booking_data(supplier, b, caps) for b in self.state.list_bookings(supplier, query)
        ]

    def get_booking(self, request, supplier, caps, body):
        return self.booking_data(
            supplier, self.state.booking(supplier, request.params["uuid"]), caps
        )

    def booking_operation(self, operation: str):
        act = {
            "confirm": self.state.confirm,
            "cancel": self.state.cancel,
            "extend": self.state.extend,
            "patch": self.state.update,
        }[operation]

        def handler(request, supplier, caps, body):
            booking_uuid = request.params["uuid"]
            with self.state.counting(supplier, operation, booking_uuid) as counts:
                booking, changed = act(supplier, booking_uuid, body)
                counts.applied += changed
            return self.booking_data(supplier, booking, caps)

        return handler


def signature_header(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256)
    return f"t={stamp},v1={digest.hexdigest()}"


class _OctoRequestHandler(_RequestHandler):
    """The shared handler, plus PATCH (OCTO's booking update) and the `down` fault: the request
    is read and the connection closed without an answer."""

    def _serve(self) -> None:
        app = self.server.app
        path = urlsplit(self.path).path
        if app.is_down(path):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            query = urlsplit(self.path).query
            with app.lock:
                app.record(Request(self.command, path, {}, self.headers, body, query), None, "down")
            self.close_connection = True
            print(
                f"{app.name} {self.client_address[0]} {self.command} {self.path} dropped (down)",
                file=sys.stderr,
                flush=True,
            )
            return
        super()._serve()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _serve


class OctoServer(EmulatorServer):
    def __init__(self, app: OctoEmulator, host: str, port: int) -> None:
        super().__init__(app, host, port)
        self.RequestHandlerClass = _OctoRequestHandler


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulators.octo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--public-url", help="base URL clients use (default: the request's Host)")
    parser.add_argument(
        "--state-file", help="keep the state in this file, to survive a stop and a start"
    )
    parser.add_argument(
        "--demo", action="store_true", help="start with the demo operator's supplier"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    app = OctoEmulator(args.public_url, args.state_file)
    if args.demo and not app.state.suppliers:
        from emulators.octo_demo import demo_supplier

        catalogue = demo_supplier()
        supplier = parse_supplier(catalogue)
        app.state.add_supplier(supplier)
        for booking in catalogue.get("bookings", []):
            desk_booking(app.state, supplier, booking)
        app._save()
    server = OctoServer(app, args.host, args.port)
    stop = threading.Event()
    serve = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="octo", daemon=True
    )
    serve.start()
    start_ticker([app], stop)

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    print(f"octo: panel on {server.url}{BASE}", file=sys.stderr, flush=True)
    for supplier in app.state.suppliers.values():
        print(f"octo: supplier {supplier.id} ({supplier.name})", file=sys.stderr, flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()
    print("octo: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
