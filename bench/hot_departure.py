"""Hot departure: many travellers holding seats on one departure at the same moment.

Every hold serialises on one slot row (SELECT ... FOR UPDATE, held through the commit), so
the rate at which holds go through is bounded by what PostgreSQL can do with that lock, and
anything the application does while holding it divides that rate. The benchmark therefore
measures two things in one run, against one database: the real hold endpoint under gunicorn,
and pgbench running the bare lock + update + insert transaction on a scratch table from the
same number of clients. Their ratio is the figure that means something on a noisy two-core
machine (DESIGN.md, "Performance targets": at least one half, p99 under 250 ms, and never a
seat oversold, checked in the database rather than trusted from the responses).

Run with `make bench`; `python -m bench.hot_departure --help` for the knobs.
"""

import argparse
import asyncio
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from bench.cpu import CpuSnapshot, CpuUse
from bench.environment import load_average, machine_facts, setup_django
from bench.loadgen import (
    HttpClient,
    LoadResult,
    closed_loop,
    format_ms,
    latency_summary,
    percentile,
    sample_latencies,
)
from bench.pgbench import PgbenchResult, combined, run_pgbench
from bench.server import GunicornConfig, Server, gunicorn, log_tail

OPERATOR_SCHEMA = "bench"
OPERATOR_DOMAIN = "bench.localhost"
ACTIVITY_SLUG = "hot-departure"
SCRATCH_SCHEMA = "bench_pgbench"

HELD, REFUSED = 303, 409
P99_TARGET = 0.250
RATIO_TARGET = 0.5

SCRATCH_DDL = f"""
DROP SCHEMA IF EXISTS {SCRATCH_SCHEMA} CASCADE;
CREATE SCHEMA {SCRATCH_SCHEMA};
CREATE TABLE {SCRATCH_SCHEMA}.slot (
    id bigint PRIMARY KEY,
    capacity integer NOT NULL,
    taken integer NOT NULL DEFAULT 0 CHECK (taken >= 0 AND taken <= capacity)
);
CREATE TABLE {SCRATCH_SCHEMA}.hold (
    id bigserial PRIMARY KEY,
    slot_id bigint NOT NULL REFERENCES {SCRATCH_SCHEMA}.slot,
    seats integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO {SCRATCH_SCHEMA}.slot (id, capacity) VALUES (1, 2147483647);
"""

# What PostgreSQL alone does for one hold: the same lock, the same kind of row changes, one
# commit. The application's own transaction adds the idempotency row, the reservation's
# line and event, and Python between the statements.
PGBENCH_SCRIPT = f"""\
BEGIN;
SELECT taken, capacity FROM {SCRATCH_SCHEMA}.slot WHERE id = 1 FOR UPDATE;
UPDATE {SCRATCH_SCHEMA}.slot SET taken = taken + 1 WHERE id = 1;
INSERT INTO {SCRATCH_SCHEMA}.hold (slot_id, seats) VALUES (1, 1);
COMMIT;
"""


@dataclass(frozen=True)
class HotDeparture:
    slot_id: int
    rate_id: int
    capacity: int
    host: str

    @property
    def book_path(self) -> str:
        return f"/departures/{self.slot_id}/book/"


@dataclass(frozen=True)
class SeatAudit:
    """The departure as the database has it after the run."""

    capacity: int
    taken: int
    live_seats: int
    live_reservations: int

    @property
    def oversold(self) -> int:
        return max(0, self.taken - self.capacity, self.live_seats - self.capacity)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    setup_django()
    facts = machine_facts()
    departure = _hot_departure_create(args.capacity)
    config = GunicornConfig(workers=args.workers, threads=args.threads)
    print(
        f"hot departure #{departure.slot_id} on {departure.host}: capacity {args.capacity}, "
        f"{args.requests} one-seat holds from {args.clients} clients, gunicorn {config}",
        flush=True,
    )
    # pgbench runs in two halves, before and after the HTTP load, so that a host whose
    # speed drifts during the run moves both sides of the ratio alike.
    halves = (args.pgbench_seconds // 2, args.pgbench_seconds - args.pgbench_seconds // 2)
    with _scratch_schema():
        before = _pgbench(clients=args.clients, seconds=halves[0])
        with gunicorn(config, probe_host=departure.host, probe_path=departure.book_path) as server:
            print(f"load average {load_average()}; sending holds ...", flush=True)
            try:
                load, cpu = asyncio.run(_hold_load(server, departure, args))
            except Exception:
                print(f"gunicorn log (last lines):\n{log_tail(server.log)}", file=sys.stderr)
                raise
            facts["load average after"] = load_average()
            if any(sample.status not in (HELD, REFUSED) for sample in load.samples):
                print(f"gunicorn log (last lines):\n{log_tail(server.log)}", file=sys.stderr)
        audit = _seat_audit(departure)
        after = _pgbench(clients=args.clients, seconds=halves[1])
    problems = _report(facts, config, args, load, cpu, audit, combined(before, after))
    return 1 if problems else 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.hot_departure", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--clients", type=int, default=32, help="concurrent HTTP clients")
    parser.add_argument("--requests", type=int, default=2500, help="one-seat hold requests")
    parser.add_argument(
        "--capacity",
        type=int,
        default=2000,
        help="seats on the hot departure; fewer than --requests, so refusals happen too",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker")
    parser.add_argument(
        "--pgbench-seconds", type=int, default=10, help="pgbench duration, split in two halves"
    )
    parser.add_argument(
        "--time-limit", type=float, default=180.0, help="seconds before the HTTP load stops"
    )
    args = parser.parse_args(argv)
    if min(args.clients, args.requests, args.capacity, args.workers, args.threads) < 1:
        parser.error("counts must be positive")
    if args.pgbench_seconds < 2:
        parser.error("--pgbench-seconds must be at least 2")
    return args


def _hot_departure_create(capacity: int) -> HotDeparture:
    """The bench operator is reused across runs (creating one costs a schema); the departure
    is new every run, so each run starts from an empty slot and its audit sees only its
    own reservations."""
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from booking.catalogue import RateSpec, activity_upsert
    from booking.models import Slot
    from tenants.actors import Actor
    from tenants.models import Operator
    from tenants.services import operator_create

    operator = Operator.objects.filter(schema_name=OPERATOR_SCHEMA).first()
    if operator is None:
        operator = operator_create(
            actor=Actor.system("bench"),
            schema_name=OPERATOR_SCHEMA,
            name="Bench Expeditions",
            domain=OPERATOR_DOMAIN,
        )
    with tenant_context(operator):
        activity = activity_upsert(
            actor=Actor.system("bench"),
            slug=ACTIVITY_SLUG,
            name="Hot departure",
            summary="The departure everybody wants.",
            description="Created by bench.hot_departure.",
            duration=timedelta(hours=3),
            meeting_point="Bench pier",
            currency=operator.default_currency,
            rates=[RateSpec(code="adult", name="Adult", amount=50_000, max_per_booking=20)],
        )
        rate = activity.rates.get(code="adult")
        # Far in the future, and unique per run (departures are unique per start time).
        slot = Slot.objects.create(
            activity=activity, starts_at=timezone.now() + timedelta(days=3650), capacity=capacity
        )
    _close_database_connections()
    return HotDeparture(slot_id=slot.pk, rate_id=rate.pk, capacity=capacity, host=OPERATOR_DOMAIN)


def _close_database_connections() -> None:
    """The bench process must not hold a connection (or a snapshot) while others work."""
    from django.db import connections

    connections.close_all()


async def _hold_load(
    server: Server, departure: HotDeparture, args: argparse.Namespace
) -> tuple[LoadResult, CpuUse]:
    clients = [
        HttpClient(address=server.address, port=server.port, host=departure.host)
        for _ in range(args.clients)
    ]
    # Like a traveller's browser: the form page first, for the session and CSRF cookies.
    # Not timed: the benchmark is about the hold.
    for response in await asyncio.gather(*(c.get(departure.book_path) for c in clients)):
        if response.status != 200:
            raise RuntimeError(f"GET {departure.book_path} answered {response.status}")
    if any("csrftoken" not in client.cookies for client in clients):
        raise RuntimeError("the booking page set no csrftoken cookie")

    async def hold(client: HttpClient, n: int) -> int:
        form = {
            f"rate_{departure.rate_id}": "1",
            "contact_name": f"Bench Traveller {n}",
            "contact_email": f"traveller{n}@bench.example.com",
            "contact_phone": "",
            "idempotency_key": uuid.uuid4().hex,
            "hold": "1",
        }
        headers = {"X-CSRFToken": client.cookies["csrftoken"]}
        return (await client.post_form(departure.book_path, form, headers=headers)).status

    try:
        before = CpuSnapshot.take(server.pid)
        load = await closed_loop(
            clients, total=args.requests, time_limit=args.time_limit, send=hold
        )
        return load, CpuUse.between(before, CpuSnapshot.take(server.pid))
    finally:
        await asyncio.gather(*(client.close() for client in clients))


def _seat_audit(departure: HotDeparture) -> SeatAudit:
    from django.db.models import Sum
    from django_tenants.utils import schema_context

    from booking.models import Reservation, ReservationLine, Slot

    with schema_context(OPERATOR_SCHEMA):
        slot = Slot.objects.get(pk=departure.slot_id)
        live = Reservation.objects.filter(slot=slot).live()
        seats = ReservationLine.objects.filter(reservation__in=live).aggregate(s=Sum("quantity"))
        audit = SeatAudit(
            capacity=slot.capacity,
            taken=slot.taken,
            live_seats=seats["s"] or 0,
            live_reservations=live.count(),
        )
    _close_database_connections()
    return audit


@contextmanager
def _scratch_schema() -> Iterator[None]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(SCRATCH_DDL)
    _close_database_connections()
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {SCRATCH_SCHEMA} CASCADE")
        _close_database_connections()


def _pgbench(*, clients: int, seconds: int) -> PgbenchResult:
    from django.db import connection

    print(f"pgbench: {clients} clients, {seconds} s ...", flush=True)
    return run_pgbench(
        script=PGBENCH_SCRIPT,
        database=connection.settings_dict,
        clients=clients,
        threads=min(clients, os.cpu_count() or 1),
        seconds=seconds,
    )


def _cpu_line(cpu: CpuUse, requests: int, elapsed: float) -> str:
    def per_request(seconds: float) -> str:
        return f"{seconds * 1000 / requests:.1f}"

    line = (
        f"ms per request: gunicorn workers {per_request(cpu.workers)}, "
        f"load generator {per_request(cpu.load_generator)}"
    )
    if cpu.machine is not None and cpu.other is not None:
        busy = cpu.machine / (elapsed * (os.cpu_count() or 1))
        line += f", PostgreSQL and the rest {per_request(cpu.other)}; machine {busy:.0%} busy"
    return line


def _report(
    facts: dict[str, str],
    config: GunicornConfig,
    args: argparse.Namespace,
    load: LoadResult,
    cpu: CpuUse,
    audit: SeatAudit,
    baseline: PgbenchResult,
) -> list[str]:
    """Print the table; return what makes the run a failure. Only correctness fails a run:
    the speed targets are reported, since one noisy minute must not fail a build."""
    held = load.with_status(HELD)
    refused = load.with_status(REFUSED)
    errors = [sample for sample in load.samples if sample.status not in (HELD, REFUSED)]
    sold_out_at = max((sample.finished for sample in held), default=0.0)
    holds_per_second = len(held) / sold_out_at if sold_out_at else 0.0
    p99 = percentile(sample_latencies(load.samples), 0.99)
    ratio = holds_per_second / baseline.tps if baseline.tps else 0.0

    problems = []
    if audit.oversold:
        problems.append(f"{audit.oversold} seats oversold")
    if audit.taken != audit.live_seats:
        problems.append(f"slot.taken {audit.taken} != {audit.live_seats} seats of live holds")
    if audit.live_reservations != len(held):
        problems.append(f"{len(held)} holds answered but {audit.live_reservations} in the db")
    if refused and audit.taken < audit.capacity:
        problems.append(f"refused with {audit.capacity - audit.taken} seats left")
    if errors:
        statuses = sorted({sample.status for sample in errors})
        problems.append(f"{len(errors)} requests failed (statuses {statuses})")
        for sample in errors[:3]:
            print(f"  failed: status {sample.status} {sample.error}", file=sys.stderr)
    if len(load.samples) < args.requests:
        problems.append(f"only {len(load.samples)} of {args.requests} requests sent in time")

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    w = 20
    rate = len(load.samples) / load.elapsed if load.elapsed else 0.0
    rows = [
        "",
        f"Hot departure: {facts['cpus']} CPUs, PostgreSQL {facts['postgresql']}, "
        f"Python {facts['python']}, gunicorn {config}",
        f"load average before {facts['load average before']}, "
        f"after the HTTP load {facts['load average after']}",
        "",
        f"Django hold endpoint, {args.clients} HTTP clients",
        f"  {'requests':<{w}}{len(load.samples)} in {load.elapsed:.1f} s ({rate:.1f}/s)",
        f"  {'holds (303)':<{w}}{len(held)}",
        f"  {'refusals (409)':<{w}}{len(refused)}",
        f"  {'errors':<{w}}{len(errors)}",
        f"  {'holds/s':<{w}}{holds_per_second:.1f}  ({len(held)} holds in {sold_out_at:.1f} s, "
        "until the last seat went)",
        f"  {'latency, all':<{w}}{latency_summary(sample_latencies(load.samples))}",
        f"  {'latency, holds':<{w}}{latency_summary(sample_latencies(held))}",
        f"  {'latency, refusals':<{w}}{latency_summary(sample_latencies(refused))}",
        f"  {'CPU':<{w}}{_cpu_line(cpu, len(load.samples), load.elapsed)}",
        f"  {'oversold seats':<{w}}{audit.oversold}  (capacity {audit.capacity}, slot.taken "
        f"{audit.taken}, {audit.live_seats} seats in {audit.live_reservations} live holds)",
        "",
        f"pgbench, bare lock + update + insert on one row, {baseline.clients} clients",
        f"  {'transactions/s':<{w}}{baseline.tps:.1f}  ({baseline.transactions} in "
        f"{baseline.seconds} s, half before and half after; {baseline.failed} failed)",
        f"  {'latency':<{w}}{latency_summary(baseline.latencies)}",
        "",
        f"  {'target':<26}{'measured':>12}  {'goal':>10}",
        f"  {'oversold seats':<26}{audit.oversold:>12}  {'0':>10}  {verdict(not audit.oversold)}",
        f"  {'p99 latency':<26}{format_ms(p99):>12}  {'< 250 ms':>10}  {verdict(p99 < P99_TARGET)}",
        f"  {'holds/s : pgbench tps':<26}{ratio:>12.2f}  {'>= 0.50':>10}  "
        f"{verdict(ratio >= RATIO_TARGET)}  ({holds_per_second:.1f} / {baseline.tps:.1f})",
    ]
    print("\n".join(rows))
    if problems:
        print("\nFAILED: " + "; ".join(problems))
    return problems


if __name__ == "__main__":
    sys.exit(main())
