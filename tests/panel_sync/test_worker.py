"""The outbox with a real Huey worker (`manage.py run_huey`, its own process, the periodic sweep
on) and a real panel process: the worker is killed mid-push and the panel is stopped for a whole
minute, and still every hold, confirmation and cancellation reaches the panel exactly once.

The test process plays the web: its commits enqueue into a file queue that the worker consumes,
as `make demo` and production do (there with Redis)."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django_tenants.utils import tenant_context

from booking.services import reservation_cancel
from tests.factories import traveller

PANEL_OUTAGE_SECONDS = 60
# After the outage, the sweep runs at the next minute; a push that failed twice in a row waits
# for its second retry (1 min) and then that sweep: three minutes covers the worst case.
RECOVERY_SECONDS = 180


class HueyWorker:
    """One `manage.py run_huey` process on the test database and the shared file queue."""

    def __init__(self, env: dict, log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [sys.executable, "manage.py", "run_huey", "--workers", "2"]
        command += ["--worker-type", "thread", "--delay", "0.1", "--max-delay", "0.5"]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=self.env, stdout=log, stderr=log
            )

    def kill(self) -> None:
        """SIGKILL: no handler runs, its open transaction dies with its connection."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()


@pytest.fixture
def huey_queue(tmp_path) -> Iterator[Path]:
    """This process enqueues tasks into a file queue instead of running them at once."""
    from huey.contrib.djhuey import HUEY

    path = tmp_path / "huey.sqlite3"
    usual = HUEY.storage_kwargs.get("filename")
    HUEY.storage_kwargs["filename"] = str(path)
    HUEY.immediate = False  # the storage is made anew: the file queue
    yield path
    HUEY.immediate = True
    HUEY.storage_kwargs["filename"] = usual


@pytest.fixture
def worker(panel, huey_queue, aws, other_connection, tmp_path) -> Iterator[HueyWorker]:
    database = other_connection
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings_test",
        "DATABASE_URL": (
            f"postgres://{database['user']}@{database['host']}:{database['port']}/"
            f"{database['dbname']}"
        ),
        "HUEY_SQLITE_PATH": str(huey_queue),
        "HUEY_IMMEDIATE": "0",
        "OPERATOR_SECRET_ID": settings.OPERATOR_SECRET_ID,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": aws,
    }
    worker = HueyWorker(env, tmp_path / "huey.log")
    worker.start()
    try:
        yield worker
    finally:
        worker.kill()
        # What the worker said, for a failure's report.
        sys.stderr.write(worker.log.read_text()[-4000:])


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds} s"
        time.sleep(0.1)


def test_a_worker_killed_mid_push_and_a_panel_down_for_a_minute_lose_and_double_nothing(
    panel, worker
):
    slot = panel.slot()
    # Delivered by the worker as soon as the hold commits.
    cancelled = panel.hold(slot, 1, scope="browser-c")
    wait_for(lambda: panel.counts("reserve", cancelled.uuid)["applied"] == 1, 30, "a push")

    # The worker is killed while the (slow) panel is taking a hold: the panel books it, our side
    # never records the delivery, and Huey has already taken the task off its queue.
    panel.octo.fault(slow_seconds=5.0)
    paid = panel.hold(slot, 2, scope="browser-a")
    wait_for(lambda: "POST /bookings" in panel.octo.serving(), 30, "the push at the panel")
    worker.kill()  # while the panel sits on the request
    panel.octo.clear_faults()
    assert panel.panel_booking(paid.uuid, wait=30)["status"] == "ON_HOLD"

    # The panel goes away for a minute; the worker comes back meanwhile, and the traveller
    # pays, another holds, a third cancels: every push fails and waits for its retry.
    panel.octo.stop()
    outage_began = time.monotonic()
    try:
        worker.start()
        panel.pay(paid)
        held = panel.hold(slot, 3, scope="browser-b")
        with tenant_context(panel.operator):
            reservation_cancel(reservation_id=cancelled.pk, actor=traveller("browser-c"))
        wait_for(
            lambda: all(m.attempts for m in panel.pushes() if m.delivered_at is None),
            30,
            "a first attempt at every push",
        )
        time.sleep(max(0.0, PANEL_OUTAGE_SECONDS - (time.monotonic() - outage_began)))
        assert all(m.delivered_at is None for m in panel.pushes()[1:])  # nothing got through
    finally:
        panel.octo.start()

    # Back: the sweep delivers what waited, and what the killed worker had half done is found
    # at the panel under our uuid, not booked again.
    wait_for(
        lambda: all(m.delivered_at for m in panel.pushes()),
        RECOVERY_SECONDS,
        "the delivery of every push",
    )
    assert [m.payload["change"] for m in panel.pushes()] == [
        "held",
        "held",
        "paid",
        "held",
        "cancelled",
    ]
    assert panel.counts("reserve", paid.uuid)["calls"] == 2  # asked again after the kill
    assert panel.counts("reserve", paid.uuid)["applied"] == 1
    assert panel.counts("confirm", paid.uuid) == {"calls": 1, "applied": 1, "refused": 0}
    assert panel.counts("reserve", held.uuid)["applied"] == 1
    assert panel.counts("reserve", cancelled.uuid)["applied"] == 1
    assert panel.counts("cancel", cancelled.uuid)["applied"] == 1
    assert panel.panel_booking(paid.uuid)["status"] == "CONFIRMED"
    assert panel.panel_booking(held.uuid)["status"] == "ON_HOLD"
    assert panel.panel_booking(cancelled.uuid)["status"] == "CANCELLED"
    assert panel.departure()["vacancies"] == 10 - 2 - 3
