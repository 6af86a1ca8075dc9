"""The application under gunicorn, as in production, started and stopped by a benchmark."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class GunicornConfig:
    """Processes, and threads per process. The default, four `sync` workers on two cores:
    a worker waits on PostgreSQL for about a third of each hold, so two per core keep the
    cores busy; one thread each, so a worker holding the slot's row lock never waits for the
    GIL behind a thread rendering a page, and every request goes back to the shared accept
    queue (gthread keeps a keep-alive client on the worker that accepted it). The
    configurations measured are in docs/benchmarks.md."""

    workers: int = 4
    threads: int = 1

    @property
    def worker_class(self) -> str:
        return "sync" if self.threads == 1 else "gthread"

    def __str__(self) -> str:
        if self.threads == 1:
            return f"{self.workers} sync workers"
        return f"{self.workers} gthread workers x {self.threads} threads"


@dataclass(frozen=True)
class Server:
    address: str
    port: int
    pid: int
    log: Path


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(
    config: GunicornConfig,
    *,
    probe_host: str,
    probe_path: str = "/",
    address: str = "127.0.0.1",
    start_timeout: float = 60.0,
) -> Iterator[Server]:
    """Serve `project.wsgi:application` on a free loopback port until the block ends.

    The block is entered only once a request with `Host: probe_host` is answered by
    Django (any status below 500), so no benchmark measures the workers' start-up. DEBUG is
    off whatever the caller's environment says: DEBUG records every SQL query in memory.
    """
    port = free_port(address)
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_DEBUG"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "project.wsgi:application",
        f"--bind={address}:{port}",
        f"--workers={config.workers}",
        f"--worker-class={config.worker_class}",
        f"--threads={config.threads}",
        "--preload",
        "--timeout=60",
        "--graceful-timeout=5",
        "--log-level=warning",
    ]
    if Path("/dev/shm").is_dir():
        command.append("--worker-tmp-dir=/dev/shm")
    with tempfile.TemporaryDirectory(prefix="bench-gunicorn-") as scratch:
        log = Path(scratch) / "gunicorn.log"
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                command, cwd=PROJECT_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT
            )
        try:
            _wait_until_serving(process, address, port, probe_host, probe_path, start_timeout, log)
            yield Server(address=address, port=port, pid=process.pid, log=log)
        finally:
            _stop(process)


def _wait_until_serving(
    process: subprocess.Popen,
    address: str,
    port: int,
    host: str,
    path: str,
    timeout: float,
    log: Path,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log_tail(log)}")
        connection = HTTPConnection(address, port, timeout=5)
        try:
            connection.request("GET", path, headers={"Host": host})
            if connection.getresponse().status < 500:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{log_tail(log)}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM is gunicorn's graceful stop; SIGKILL only if that hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def log_tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
