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

    @classmethod
    def take(cls, server_pid: int) -> "CpuSnapshot":
        workers = {pid: process_cpu_seconds(pid) for pid in child_pids(server_pid)}
        return cls(
            workers={pid: cpu for pid, cpu in workers.items() if cpu is not None},
            load_generator=self_cpu_seconds(),
            machine=machine_busy_seconds(),
        )


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds used between two snapshots. `other` is the machine's busy time not spent
    in the workers or the load generator: PostgreSQL, the kernel, and whatever else runs."""

    workers: float
    load_generator: float
    machine: float | None

    @property
    def other(self) -> float | None:
        return None if self.machine is None else self.machine - self.workers - self.load_generator

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
        return cls(
            workers=workers,
            load_generator=after.load_generator - before.load_generator,
            machine=machine,
        )
