"""A tiny routing layer over the standard library's threading HTTP server.

Each emulator is an `App`: routes map a method and a path pattern (`/v1/things/{id}`) to a
handler taking a `Request` and returning a `Response`. Handlers run under the app's lock, so the
in-memory state needs no finer locking. The control API shared by both emulators (health,
behaviour, deliveries, reset) is registered here.

The `hang` behaviour freezes the provider as a real outage can: every request but the control
API's is accepted and never answered. With "before", it is not carried out either; with
"after", it is (objects made, idempotency key recorded) and only its answer is lost. A held
connection is closed, still unanswered, when its client gives up or the hang is lifted
(`{"hang": "none"}`, or a reset).
"""

import json
import re
import select
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from emulators.common import json_number
from emulators.webhooks import Dispatcher


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return json_number(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(data: object, indent: int | None = None) -> bytes:
    """JSON with `Decimal` amounts written as plain numbers (100, 58.8)."""
    return json.dumps(data, indent=indent, default=_json_default).encode()


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    query_string: str = ""
    params: dict[str, str] = field(default_factory=dict)

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default) or default

    def arg(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> object:
        return json.loads(self.body) if self.body.strip() else {}

    def form(self) -> dict[str, str]:
        parsed = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        return {key: values[-1] for key, values in parsed.items()}


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: object, status: int = 200, indent: int | None = None) -> "Response":
        body = dumps(data, indent=indent)
        return cls(status, body, {"Content-Type": "application/json; charset=utf-8"})

    @classmethod
    def html(cls, text: str, status: int = 200) -> "Response":
        return cls(status, text.encode(), {"Content-Type": "text/html; charset=utf-8"})

    @classmethod
    def redirect(cls, url: str, status: int = 303) -> "Response":
        return cls(status, b"", {"Location": url})


class HttpError(Exception):
    """Raised by handlers to answer with a ready-made (error) response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


Handler = Callable[[Request], Response]

# Knobs of every emulator's server, beside each emulator's own (see the module's docstring).
SERVER_BEHAVIOUR: dict[str, object] = {"hang": "none"}
SERVER_BEHAVIOUR_CHOICES = {"hang": ("none", "before", "after")}
CONTROL_PREFIX = "/_emulator/"


def _compile(pattern: str) -> re.Pattern:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(f"^{regex}$")


class App:
    """Routes, a lock, the webhook dispatcher and the shared control endpoints."""

    name = "app"
    behaviour_defaults: dict[str, object] = {}

    def __init__(self, public_url: str | None = None) -> None:
        self.public_url = public_url.rstrip("/") if public_url else None
        self.lock = threading.RLock()
        self.dispatcher = Dispatcher(
            self.name, {**SERVER_BEHAVIOUR, **self.behaviour_defaults}, SERVER_BEHAVIOUR_CHOICES
        )
        self._routes: list[tuple[str, re.Pattern, Handler]] = []
        self.route("GET", "/_emulator/health", self.control_health)
        self.route("GET", "/_emulator/behaviour", self.control_behaviour)
        self.route("POST", "/_emulator/behaviour", self.control_behaviour)
        self.route("GET", "/_emulator/deliveries", self.control_deliveries)
        self.route("POST", "/_emulator/reset", self.control_reset)

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, _compile(pattern), handler))

    def base_url(self, request: Request) -> str:
        return self.public_url or f"http://{request.header('Host', 'localhost')}"

    def handle(self, request: Request) -> Response:
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if match and method == request.method:
                request.params = match.groupdict()
                try:
                    with self.lock:
                        return handler(request)
                except HttpError as error:
                    return error.response
        return self.not_found(request)

    def not_found(self, request: Request) -> Response:
        return Response.json({"error": f"no route for {request.method} {request.path}"}, 404)

    def hang(self, request: Request) -> str:
        """How this request hangs: "none", "before" or "after" (the control API never does)."""
        if request.path.startswith(CONTROL_PREFIX):
            return "none"
        return str(self.dispatcher.behaviour["hang"])

    def tick(self) -> None:
        """Called about once a second: time-driven transitions (expiries)."""

    def reset(self) -> None:
        """Forget every object and account."""

    # Control API ----------------------------------------------------------------------------

    def control_health(self, request: Request) -> Response:
        return Response.json({"ok": True, "provider": self.name})

    def control_behaviour(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                self.dispatcher.configure(request.json())
            except (ValueError, TypeError) as error:
                return Response.json({"error": str(error)}, 400)
        return Response.json(self.dispatcher.behaviour)

    def control_deliveries(self, request: Request) -> Response:
        filters = {key: values[-1] for key, values in request.query.items()}
        return Response.json(
            {
                "deliveries": self.dispatcher.deliveries(**filters),
                "in_flight": self.dispatcher.in_flight,
            }
        )

    def control_reset(self, request: Request) -> Response:
        self.reset()
        self.dispatcher.reset()
        return Response.json({"ok": True})


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "EmulatorServer"

    def _serve(self) -> None:
        started = time.monotonic()
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        query = parse_qs(url.query, keep_blank_values=True)
        request = Request(self.command, url.path, query, self.headers, body, url.query)
        app = self.server.app
        hang = app.hang(request)
        if hang == "before":
            return self._never_answer(started, "not carried out")
        try:
            response = app.handle(request)
        except Exception as error:  # a bug in an emulator must not kill the connection
            print(
                f"{app.name}: error handling {self.command} {self.path}: {error!r}", file=sys.stderr
            )
            response = Response.json({"error": "emulator internal error"}, 500)
        if hang == "after":
            return self._never_answer(started, f"carried out ({response.status})")
        self.send_response_only(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        elapsed = (time.monotonic() - started) * 1000
        print(
            f"{app.name} {self.client_address[0]} {self.command} {self.path} "
            f"{response.status} {elapsed:.0f}ms",
            file=sys.stderr,
            flush=True,
        )

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

    def _never_answer(self, started: float, what: str) -> None:
        """Hold the connection, sending nothing, until the client gives up or the hang is
        lifted; then close it."""
        app = self.server.app
        while app.dispatcher.behaviour["hang"] != "none":
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if not readable:
                continue
            try:
                if not self.connection.recv(1, socket.MSG_PEEK):
                    break  # the client closed its end
            except OSError:
                break
            time.sleep(0.05)  # it sent more (a pipelined request): still no answer
        self.close_connection = True
        elapsed = (time.monotonic() - started) * 1000
        print(
            f"{app.name} {self.client_address[0]} {self.command} {self.path} "
            f"{what}, never answered (hang), closed after {elapsed:.0f}ms",
            file=sys.stderr,
            flush=True,
        )

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per request is written by _serve


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's backlog of 5 resets connections when dozens of clients (a race test, a
    # webhook storm) connect at once; real providers and panels do not.
    request_queue_size = 128

    def __init__(self, app: App, host: str, port: int) -> None:
        self.app = app
        super().__init__((host, port), _RequestHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def start_ticker(apps: list[App], stop: threading.Event, interval: float = 0.5) -> None:
    def run() -> None:
        while not stop.wait(interval):
            for app in apps:
                try:
                    with app.lock:
                        app.tick()
                except Exception as error:
                    print(f"{app.name}: tick failed: {error!r}", file=sys.stderr)

    threading.Thread(target=run, name="emulator-ticker", daemon=True).start()
