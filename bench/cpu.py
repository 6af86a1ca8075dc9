"""Where the CPU went during a load: the server's workers, the load generator, the machine.

On two cores the application, PostgreSQL and the load generator compete for the same CPU,
and these machines also run other jobs. Splitting the CPU time of a run into those parts
tells a slow result caused by the code (workers' CPU per request) from one caused by the
host (busy time nobody in the benchmark accounts for). Linux only: elsewhere the figures are
simply absent.
"""

import os
import resource
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


def _ticks() -> int:
    try:
        return os.sysconf("SC_CLK_TCK")
    except (ValueError, OSError):
        return 100


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of one process, or None once it is gone."""
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _ticks()


def process_tree_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process and of all its children, the live ones (read one by
    one) and the ones that have exited (which the kernel adds to the parent's cutime and
    cstime when it reaps them). The difference of two readings is therefore exact even when
    children come and go in between: a PostgreSQL postmaster and its backends."""
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    own_and_reaped = sum(int(value) for value in fields[11:15]) / _ticks()
    return own_and_reaped + sum(
        cpu for child in child_pids(pid) if (cpu := process_cpu_seconds(child)) is not None
    )


def parent_pid(pid: int) -> int | None:
    try:
        return int((PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def command_name(pid: int) -> str:
    try:
        return (PROC / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""


def postmaster_of(backend_pid: int) -> int | None:
    """The postmaster of a PostgreSQL backend (`SELECT pg_backend_pid()`), if that backend
    runs on this machine, in this process namespace: None for a remote server."""
    if not command_name(backend_pid).startswith("postgres"):
        return None
    postmaster = parent_pid(backend_pid)
    if postmaster is None or not command_name(postmaster).startswith("postgres"):
        return None
    return postmaster


def child_pids(pid: int) -> list[int]:
    try:
        return [
            int(child)
            for child in (PROC / str(pid) / "task" / str(pid) / "children").read_text().split()
        ]
    except OSError:
        return []


def machine_busy_seconds() -> float | None:
    """CPU seconds spent not idle, all cores together, since boot (/proc/stat)."""
    try:
        first = (PROC / "stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    return (user + nice + system + irq + softirq + steal) / _ticks()


def self_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class CpuSnapshot:
    workers: dict[int, float]
    load_generator: float
    machine: float | None
    postgresql: float | None = None

    @classmethod
    def take(cls, server_pid: int, *, postmaster_pid: int | None = None) -> "CpuSnapshot":
        """`postmaster_pid`, when given (and on this machine), also measures PostgreSQL:
        the whole cluster, so other clients of the same server count too."""
        workers = {pid: process_cpu_seconds(pid) for pid in child_pids(server_pid)}
        return cls(
            workers={pid: cpu for pid, cpu in workers.items() if cpu is not None},
            load_generator=self_cpu_seconds(),
            machine=machine_busy_seconds(),
            postgresql=None if postmaster_pid is None else process_tree_cpu_seconds(postmaster_pid),
        )


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds used between two snapshots. `other` is the machine's busy time not spent
    in the workers or the load generator (or PostgreSQL, when it was measured): the kernel,
    and whatever else runs, PostgreSQL included when it was not measured."""

    workers: float
    load_generator: float
    machine: float | None
    postgresql: float | None = None

    @property
    def other(self) -> float | None:
        if self.machine is None:
            return None
        return self.machine - self.workers - self.load_generator - (self.postgresql or 0.0)

    @classmethod
    def between(cls, before: CpuSnapshot, after: CpuSnapshot) -> "CpuUse":
        workers = sum(
            after.workers[pid] - cpu for pid, cpu in before.workers.items() if pid in after.workers
        )
        machine = (
            None
            if before.machine is None or after.machine is None
            else after.machine - before.machine
        )
        postgresql = (
            None
            if before.postgresql is None or after.postgresql is None
            else after.postgresql - before.postgresql
        )
        return cls(
            workers=workers,
            load_generator=after.load_generator - before.load_generator,
            machine=machine,
            postgresql=postgresql,
        )
