"""Run the emulators from tests and end-to-end scripts.

    with running_emulators() as emulators:
        emulators.stripe_account("sk_test_x", webhook_url=..., webhook_secrets=["whsec_x"])
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": emulators.stripe_url})
        ...
        emulators.wait_for_deliveries("stripe", lambda rows: len(rows) >= 3)

The process runs on free ports, is polled on `GET /_emulator/health` until both answer, and is
terminated (SIGTERM) at exit. Helpers speak the control API with urllib only.
"""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 10


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def control(base_url: str, path: str, body: object = None, method: str | None = None) -> object:
    """Call the control API (JSON in, JSON out); raise `urllib.error.HTTPError` on 4xx/5xx."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base_url + path,
        data=data,
        method=method or ("POST" if data is not None else "GET"),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def _healthy(url: str) -> bool:
    try:
        return bool(control(url, "/_emulator/health").get("ok"))
    except (OSError, ValueError):
        return False


@dataclass
class Emulators:
    stripe_url: str
    mercadopago_url: str
    process: subprocess.Popen

    def url(self, provider: str) -> str:
        return {"stripe": self.stripe_url, "mercadopago": self.mercadopago_url}[provider]

    def stripe_account(self, api_key: str, **settings: object) -> dict:
        """settings: webhook_url, webhook_secrets, api_version, enabled_events."""
        return control(self.stripe_url, "/_emulator/accounts", {"api_key": api_key, **settings})

    def mercadopago_account(self, access_token: str, **settings: object) -> dict:
        """settings: webhook_secret, user_id, site_id, notification_url."""
        body = {"access_token": access_token, **settings}
        return control(self.mercadopago_url, "/_emulator/accounts", body)

    def behaviour(self, provider: str, **knobs: object) -> dict:
        """knobs: duplicates, delay_seconds, reorder, retries, retry_backoff_seconds, hang
        ("none", "before", "after": accept every API request and never answer it), ..."""
        return control(self.url(provider), "/_emulator/behaviour", knobs)

    def reset(self, provider: str | None = None) -> None:
        for name in [provider] if provider else ["stripe", "mercadopago"]:
            control(self.url(name), "/_emulator/reset", {})

    def control_action(self, provider: str, path: str) -> object:
        """Do what a payer would on a hosted page, e.g.
        `control_action("stripe", "/_emulator/stripe/sessions/cs_1/pay")`."""
        return control(self.url(provider), path, {})

    def deliveries(self, provider: str, **filters: str) -> list[dict]:
        query = urllib.parse.urlencode(filters)
        path = "/_emulator/deliveries" + (f"?{query}" if query else "")
        return control(self.url(provider), path)["deliveries"]

    def wait_for_deliveries(
        self,
        provider: str,
        condition: Callable[[list[dict]], bool],
        timeout: float = 5.0,
        **filters: str,
    ) -> list[dict]:
        """Poll the delivery log until `condition(rows)` holds; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.deliveries(provider, **filters)
            if condition(rows):
                return rows
            if time.monotonic() > deadline:
                raise TimeoutError(f"{provider} deliveries never matched: {rows}")
            time.sleep(0.02)


def _start(host: str, log: object) -> Emulators:
    stripe_port, mercadopago_port = free_port(host), free_port(host)
    command = [
        sys.executable, "-m", "emulators", "--host", host,
        "--stripe-port", str(stripe_port), "--mercadopago-port", str(mercadopago_port),
    ]  # fmt: skip
    path = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env={**os.environ, "PYTHONPATH": path}, stderr=log
    )
    emulators = Emulators(
        f"http://{host}:{stripe_port}", f"http://{host}:{mercadopago_port}", process
    )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        if _healthy(emulators.stripe_url) and _healthy(emulators.mercadopago_url):
            return emulators
        time.sleep(0.05)
    _stop(process)
    raise RuntimeError(f"emulators did not start (exit code {process.returncode})")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running_emulators(host: str = "127.0.0.1", stderr: object = None) -> Iterator[Emulators]:
    """Start `python -m emulators` on free ports; yield its URLs; terminate it at exit.

    stderr: where the per-request log goes, as for `subprocess.Popen` (default: inherited).
    """
    last_error: Exception | None = None
    for _ in range(3):  # a free port can be taken between probing and binding: try again
        try:
            emulators = _start(host, stderr)
            break
        except RuntimeError as error:
            last_error = error
    else:
        raise RuntimeError("could not start the emulators") from last_error
    try:
        yield emulators
    finally:
        _stop(emulators.process)
