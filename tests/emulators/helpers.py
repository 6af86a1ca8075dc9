"""Test helpers: a webhook receiver, and a "browser" that clicks the hosted pages' buttons."""

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urljoin, urlsplit


@dataclass
class Hook:
    """One webhook as the receiver saw it."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    answered: int
    at: float

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """A local HTTP server standing in for the shop's webhook endpoints.

    Reached as `shop.localhost:<port>`, so deliveries also exercise the emulators' rule that a
    `*.localhost` host is connected to at 127.0.0.1 with its Host header kept.
    """

    def __init__(self) -> None:
        self.hooks: list[Hook] = []
        self.statuses: list[int] = []  # answers to give, in order; then 200
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                url = urlsplit(self.path)
                with receiver._lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.hooks.append(
                        Hook(
                            url.path,
                            {k: v[-1] for k, v in parse_qs(url.query).items()},
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            status,
                            time.monotonic(),
                        )
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://shop.localhost:{self.port}{path}"

    def wait(self, count: int, timeout: float = 5.0, settle: float = 0.0) -> list[Hook]:
        """At least `count` hooks (then `settle` seconds more, to catch extras)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                hooks = list(self.hooks)
            if len(hooks) >= count:
                if settle:
                    time.sleep(settle)
                    with self._lock:
                        hooks = list(self.hooks)
                return hooks
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} webhooks, got {len(hooks)}: {hooks}")
            time.sleep(0.01)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Forms(HTMLParser):
    """Collects `<form method=post action=...>` and the labels of their submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str]] = []  # (action, button label)
        self._action: str | None = None
        self._in_button = False
        self._label = ""
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "form" and (attributes.get("method") or "").lower() == "post":
            self._action = attributes.get("action") or ""
        elif tag == "button" and self._action is not None:
            self._in_button, self._label = True, ""
        elif tag == "a":
            self._href, self._label = attributes.get("href"), ""

    def handle_data(self, data: str) -> None:
        if self._in_button or self._href is not None:
            self._label += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._in_button:
            self.forms.append((self._action or "", self._label.strip()))
            self._in_button = False
        elif tag == "form":
            self._action = None
        elif tag == "a" and self._href is not None:
            self.links.append((self._href, self._label.strip()))
            self._href = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


@dataclass
class Page:
    url: str
    status: int
    headers: dict[str, str]
    text: str

    def parsed(self) -> _Forms:
        parser = _Forms()
        parser.feed(self.text)
        return parser

    @property
    def buttons(self) -> list[str]:
        return [label for _, label in self.parsed().forms]

    def link(self, label: str) -> str:
        return next(href for href, text in self.parsed().links if text == label)

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


def fetch(url: str, method: str = "GET") -> Page:
    request = urllib.request.Request(url, data=b"" if method == "POST" else None, method=method)
    try:
        response = _opener.open(request, timeout=10)
    except urllib.error.HTTPError as error:  # 3xx (not followed) and 4xx land here
        response = error
    with response:
        return Page(url, response.status, dict(response.headers), response.read().decode())


def fetch_bytes(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def click(page: Page, label: str) -> Page:
    """Submit the form of the button named `label` (exact accessible name), like a browser."""
    actions = [action for action, text in page.parsed().forms if text == label]
    assert actions, f"no button {label!r} on the page; buttons: {page.buttons}"
    return fetch(urljoin(page.url, actions[0]), method="POST")


def control(base_url: str, path: str, body: object = None) -> tuple[int, dict]:
    data = json.dumps(body if body is not None else {}).encode()
    request = urllib.request.Request(base_url + path, data=data, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
