"""pgbench, the baseline: what PostgreSQL itself does with a transaction on this machine,
measured in the same run as the application so that the ratio survives a noisy host."""

import os
import re
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from shutil import which


@dataclass(frozen=True)
class PgbenchResult:
    tps: float
    transactions: int
    failed: int
    latencies: list[float]  # seconds, one per transaction, from pgbench's own log
    clients: int
    seconds: int
    binary: Path


def pgbench_binary() -> Path:
    """Debian installs one pgbench per server major version; the newest speaks to all."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pgbench"),
        key=lambda path: [int(part) for part in re.findall(r"\d+", path.parent.parent.name)],
    )
    if found:
        return found[-1]
    if path := which("pgbench"):
        return Path(path)
    raise FileNotFoundError("pgbench not found: install postgresql-client or postgresql")


def libpq_environment(database: Mapping) -> dict[str, str]:
    """Django's DATABASES entry as libpq variables, so pgbench connects exactly where the
    application does, without a password on the command line."""
    env = dict(os.environ)
    for variable, value in (
        ("PGHOST", database.get("HOST")),
        ("PGPORT", database.get("PORT")),
        ("PGUSER", database.get("USER")),
        ("PGPASSWORD", database.get("PASSWORD")),
        ("PGDATABASE", database.get("NAME")),
        ("PGSSLMODE", (database.get("OPTIONS") or {}).get("sslmode")),
    ):
        if value:
            env[variable] = str(value)
    return env


def run_pgbench(
    *, script: str, database: Mapping, clients: int, threads: int, seconds: int
) -> PgbenchResult:
    """Run `script` (pgbench's custom script language) from `clients` connections for
    `seconds`, without pgbench's own tables (`-n`: nothing to vacuum)."""
    binary = pgbench_binary()
    with tempfile.TemporaryDirectory(prefix="bench-pgbench-") as scratch:
        script_path = Path(scratch) / "transaction.sql"
        script_path.write_text(script)
        completed = subprocess.run(
            [
                str(binary),
                "--no-vacuum",
                f"--file={script_path}",
                f"--client={clients}",
                f"--jobs={threads}",
                f"--time={seconds}",
                "--log",
                f"--log-prefix={Path(scratch) / 'transactions'}",
            ],
            env=libpq_environment(database),
            capture_output=True,
            text=True,
            timeout=seconds + 120,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"pgbench failed ({completed.returncode}):\n{completed.stderr}")
        latencies = _transaction_latencies(Path(scratch).glob("transactions.*"))
    output = completed.stdout
    return PgbenchResult(
        tps=float(_field(r"^tps = ([\d.]+) \(without initial connection time\)", output)),
        transactions=int(_field(r"^number of transactions actually processed: (\d+)", output)),
        failed=int(_field(r"^number of failed transactions: (\d+)", output, default="0")),
        latencies=latencies,
        clients=clients,
        seconds=seconds,
        binary=binary,
    )


def _field(pattern: str, output: str, default: str | None = None) -> str:
    match = re.search(pattern, output, re.MULTILINE)
    if match:
        return match.group(1)
    if default is not None:
        return default
    raise RuntimeError(f"pgbench output lacks {pattern!r}:\n{output}")


def _transaction_latencies(logs) -> list[float]:
    """Per-transaction log lines are `client transaction latency_us script epoch us`;
    failed transactions carry a word instead of a latency and are left out."""
    latencies = []
    for log in logs:
        for line in log.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3 and fields[2].isdigit():
                latencies.append(int(fields[2]) / 1_000_000)
    return latencies


def combined(first: PgbenchResult, second: PgbenchResult) -> PgbenchResult:
    """Two runs as one: the baseline is measured in halves, before and after the
    application's load, so that a host that drifts during the run moves both sides alike."""
    busy = sum(run.transactions / run.tps for run in (first, second) if run.tps)
    transactions = first.transactions + second.transactions
    return PgbenchResult(
        tps=transactions / busy if busy else 0.0,
        transactions=transactions,
        failed=first.failed + second.failed,
        latencies=first.latencies + second.latencies,
        clients=first.clients,
        seconds=first.seconds + second.seconds,
        binary=first.binary,
    )
