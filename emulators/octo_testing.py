"""Run the OCTO panel emulator from tests and scripts, and drive its control API.

    with running_octo_panel() as panel:
        supplier = panel.supplier(demo_supplier())      # or any catalogue (octo_catalogue.py)
        panel.notify_to(supplier["id"], "http://demo.localhost:8000/panel/demo/notifications/",
                        token="s3cret")
        panel.desk_booking(supplier["id"], "PNL-BEAGLE-CAT", availability_id, {"adulto": 2})
        panel.fault(down=True)                          # or slow_seconds=, fail_next=, sold_out=
        assert panel.counters()[("reserve", reservation_uuid)]["applied"] == 1

`python -m emulators.octo` runs as its own process on a free port, polled on
`GET /_emulator/health` until it answers, and is terminated (SIGTERM) at exit. Its state is kept
in a file of a temporary folder, so `panel.stop()` then `panel.start()` is a real outage
(connections refused) after which the panel still knows its bookings and counters.
"""

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from emulators.testing import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 10
CONTROL_TIMEOUT_SECONDS = 10


class ControlError(Exception):
    """The control API refused a call: `status` and the JSON `body` it answered."""

    def __init__(self, status: int, body: object) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


class DeskRefused(ControlError):
    """The desk could not sell (sold out, closed): the panel's OCTO error is in `body`."""


def _call(base_url: str, path: str, body: object = None, method: str | None = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base_url + path,
        data=data,
        method=method or ("POST" if data is not None else "GET"),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=CONTROL_TIMEOUT_SECONDS) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            detail = json.loads(payload)
        except ValueError:
            detail = payload.decode(errors="replace")
        raise (DeskRefused if error.code == 409 else ControlError)(error.code, detail) from None


class OctoPanel:
    """A running emulator: its URLs and the control API's calls, by supplier id."""

    def __init__(self, host: str, port: int, state_file: str | None, log: object) -> None:
        self.host, self.port, self.state_file, self.log = host, port, state_file, log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The OCTO base URL, as a supplier's `endpoint`."""
        return self.url + "/octo/v1"

    def control(self, path: str, body: object = None) -> object:
        return _call(self.url, "/_emulator" + path, body)

    # Process -----------------------------------------------------------------------------------

    def start(self) -> None:
        command = [sys.executable, "-m", "emulators.octo", "--host", self.host]
        command += ["--port", str(self.port)]
        if self.state_file:
            command += ["--state-file", self.state_file]
        path = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env={**os.environ, "PYTHONPATH": path}, stderr=self.log
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if self.control("/health").get("ok"):
                    return
            except (OSError, ValueError, ControlError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the OCTO panel did not start on port {self.port}")

    def stop(self) -> None:
        """Terminate the process: connections are refused until `start()`."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    # Catalogue and the panel's own staff -------------------------------------------------------

    def supplier(self, catalogue: dict) -> dict:
        """Create (or replace, same id) a supplier with its key and catalogue."""
        return self.control("/suppliers", catalogue)

    def supplier_state(self, supplier_id: str) -> dict:
        """Its departures with capacity, seats taken, vacancies and status."""
        return self.control(f"/suppliers/{supplier_id}")

    def departure(self, supplier_id: str, product_id: str, availability_id: str) -> dict:
        for product in self.supplier_state(supplier_id)["products"]:
            for option in product["options"]:
                for dep in option["departures"]:
                    if product["id"] == product_id and dep["availabilityId"] == availability_id:
                        return dep
        raise KeyError((product_id, availability_id))

    def desk_booking(
        self,
        supplier_id: str,
        product_id: str,
        availability_id: str,
        units: dict[str, int],
        *,
        status: str = "CONFIRMED",
        option_id: str | None = None,
        **fields: object,
    ) -> dict:
        """A booking made at the panel's desk; `DeskRefused` when it cannot be sold."""
        body = {
            "productId": product_id,
            "optionId": option_id,
            "availabilityId": availability_id,
            "units": units,
            "status": status,
            **fields,
        }
        return self.control(f"/suppliers/{supplier_id}/bookings", body)

    def desk_confirm(self, supplier_id: str, uuid: str) -> dict:
        return self.control(f"/suppliers/{supplier_id}/bookings/{uuid}/confirm", {})

    def desk_cancel(self, supplier_id: str, uuid: str, reason: str | None = None) -> dict:
        return self.control(f"/suppliers/{supplier_id}/bookings/{uuid}/cancel", {"reason": reason})

    def bookings(self, supplier_id: str) -> list[dict]:
        """Every booking of the supplier, each with its `channel` ("api" or "desk")."""
        return self.control(f"/suppliers/{supplier_id}/bookings")["bookings"]

    def _set_departure(self, supplier_id: str, product_id: str, availability_id: str, **change):
        body = {"productId": product_id, "availabilityId": availability_id, **change}
        return self.control(f"/suppliers/{supplier_id}/departures/set", body)

    def set_capacity(
        self, supplier_id: str, product_id: str, availability_id: str, capacity: int, **extra
    ) -> dict:
        return self._set_departure(
            supplier_id, product_id, availability_id, capacity=capacity, **extra
        )

    def close(self, supplier_id: str, product_id: str, availability_id: str, **extra) -> dict:
        return self._set_departure(supplier_id, product_id, availability_id, closed=True, **extra)

    def reopen(self, supplier_id: str, product_id: str, availability_id: str, **extra) -> dict:
        return self._set_departure(supplier_id, product_id, availability_id, closed=False, **extra)

    def add_departure(
        self, supplier_id: str, product_id: str, start: str, capacity: int, **extra
    ) -> dict:
        """`start`: the product's local time (`2026-12-05T10:00`) or an ISO time with offset."""
        body = {"productId": product_id, "start": start, "capacity": capacity, **extra}
        return self.control(f"/suppliers/{supplier_id}/departures", body)

    def set_price(
        self,
        supplier_id: str,
        product_id: str,
        unit_id: str,
        retail: int,
        *,
        net: int | None = None,
        availability_id: str | None = None,
        **extra,
    ) -> dict:
        body = {"productId": product_id, "unitId": unit_id, "retail": retail, **extra}
        if net is not None:
            body["net"] = net
        if availability_id is not None:
            body["availabilityId"] = availability_id
        return self.control(f"/suppliers/{supplier_id}/prices", body)

    def notify_to(
        self,
        supplier_id: str,
        url: str | None,
        *,
        token: str | None = None,
        hmac_secret: str | None = None,
    ) -> dict:
        body = {"url": url, "token": token, "hmac_secret": hmac_secret}
        return self.control(f"/suppliers/{supplier_id}/notifications", body)

    # Faults, clock, what happened --------------------------------------------------------------

    def fault(self, **knobs: object) -> dict:
        """down, slow_seconds, fail_next, fail_always, fail_status, sold_out (and the delivery
        knobs: retries, retry_backoff_seconds, delay_seconds, duplicates, reorder)."""
        return self.control("/behaviour", knobs)

    def clear_faults(self) -> dict:
        return self.fault(
            down=False,
            slow_seconds=0,
            fail_next=0,
            fail_always=False,
            fail_status=500,
            sold_out=False,
        )

    def serving(self) -> dict[str, int]:
        """API requests the panel has received and not answered yet, by "METHOD /path"."""
        return self.control("/health")["serving"]

    def advance_clock(self, seconds: float) -> dict:
        """Move the panel's clock forward (holds expire on it)."""
        return self.control("/clock", {"advance_seconds": seconds})

    def counters(self, supplier_id: str | None = None) -> dict[tuple[str, str], dict]:
        """(operation, uuid) -> {calls, applied, refused} of the OCTO clients' booking calls."""
        query = f"?supplierId={urllib.parse.quote(supplier_id)}" if supplier_id else ""
        rows = self.control("/counters" + query)["counters"]
        return {(row["operation"], row["uuid"]): row for row in rows}

    def exchanges(self, since: int = 0) -> list[dict]:
        """Every OCTO request the panel received after `since`, with the answer it gave."""
        return self.control(f"/exchanges?since={since}")["exchanges"]

    def deliveries(self, **filters: str) -> list[dict]:
        query = urllib.parse.urlencode(filters)
        return self.control("/deliveries" + (f"?{query}" if query else ""))["deliveries"]

    def wait_for_deliveries(
        self, condition: Callable[[list[dict]], bool], timeout: float = 5.0, **filters: str
    ) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            rows = self.deliveries(**filters)
            if condition(rows):
                return rows
            if time.monotonic() > deadline:
                raise TimeoutError(f"OCTO notifications never matched: {rows}")
            time.sleep(0.02)

    def reset(self) -> None:
        """Forget suppliers, bookings, counters and exchanges; default behaviour."""
        self.control("/reset", {})


@contextlib.contextmanager
def running_octo_panel(host: str = "127.0.0.1", stderr: object = None) -> Iterator[OctoPanel]:
    """Start `python -m emulators.octo` on a free port; yield it; terminate it at exit.

    stderr: where its one line per request goes, as for `subprocess.Popen` (default: inherited).
    """
    with tempfile.TemporaryDirectory(prefix="octo-panel-") as folder:
        state_file = str(Path(folder) / "state.pickle")
        last_error: Exception | None = None
        for _ in range(3):  # a free port can be taken between probing and binding: try again
            panel = OctoPanel(host, free_port(host), state_file, stderr)
            try:
                panel.start()
                break
            except RuntimeError as error:
                last_error = error
        else:
            raise RuntimeError("could not start the OCTO panel") from last_error
        try:
            yield panel
        finally:
            panel.stop()
