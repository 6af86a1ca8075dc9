"""Webhook delivery in background threads, with the behaviour knobs and a delivery log.

An action (a click on the hosted page, an API call) produces a batch of `Outgoing` events. Batches
are queued to a background worker, so the request which caused them (for example the redirect
back to the shop) never waits, and by default events arrive in the order they happened. Knobs:
`delay_seconds` before each batch, `reorder` (the batch in reverse order), `duplicates` (extra
deliveries of each event, same event id, after the originals). A failed delivery (connection error
or non-2xx) is retried `retries` times with an exponential backoff starting at
`retry_backoff_seconds`, on its own timer, as providers do (so it may arrive after later events).
"""

import http.client
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from emulators.common import utc_iso

DEFAULT_BEHAVIOUR: dict[str, object] = {
    "duplicates": 0,
    "delay_seconds": 0.0,
    "reorder": False,
    "retries": 3,
    "retry_backoff_seconds": 0.25,
}

DELIVERY_TIMEOUT_SECONDS = 10


@dataclass
class Outgoing:
    """One event for one endpoint; `build` returns (body, headers), signed at send time."""

    event_id: str
    event_type: str
    url: str
    build: Callable[[], tuple[bytes, dict[str, str]]]


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST and return the status. `*.localhost` is reached at 127.0.0.1, Host header kept."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    connect_to = "127.0.0.1" if host == "localhost" or host.endswith(".localhost") else host
    connection_class = http.client.HTTPSConnection if secure else http.client.HTTPConnection
    connection = connection_class(connect_to, port, timeout=DELIVERY_TIMEOUT_SECONDS)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    all_headers = {"Host": parts.netloc.rsplit("@", 1)[-1], "Connection": "close", **headers}
    try:
        connection.request("POST", target, body=body, headers=all_headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


class Dispatcher:
    def __init__(
        self,
        provider: str,
        extra_defaults: dict[str, object] | None = None,
        choices: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        """extra_defaults: the emulator's own knobs; a knob whose default is a string takes
        one of its `choices`."""
        self.provider = provider
        self.defaults = {**DEFAULT_BEHAVIOUR, **(extra_defaults or {})}
        self.choices = choices or {}
        self.behaviour = dict(self.defaults)
        self._log: list[dict] = []
        self._lock = threading.Lock()
        self._in_flight = 0
        self._generation = 0  # bumped by reset(): pending deliveries and retries are dropped
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        worker = threading.Thread(target=self._work, name=f"{provider}-webhooks", daemon=True)
        worker.start()

    # Configuration ---------------------------------------------------------------------------

    def configure(self, changes: object) -> None:
        if not isinstance(changes, dict):
            raise TypeError("behaviour must be a JSON object")
        updated = dict(self.behaviour)
        for key, value in changes.items():
            if key not in self.defaults:
                raise ValueError(f"unknown behaviour {key!r}; known: {sorted(self.defaults)}")
            default = self.defaults[key]
            if isinstance(default, str):
                if value not in self.choices.get(key, ()):
                    raise ValueError(f"{key} must be one of {list(self.choices.get(key, ()))}")
            elif isinstance(default, bool):
                if not isinstance(value, bool):
                    raise TypeError(f"{key} must be true or false")
            elif isinstance(default, int):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise TypeError(f"{key} must be a non-negative integer")
            elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise TypeError(f"{key} must be a non-negative number")
            updated[key] = value
        self.behaviour = updated

    def reset(self) -> None:
        self.behaviour = dict(self.defaults)
        with self._lock:
            self._log.clear()
            self._generation += 1
            self._in_flight = 0

    # Delivery --------------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def deliveries(self, **filters: str) -> list[dict]:
        with self._lock:
            rows = list(self._log)
        return [row for row in rows if all(str(row.get(k)) == v for k, v in filters.items())]

    def send(self, batch: list[Outgoing]) -> None:
        if not batch:
            return
        behaviour = dict(self.behaviour)
        ordered = list(reversed(batch)) if behaviour["reorder"] else list(batch)
        with self._lock:
            self._in_flight += len(ordered) * (1 + int(behaviour["duplicates"]))
            behaviour["generation"] = self._generation
        self._queue.put((ordered, behaviour))

    def _work(self) -> None:
        while True:
            batch, behaviour = self._queue.get()
            if behaviour["delay_seconds"] and behaviour["generation"] == self._generation:
                time.sleep(float(behaviour["delay_seconds"]))
            for copy in range(1 + int(behaviour["duplicates"])):
                for item in batch:
                    self._attempt(item, 1, copy > 0, behaviour)

    def _attempt(self, item: Outgoing, attempt: int, duplicate: bool, behaviour: dict) -> None:
        if behaviour["generation"] != self._generation:
            return  # the emulator was reset since: forget this delivery
        body, headers = item.build()
        status, error = None, None
        try:
            status = post(item.url, body, headers)
        except OSError as exc:
            error = f"{type(exc).__name__}: {exc}"
        failed = status is None or not 200 <= status < 300
        retry = failed and attempt <= int(behaviour["retries"])
        with self._lock:
            if behaviour["generation"] != self._generation:
                return
            self._log.append(
                {
                    "provider": self.provider,
                    "event_id": item.event_id,
                    "type": item.event_type,
                    "target": item.url,
                    "status": status,
                    "error": error,
                    "attempt": attempt,
                    "duplicate": duplicate,
                    "delivered_at": utc_iso(),
                }
            )
            if not retry:
                self._in_flight -= 1
        print(
            f"{self.provider} webhook {item.event_type} {item.event_id} -> {item.url} "
            f"{status or error} (attempt {attempt}{', duplicate' if duplicate else ''})",
            file=sys.stderr,
            flush=True,
        )
        if retry:
            backoff = float(behaviour["retry_backoff_seconds"]) * 4 ** (attempt - 1)
            timer = threading.Timer(
                backoff, self._attempt, args=(item, attempt + 1, duplicate, behaviour)
            )
            timer.daemon = True
            timer.start()
