"""A real OpenID Connect provider for development and tests, in place of Cognito: npm's
certified `oidc-provider`, run by `scripts/oidc/server.mjs` (no login bypass: staff sign in on
its login page with an account id; in development any password is accepted).

    with running_oidc_provider(DEMO_STAFF, site_urls=["http://demo.localhost:8000"]) as op:
        environment = op.environment()   # OIDC_OP_* and OIDC_RP_* for the Django process

From a shell (development): ``python -m emulators.oidc`` serves it on 127.0.0.1:8055 for the
demo operators' sites (``--site URL`` to choose others), prints the variables to export for
the Django process, and runs until Ctrl-C.

Node.js (18 or later) and npm must be there; `make demo` and `make test` install them
(scripts/oidc.sh: Debian's packages, as root) and run `npm ci` in scripts/oidc first. Started
any other way, this module does the same when they are missing.
"""

import argparse
import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROVIDER_DIR = ROOT / "scripts" / "oidc"
DEV_CLIENT_ID = "andes-backoffice"
START_TIMEOUT = 30.0
CALLBACK_PATH = "/oidc/callback/"
SIGNED_OUT_PATH = "/backoffice/signed-out/"


@dataclass(frozen=True)
class StaffAccount:
    """An account at the development provider. `role` is the one it is meant to have at the
    demo operator (None: no membership, to see the no-access page)."""

    sub: str
    email: str
    name: str
    role: str | None = None


DEMO_STAFF = (
    StaffAccount("demo-owner", "olivia.owner@example.com", "Olivia Owner", "owner"),
    StaffAccount("demo-manager", "mateo.manager@example.com", "Mateo Manager", "manager"),
    StaffAccount("demo-agent", "ana.agent@example.com", "Ana Agent", "agent"),
    StaffAccount("demo-outsider", "otto.outsider@example.com", "Otto Outsider", None),
)


@dataclass(frozen=True)
class RunningProvider:
    issuer: str
    client_id: str
    client_secret: str
    discovery: dict

    def settings(self) -> dict[str, str]:
        """The Django settings that point the project at this provider; the same names are
        the environment variables project/settings.py reads them from."""
        return {
            "OIDC_OP_ISSUER": self.discovery["issuer"],
            "OIDC_OP_AUTHORIZATION_ENDPOINT": self.discovery["authorization_endpoint"],
            "OIDC_OP_TOKEN_ENDPOINT": self.discovery["token_endpoint"],
            "OIDC_OP_USER_ENDPOINT": self.discovery["userinfo_endpoint"],
            "OIDC_OP_JWKS_ENDPOINT": self.discovery["jwks_uri"],
            "OIDC_OP_LOGOUT_ENDPOINT": self.discovery["end_session_endpoint"],
            "OIDC_OP_LOGOUT_PROTOCOL": "oidc",
            "OIDC_RP_CLIENT_ID": self.client_id,
            "OIDC_RP_CLIENT_SECRET": self.client_secret,
        }

    def environment(self) -> dict[str, str]:
        return self.settings()


def site_redirect_uris(site_urls: Iterable[str]) -> tuple[list[str], list[str]]:
    """The sign-in callback and the signed-out page of each operator site (scheme, host and
    port, e.g. ``http://demo.localhost:8000``): what the client registers at the provider."""
    sites = [url.rstrip("/") for url in site_urls]
    return [f"{site}{CALLBACK_PATH}" for site in sites], [
        f"{site}{SIGNED_OUT_PATH}" for site in sites
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def node_executable() -> str:
    """Node.js, installed from Debian when missing and we are root."""
    node = shutil.which("node")
    if node is None and os.geteuid() == 0 and shutil.which("apt-get"):
        print("oidc provider: installing Debian's nodejs and npm", file=sys.stderr)
        environment = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=environment)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "nodejs", "npm"],
            check=True,
            env=environment,
            stdout=subprocess.DEVNULL,
        )
        node = shutil.which("node")
    if node is None:
        raise RuntimeError("Node.js 18 or later is needed for the OIDC provider: install nodejs")
    return node


def _pinned_version() -> str:
    manifest = json.loads((PROVIDER_DIR / "package.json").read_text())
    return manifest["dependencies"]["oidc-provider"]


def _installed_version() -> str | None:
    installed = PROVIDER_DIR / "node_modules" / "oidc-provider" / "package.json"
    return json.loads(installed.read_text())["version"] if installed.exists() else None


def ensure_installed() -> None:
    """`npm ci` in scripts/oidc unless the pinned version is already there. A file lock keeps
    parallel test workers from installing at once."""
    if _installed_version() == _pinned_version():
        return
    lock_path = ROOT / "var" / "oidc-provider-install.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_version() == _pinned_version():
            return
        npm = shutil.which("npm")
        if npm is None:
            node_executable()  # installs npm with node on Debian, as root
            npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is needed to install the OIDC provider: install npm")
        # npm's summary ("added 102 packages") would land in the stdout of
        # `python -m emulators.oidc`, which is meant to be sourced by a shell; errors go to stderr.
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=PROVIDER_DIR,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def _discovery(issuer: str) -> dict:
    with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=2) as r:
        return json.load(r)


@contextlib.contextmanager
def running_oidc_provider(
    accounts: Iterable[StaffAccount] = DEMO_STAFF,
    *,
    site_urls: Iterable[str] = (),
    redirect_uris: Iterable[str] = (),
    post_logout_redirect_uris: Iterable[str] = (),
    port: int | None = None,
    client_id: str = DEV_CLIENT_ID,
    client_secret: str | None = None,
    log: Path | None = None,
) -> Iterator[RunningProvider]:
    """Start the provider on 127.0.0.1 (a free port unless given), with one confidential
    client allowed to return to `site_urls`' callback and signed-out pages (and to any
    `redirect_uris` / `post_logout_redirect_uris` given as they are), and these accounts;
    wait until it publishes its discovery document; stop it on exit."""
    node = node_executable()
    ensure_installed()
    port = port or free_port()
    issuer = f"http://127.0.0.1:{port}"
    client_secret = client_secret or secrets.token_urlsafe(24)
    callbacks, signed_out = site_redirect_uris(site_urls)
    config = {
        "port": port,
        "issuer": issuer,
        "client": {
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uris": [*callbacks, *redirect_uris],
            "post_logout_redirect_uris": [*signed_out, *post_logout_redirect_uris],
        },
        "accounts": [
            {"sub": account.sub, "email": account.email, "name": account.name}
            for account in accounts
        ],
    }
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="oidc-dev-")))
        config_path = workdir / "config.json"
        config_path.write_text(json.dumps(config))
        log_path = log or workdir / "provider.log"
        output = stack.enter_context(open(log_path, "ab"))
        process = subprocess.Popen(
            [node, "server.mjs"],
            cwd=PROVIDER_DIR,
            env=os.environ | {"OIDC_DEV_CONFIG": str(config_path)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            discovery = _wait_until_up(process, issuer, log_path)
            yield RunningProvider(
                issuer=issuer,
                client_id=client_id,
                client_secret=client_secret,
                discovery=discovery,
            )
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(process: subprocess.Popen, issuer: str, log_path: Path) -> dict:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            return _discovery(issuer)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                state = (
                    f"exited with {process.returncode}"
                    if process.returncode is not None
                    else f"did not answer within {START_TIMEOUT:.0f} s"
                )
                raise RuntimeError(
                    f"the OIDC provider {state}:\n{log_path.read_text(errors='replace')}"
                ) from None
            time.sleep(0.1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m emulators.oidc",
        description="Serve the development OIDC provider with the demo staff accounts.",
    )
    parser.add_argument("--port", type=int, default=8055)
    parser.add_argument(
        "--site",
        action="append",
        default=[],
        help="an operator site allowed to sign in, e.g. http://demo.localhost:8000 (repeat)",
    )
    parser.add_argument("--client-secret", default="development-only-secret")
    options = parser.parse_args(argv)
    # Stop cleanly (and stop node) on Ctrl-C or a plain `kill`, even when started in the
    # background, where a non-interactive shell leaves SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sites = options.site or ["http://demo.localhost:8000", "http://demo-br.localhost:8000"]
    with running_oidc_provider(
        DEMO_STAFF, site_urls=sites, port=options.port, client_secret=options.client_secret
    ) as provider:
        print(f"OIDC provider at {provider.issuer} for {', '.join(sites)}", file=sys.stderr)
        for account in DEMO_STAFF:
            print(f"  login {account.sub:<14} {account.role or 'no membership'}", file=sys.stderr)
        print("  (any password)", file=sys.stderr)
        for name, value in provider.environment().items():
            print(f"export {name}={value}")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()
