"""A newcomer's first run, as the README tells it: a fresh clone, `make demo`, the demo
operator's catalogue, Ctrl-C, and nothing left behind but the project's PostgreSQL, which the
demo says it leaves running and `make stop` then stops.

The clone is of this checkout's HEAD (its committed state) in a temporary folder. Its own
PostgreSQL is started on a free port (no DATABASE_URL is given) and every port of the demo is a
free one, so this runs beside a running demo. It uses this suite's virtualenv as it is
(`VENV=…`, nothing installed into it): installing the project again would take a minute and test
pip rather than the project.
"""

import contextlib
import hashlib
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from emulators.aws import free_port

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 300  # a cold start: initdb, every migration, npm ci, two operators seeded
STOP_TIMEOUT = 60
SERVICES = {"postgres", "moto", "emulators", "oidc", "octo", "mailbox", "huey", "web"}

# Started as a terminal starts a foreground job: SIGINT at its default (a background job of a
# non-interactive shell, or a test worker, may have it ignored, which `exec` would pass on).
AS_IN_A_TERMINAL = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execvp(sys.argv[1], sys.argv[1:])"
)


def processes_in_group(group: int) -> list[str]:
    """The processes of a process group, as 'pid command' lines."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[2]) == group:  # the 5th field, counted after "pid (command)"
            found.append(f"{stat.parent.name} {text[text.index('(') + 1 : text.rindex(')')]}")
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid)


def _state(pid: int) -> str:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return "gone"
    return re.search(r"^State:\s*(.*)$", status, re.M).group(1)


def recorded(clone: Path) -> dict[str, int]:
    """The services the clone recorded in var/run/: name -> pid."""
    return {
        file.stem: int(file.read_text().split()[0]) for file in (clone / "var/run").glob("*.pid")
    }


def catalogue(port: int) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/", headers={"Host": f"demo.localhost:{port}"})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def get(port: int, path: str = "/") -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


class Newcomer:
    """A clone, its environment, and what ran in it."""

    def __init__(self, clone: Path, log: Path):
        self.clone = clone
        self.log = log
        self.ports = {
            "LOCAL_PG_PORT": free_port(),
            "DEMO_PORT": free_port(),
            "DEMO_MOTO_PORT": free_port(),
            "DEMO_STRIPE_PORT": free_port(),
            "DEMO_MERCADOPAGO_PORT": free_port(),
            "DEMO_OCTO_PORT": free_port(),
            "DEMO_OIDC_PORT": free_port(),
            "DEMO_MAIL_PORT": free_port(),
        }
        # Nothing of this suite's environment (its DATABASE_URL, AWS endpoints, make's flags):
        # what a newcomer's shell has.
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8",
        } | {name: str(port) for name, port in self.ports.items()}
        self.venv = f"VENV={sys.prefix}"
        self.demo: subprocess.Popen | None = None
        self.groups: set[int] = set()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start_demo(self) -> subprocess.Popen:
        with self.log.open("wb") as log:
            self.demo = subprocess.Popen(
                [sys.executable, "-c", AS_IN_A_TERMINAL, "make", "demo", self.venv],
                cwd=self.clone,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, as a terminal's job
            )
        self.groups.add(self.demo.pid)
        return self.demo

    def wait_for(self, condition, what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.demo.poll() is not None:
                pytest.fail(
                    f"make demo exited ({self.demo.returncode}) before {what}:\n{self.output()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} within {timeout} s:\n{self.output()}")
            time.sleep(0.5)

    def make(self, *target: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["make", *target, self.venv],
            cwd=self.clone,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=STOP_TIMEOUT,
            check=False,
        )

    def clean_up(self) -> None:
        """Whatever happened: stop every process the clone started, its PostgreSQL included,
        and remove the clone (and the data folder PostgreSQL may have had outside it)."""
        for group in self.groups:
            for line in processes_in_group(group):
                _kill(int(line.split()[0]), signal.SIGKILL)
        for name, pid in recorded(self.clone).items():
            if name != "postgres":
                _kill(-pid, signal.SIGKILL)
        data_folders = [
            self.clone / "var/pg",
            Path(
                f"/var/tmp/andes-booking-pg-{hashlib.md5(str(self.clone).encode()).hexdigest()[:12]}"
            ),
        ]
        for data in data_folders:
            lock = data / "postmaster.pid"
            if lock.exists():
                pid = int(lock.read_text().split()[0])
                _kill(pid, signal.SIGINT)  # fast shutdown
                deadline = time.monotonic() + 30
                while alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.1)
                if alive(pid):
                    _kill(pid, signal.SIGKILL)
            shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(self.clone, ignore_errors=True)


def _kill(target: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(target, sig)


@pytest.fixture
def newcomer(tmp_path: Path):
    # Under /tmp rather than pytest's folder (mode 700): as root, the PostgreSQL server runs as
    # the postgres user, which must reach the clone's var/pg.
    clone = Path(tempfile.mkdtemp(prefix="andes-newcomer-"))
    clone.chmod(0o755)
    someone = Newcomer(clone, tmp_path / "make-demo.log")
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        subprocess.run(["git", "-C", str(clone), "checkout", "-q", "--detach", head], check=True)
        yield someone
    finally:
        someone.clean_up()


def test_make_demo_from_a_fresh_clone_serves_the_demo_and_stops_on_ctrl_c(newcomer: Newcomer):
    ports = newcomer.ports
    web = ports["DEMO_PORT"]
    demo = newcomer.start_demo()

    def serves_the_catalogue() -> bool:
        try:
            status, page = catalogue(web)
        except OSError:
            return False
        return status == 200 and "Navegación por el Canal Beagle" in page

    newcomer.wait_for(serves_the_catalogue, "demo operator's catalogue", START_TIMEOUT)
    newcomer.wait_for(lambda: "Ctrl-C stops the demo." in newcomer.output(), "summary", 30)
    status, mailbox = get(ports["DEMO_MAIL_PORT"])
    assert status == 200 and "E-mails the demo sent" in mailbox

    output = newcomer.output()
    # One line per service, with its address; nothing that looks like an error.
    for line in (
        f"postgres: started on 127.0.0.1:{ports['LOCAL_PG_PORT']} (data in var/pg)",
        f"moto:        http://127.0.0.1:{ports['DEMO_MOTO_PORT']} ",
        f"stripe:      http://localhost:{ports['DEMO_STRIPE_PORT']} ",
        f"mercadopago: http://localhost:{ports['DEMO_MERCADOPAGO_PORT']} ",
        f"oidc:        http://127.0.0.1:{ports['DEMO_OIDC_PORT']} ",
        f"octo:        http://127.0.0.1:{ports['DEMO_OCTO_PORT']}/octo/v1 ",
        f"mailbox:     http://localhost:{ports['DEMO_MAIL_PORT']}/ ",
        f"web:         http://127.0.0.1:{web} ",
        f"Patagonia Demo Tours (ARS):   http://demo.localhost:{web}/",
    ):
        assert line in output, f"{line!r} missing from:\n{output}"
    assert not re.search(r"curl:|Traceback|[Ee]rror|\*\*\*|Failed", output), output

    services = recorded(newcomer.clone)
    assert set(services) == SERVICES, services
    newcomer.groups.update(pid for name, pid in services.items() if name != "postgres")
    assert all(alive(pid) for pid in services.values())

    os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C in the newcomer's terminal
    try:
        demo.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"make demo did not stop on SIGINT:\n{newcomer.output()}")

    output = newcomer.output()
    assert demo.returncode in (0, -signal.SIGINT), output
    stopped = output[output.index("Ctrl-C stops the demo.") :]
    assert "***" not in stopped and "Traceback" not in stopped, stopped
    for name in (
        "the web app",
        "the Huey worker",
        "the mailbox",
        "the activity panel",
        "the OIDC provider",
        "moto",
    ):
        assert f"stopped {name}" in stopped, stopped
    assert f"Left running:\n  PostgreSQL on 127.0.0.1:{ports['LOCAL_PG_PORT']}" in stopped
    assert "'make stop' stops it." in stopped
    left = {group: processes_in_group(group) for group in newcomer.groups}
    assert not any(left.values()), f"left behind: {left}"
    assert set(recorded(newcomer.clone)) == {"postgres"}
    assert alive(services["postgres"])  # as the demo said

    stop = newcomer.make("stop")
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert f"stopped PostgreSQL on 127.0.0.1:{ports['LOCAL_PG_PORT']}" in stop.stdout
    assert not alive(services["postgres"])
    assert recorded(newcomer.clone) == {}
