"""Webhook ingest: Stripe telling the platform, many times a second, that checkouts were paid.

Each webhook is verified (Stripe's signature, with the operator's secret read from AWS
Secrets Manager: moto's server here), deduplicated by its event id, and applied in one
transaction (the payment intent succeeds, the reservation becomes paid, its confirmation
e-mail goes to the outbox). DESIGN.md, "Performance targets": at least 300 such webhooks a
second from 16 concurrent senders, and a storm of one event id delivered 50 times at once
applies once. Whether every event was applied, and applied once, is checked in the database
rather than trusted from the responses.

Run with `make bench` (after the hot-departure benchmark), or alone with
`python -m bench.webhooks`; `--help` for the knobs.
"""

import argparse
import asyncio
import json
import math
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from bench.cpu import CpuSnapshot, CpuUse, postmaster_of
from bench.environment import load_average, machine_facts, setup_django
from bench.loadgen import (
    HttpClient,
    LoadResult,
    PreparedRequest,
    burst,
    closed_loop,
    format_ms,
    latency_summary,
    sample_latencies,
)
from bench.server import GunicornConfig, Server, gunicorn, log_tail

OPERATOR_SCHEMA = "bench"
OPERATOR_DOMAIN = "bench.localhost"
ACTIVITY_SLUG = "webhook-ingest"
WEBHOOK_PATH = "/webhooks/stripe/"
EVENT_TYPE = "checkout.session.completed"
RATE_TARGET = 300.0
# Stripe's signatures are accepted for 300 s (payments.providers.stripe): events are signed
# just before the load, which must therefore end before that.
SIGNATURE_TOLERANCE = 300.0


@dataclass(frozen=True)
class Payment:
    """One pending payment intent on one held reservation, and its webhook's event id."""

    intent_id: int
    reservation_id: int
    reservation_code: str
    reference: str
    amount: int
    currency: str
    event_id: str


@dataclass(frozen=True)
class Batch:
    run_id: str
    departures: int
    warmup: list[Payment]
    timed: list[Payment]
    storm: Payment
    in_process: list[Payment]


@dataclass
class Outcomes:
    """What the webhook answered, from its JSON: `outcome` of a new event, or duplicate."""

    counts: Counter = field(default_factory=Counter)

    def record(self, status: int, body: bytes) -> None:
        if 200 <= status < 300:
            try:
                answer = json.loads(body)
            except ValueError:
                answer = {}
            label = "duplicate" if answer.get("duplicate") else answer.get("outcome", "?")
        else:
            label = f"HTTP {status}"
        self.counts[label] += 1


@dataclass(frozen=True)
class Audit:
    """The payments of a set of intents as the database has them after the run: each one
    must have been applied exactly once."""

    payments: int
    intents_succeeded: int
    reservations_paid: int
    events: int  # webhook events recorded for these event ids
    events_applied: int
    ids_recorded_twice: int  # event ids with more than one event (the constraint forbids it)
    paid_twice: int  # reservations with more than one "paid" timeline event
    paid_never: int
    outbox_rows: int
    outbox_twice: int  # reservations with more than one confirmation in the outbox
    outbox_never: int
    anomalies: int

    def applied_twice(self) -> int:
        return max(self.ids_recorded_twice, self.paid_twice, self.outbox_twice)

    def not_applied(self) -> int:
        return max(
            self.payments - self.intents_succeeded,
            self.payments - self.reservations_paid,
            self.payments - self.events_applied,
            self.paid_never,
            self.outbox_never,
        )

    def lines(self, indent: str) -> str:
        return (
            f"{self.intents_succeeded} of {self.payments} intents succeeded, "
            f"{self.reservations_paid} reservations paid ({self.paid_twice} twice), "
            f"{self.anomalies} anomalies\n{indent}{self.events} webhook events, "
            f"{self.events_applied} applied, {self.ids_recorded_twice} event ids recorded twice; "
            f"{self.outbox_rows} outbox rows, {self.outbox_twice} reservations with more than one"
        )


@dataclass(frozen=True)
class InProcess:
    """Webhooks applied one after another in this process (Django's test client, no HTTP)."""

    statements: list[int]
    kinds: Counter
    cpu: list[float]


@dataclass
class Results:
    load: LoadResult
    outcomes: Outcomes
    cpu: CpuUse
    floor: LoadResult | None = None
    floor_cpu: CpuUse | None = None
    storm: LoadResult = field(default_factory=LoadResult)
    storm_outcomes: Outcomes = field(default_factory=Outcomes)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as scratch:
        _isolate_background_work(Path(scratch))
        # running_moto points this process's environment at moto's server; gunicorn, started
        # inside, inherits it and reads the operator's secret from there.
        from emulators.aws import running_moto

        with running_moto(log=Path(scratch) / "moto.log"):
            setup_django()
            facts = machine_facts()
            _close_database_connections()
            secret = f"whsec_{secrets.token_hex(16)}"
            _operator_secret_put(secret)
            started = time.monotonic()
            batch = _payments_create(args)
            print(
                f"{len(batch.timed)} + {len(batch.warmup)} + 1 + {len(batch.in_process)} held "
                f"reservations with a pending Stripe intent each, on {batch.departures} "
                f"departures, in {time.monotonic() - started:.1f} s",
                flush=True,
            )
            config = GunicornConfig(workers=args.workers, threads=args.threads)
            print(
                f"webhook ingest (run {batch.run_id}) on {OPERATOR_DOMAIN}: {len(batch.timed)} "
                f"signed {EVENT_TYPE} events from {args.senders} senders, then one event "
                f"{args.storm} times at once; gunicorn {config}",
                flush=True,
            )
            postmaster = _postmaster_pid()
            with gunicorn(config, probe_host=OPERATOR_DOMAIN, probe_path=WEBHOOK_PATH) as server:
                print(f"load average {load_average()}; sending webhooks ...", flush=True)
                try:
                    results = asyncio.run(_http_load(server, batch, secret, args, postmaster))
                except Exception:
                    print(f"gunicorn log (last lines):\n{log_tail(server.log)}", file=sys.stderr)
                    raise
                facts["load average after"] = load_average()
                if any(
                    not 200 <= sample.status < 300
                    for sample in results.load.samples + results.storm.samples
                ):
                    print(f"gunicorn log (last lines):\n{log_tail(server.log)}", file=sys.stderr)
            audit = _audit(batch.timed + batch.warmup)
            storm_audit = _audit([batch.storm])
            in_process = _in_process(batch.in_process, secret) if batch.in_process else None
    problems = _report(facts, config, args, results, audit, storm_audit, in_process)
    return 1 if problems else 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.webhooks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--events", type=int, default=3000, help="webhooks timed, one per intent")
    parser.add_argument("--senders", type=int, default=16, help="concurrent HTTP senders")
    parser.add_argument(
        "--per-departure", type=int, default=20, help="held reservations per fresh departure"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=32,
        help="webhooks sent first and not timed (each worker reads the secret once)",
    )
    parser.add_argument("--storm", type=int, default=50, help="copies of the duplicated event")
    parser.add_argument(
        "--in-process",
        type=int,
        default=40,
        help="webhooks applied afterwards one by one in this process, to count statements "
        "and CPU per webhook (0: skip)",
    )
    parser.add_argument(
        "--floor",
        type=int,
        default=1000,
        help="GET requests on the webhook URL (405 before the view's work), for the stack's "
        "own cost (0: skip)",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=240.0,
        help="seconds before the load stops (signatures expire after 300)",
    )
    args = parser.parse_args(argv)
    if min(args.events, args.senders, args.per_departure, args.storm) < 1:
        parser.error("counts must be positive")
    if min(args.warmup, args.in_process, args.floor) < 0 or min(args.workers, args.threads) < 1:
        parser.error("counts must be positive")
    if args.time_limit >= SIGNATURE_TOLERANCE:
        parser.error(f"--time-limit must stay under the {SIGNATURE_TOLERANCE:.0f} s tolerance")
    return args


def _isolate_background_work(scratch: Path) -> None:
    """The confirmation e-mail is not part of ingest: each applied webhook writes an outbox
    row and, on commit, enqueues its delivery in Huey. Here that queue is a throwaway SQLite
    file that no worker reads (the rows stay undelivered, which the audit does not mind), for
    this process and for gunicorn, which inherits the environment. DEBUG stays off (it keeps
    every SQL statement in memory)."""
    os.environ["HUEY_SQLITE_PATH"] = str(scratch / "huey.sqlite3")
    os.environ["HUEY_IMMEDIATE"] = "0"
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("DJANGO_DEBUG", None)


def _close_database_connections() -> None:
    """The bench process must not hold a connection (or a snapshot) while others work."""
    from django.db import connections

    connections.close_all()


def _postmaster_pid() -> int | None:
    """PostgreSQL's postmaster, to measure the cluster's CPU, when it runs on this machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    postmaster = postmaster_of(backend)
    _close_database_connections()
    return postmaster


def _operator_secret_put(webhook_secret: str) -> None:
    """The bench operator's Stripe credentials, where production keeps them."""
    import boto3
    from django.conf import settings

    from project.aws_secrets import forget_cached_secrets

    name = settings.OPERATOR_SECRET_ID.format(schema=OPERATOR_SCHEMA)
    value = json.dumps(
        {"stripe": {"secret_key": "sk_test_bench", "webhook_secrets": [webhook_secret]}}
    )
    client = boto3.client("secretsmanager")
    try:
        client.create_secret(Name=name, SecretString=value)
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=name, SecretString=value)
    forget_cached_secrets()


def _payments_create(args: argparse.Namespace) -> Batch:
    """Held reservations on fresh departures (a few per departure, as real traffic spreads
    over many), each with one pending Stripe card intent, through the booking service. The
    bench operator is reused across runs (creating one costs a schema); everything else is
    new every run, so the audit sees only this run's rows."""
    from django.db import transaction
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from booking.catalogue import RateSpec, activity_upsert
    from booking.models import Slot
    from booking.services import Contact, PricedLine, reservation_hold
    from payments.models import Method, PaymentIntent, Provider
    from tenants.actors import Actor
    from tenants.models import Operator
    from tenants.services import operator_create

    run_id = secrets.token_hex(4)
    total = args.warmup + args.events + 1 + args.in_process
    operator = Operator.objects.filter(schema_name=OPERATOR_SCHEMA).first()
    if operator is None:
        operator = operator_create(
            actor=Actor.system("bench"),
            schema_name=OPERATOR_SCHEMA,
            name="Bench Expeditions",
            domain=OPERATOR_DOMAIN,
        )
    payments: list[Payment] = []
    with tenant_context(operator):
        activity = activity_upsert(
            actor=Actor.system("bench"),
            slug=ACTIVITY_SLUG,
            name="Webhook ingest",
            summary="Departures whose holds are paid by webhook.",
            description="Created by bench.webhooks.",
            duration=timedelta(hours=2),
            meeting_point="Bench pier",
            currency=operator.default_currency,
            rates=[RateSpec(code="adult", name="Adult", amount=42_000, max_per_booking=20)],
        )
        rate = activity.rates.get(code="adult")
        # Far in the future, and unique per run (departures are unique per start time).
        first_start = timezone.now() + timedelta(days=3650)
        departures = 0
        while len(payments) < total:
            first = len(payments)
            numbers = range(first, min(first + args.per_departure, total))
            with transaction.atomic():
                slot = Slot.objects.create(
                    activity=activity,
                    starts_at=first_start + timedelta(minutes=departures),
                    capacity=len(numbers),
                )
                departures += 1
                reservations = [
                    reservation_hold(
                        slot_id=slot.pk,
                        lines=[PricedLine(rate=rate, quantity=1)],
                        contact=Contact(
                            name=f"Bench Payer {number}", email=f"payer{number}@bench.example.com"
                        ),
                        actor=Actor.traveller(f"bench-webhooks-{run_id}"),
                        language="en",
                    )
                    for number in numbers
                ]
                intents = PaymentIntent.objects.bulk_create(
                    PaymentIntent(
                        reservation=reservation,
                        provider=Provider.STRIPE,
                        method=Method.CARD,
                        status=PaymentIntent.Status.PENDING,
                        amount=reservation.total_amount,
                        currency=reservation.currency,
                        provider_reference=f"cs_bench_{run_id}_{number}",
                    )
                    for number, reservation in zip(numbers, reservations, strict=True)
                )
            payments += [
                Payment(
                    intent_id=intent.pk,
                    reservation_id=reservation.pk,
                    reservation_code=reservation.code,
                    reference=intent.provider_reference,
                    amount=intent.amount,
                    currency=intent.currency,
                    event_id=f"evt_bench_{run_id}_{number}",
                )
                for number, intent, reservation in zip(numbers, intents, reservations, strict=True)
            ]
    _close_database_connections()
    warmup, rest = payments[: args.warmup], payments[args.warmup :]
    timed, rest = rest[: args.events], rest[args.events :]
    storm, in_process = rest[0], rest[1:]
    storm = replace(storm, event_id=f"evt_bench_{run_id}_storm")
    return Batch(
        run_id=run_id,
        departures=departures,
        warmup=warmup,
        timed=timed,
        storm=storm,
        in_process=in_process,
    )


def _event_body(payment: Payment) -> str:
    """A `checkout.session.completed` event as Stripe sends it, for the fields we read."""
    session = {
        "id": payment.reference,
        "object": "checkout.session",
        "amount_total": payment.amount,
        "currency": payment.currency.lower(),
        "status": "complete",
        "payment_status": "paid",
        "payment_intent": f"pi_{payment.reference}",
        "metadata": {"intent_id": str(payment.intent_id), "reservation": payment.reservation_code},
        "client_reference_id": payment.reservation_code,
    }
    return json.dumps(
        {
            "id": payment.event_id,
            "object": "event",
            "api_version": "2025-09-30.clover",
            "created": int(time.time()),
            "type": EVENT_TYPE,
            "livemode": False,
            "data": {"object": session},
        }
    )


def _signed(payment: Payment, secret: str) -> tuple[str, str]:
    """The body and its `Stripe-Signature` header, with Stripe's real scheme."""
    import stripe

    body = _event_body(payment)
    return body, stripe.WebhookSignature.generate_signature_header(body, secret)


def _prepared(payment: Payment, secret: str) -> PreparedRequest:
    body, signature = _signed(payment, secret)
    return PreparedRequest(
        method="POST",
        path=WEBHOOK_PATH,
        body=body.encode(),
        headers=(("Content-Type", "application/json"), ("Stripe-Signature", signature)),
    )


def _clients(server: Server, count: int) -> list[HttpClient]:
    return [
        HttpClient(address=server.address, port=server.port, host=OPERATOR_DOMAIN)
        for _ in range(count)
    ]


def _sender(requests: Sequence[PreparedRequest], outcomes: Outcomes):
    async def send(client: HttpClient, n: int) -> int:
        response = await client.send(requests[n])
        outcomes.record(response.status, response.body)
        return response.status

    return send


async def _http_load(
    server: Server,
    batch: Batch,
    secret: str,
    args: argparse.Namespace,
    postmaster: int | None,
) -> Results:
    """The warm-up, the timed webhooks, the floor, then the storm."""

    def snapshot() -> CpuSnapshot:
        return CpuSnapshot.take(server.pid, postmaster_pid=postmaster)

    clients = _clients(server, args.senders)
    try:
        if batch.warmup:
            # Not timed: each worker's first webhook reads the operator's secret and builds
            # its AWS client; a server that has been up for a minute has done that.
            warmup = [_prepared(payment, secret) for payment in batch.warmup]
            await closed_loop(
                clients,
                total=len(warmup),
                time_limit=args.time_limit,
                send=_sender(warmup, Outcomes()),
            )
        # Signed now: Stripe's signatures are good for 300 s.
        requests = [_prepared(payment, secret) for payment in batch.timed]
        outcomes = Outcomes()
        before = snapshot()
        load = await closed_loop(
            clients,
            total=len(requests),
            time_limit=args.time_limit,
            send=_sender(requests, outcomes),
        )
        results = Results(load=load, outcomes=outcomes, cpu=CpuUse.between(before, snapshot()))
        if args.floor:
            # The same URL with GET: require_POST answers 405 after the tenant middleware
            # (its domain look-up) and the rest of the stack, before any webhook work. What
            # every request costs on this stack, whatever the view does.
            floor = [PreparedRequest(method="GET", path=WEBHOOK_PATH)] * args.floor
            before = snapshot()
            results.floor = await closed_loop(
                clients,
                total=len(floor),
                time_limit=args.time_limit,
                send=_sender(floor, Outcomes()),
            )
            results.floor_cpu = CpuUse.between(before, snapshot())
    finally:
        await asyncio.gather(*(client.close() for client in clients))

    print(f"duplicate storm: {args.storm} copies ...", flush=True)
    # One event, the very same bytes, from `args.storm` connections released together.
    storm = [_prepared(batch.storm, secret)] * args.storm
    clients = _clients(server, args.storm)
    try:
        results.storm = await burst(clients, send=_sender(storm, results.storm_outcomes))
    finally:
        await asyncio.gather(*(client.close() for client in clients))
    return results


def _audit(payments: list[Payment]) -> Audit:
    from django_tenants.utils import schema_context

    from booking.emails import CONFIRMATION
    from booking.models import Reservation, ReservationEvent
    from outbox.models import OutboxMessage
    from payments.models import Anomaly, PaymentIntent, WebhookEvent

    intent_ids = [payment.intent_id for payment in payments]
    reservation_ids = {payment.reservation_id for payment in payments}
    event_ids = [payment.event_id for payment in payments]
    with schema_context(OPERATOR_SCHEMA):
        succeeded = PaymentIntent.objects.filter(
            pk__in=intent_ids, status=PaymentIntent.Status.SUCCEEDED
        ).count()
        paid = Reservation.objects.filter(
            pk__in=reservation_ids, status=Reservation.Status.PAID
        ).count()
        events = Counter(
            WebhookEvent.objects.filter(provider="stripe", event_id__in=event_ids).values_list(
                "event_id", "outcome"
            )
        )
        paid_events = Counter(
            ReservationEvent.objects.filter(
                reservation_id__in=reservation_ids, kind="paid"
            ).values_list("reservation_id", flat=True)
        )
        # The outbox row names its reservation only in its payload.
        outbox = Counter(
            payload.get("reservation_id")
            for payload in OutboxMessage.objects.filter(
                topic=CONFIRMATION, payload__reservation_id__in=sorted(reservation_ids)
            ).values_list("payload", flat=True)
        )
        anomalies = Anomaly.objects.filter(intent_id__in=intent_ids).count()
    _close_database_connections()
    per_id = Counter(event_id for event_id, _ in events.elements())
    return Audit(
        payments=len(payments),
        intents_succeeded=succeeded,
        reservations_paid=paid,
        events=sum(events.values()),
        events_applied=sum(n for (_, outcome), n in events.items() if outcome == "applied"),
        ids_recorded_twice=sum(1 for n in per_id.values() if n > 1),
        paid_twice=sum(1 for n in paid_events.values() if n > 1),
        paid_never=len(reservation_ids - set(paid_events)),
        outbox_rows=sum(outbox.values()),
        outbox_twice=sum(1 for n in outbox.values() if n > 1),
        outbox_never=len(reservation_ids - set(outbox)),
        anomalies=anomalies,
    )


def _in_process(payments: list[Payment], secret: str) -> InProcess:
    """The same webhook through Django's whole stack in this process, one at a time: the
    statements it sends (every other webhook; capturing them costs CPU) and the CPU it
    takes (the others), without HTTP, gunicorn or concurrency."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=OPERATOR_DOMAIN)
    statements: list[int] = []
    kinds: Counter = Counter()
    cpu: list[float] = []
    for n, payment in enumerate(payments):
        body, signature = _signed(payment, secret)

        def post(body=body, signature=signature):
            return client.post(
                WEBHOOK_PATH, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
            )

        if n % 2:
            with CaptureQueriesContext(connection) as captured:
                response = post()
            statements.append(len(captured.captured_queries))
            kinds.update(_statement_kind(query["sql"]) for query in captured.captured_queries)
        else:
            began = time.process_time()
            response = post()
            cpu.append(time.process_time() - began)
        if response.status_code != 200 or response.json().get("outcome") != "applied":
            raise RuntimeError(
                f"in-process webhook answered {response.status_code} {response.content!r}"
            )
    _close_database_connections()
    calls = max(len(statements), 1)
    return InProcess(
        statements=statements, kinds=Counter({k: v / calls for k, v in kinds.items()}), cpu=cpu
    )


def _statement_kind(sql: str) -> str:
    words = sql.split(None, 2)
    if not words:
        return "?"
    if words[0].upper() == "SET":
        return "SET search_path"
    return words[0].upper()


def _cpu_line(cpu: CpuUse, requests: int, elapsed: float, unit: str = "webhook") -> str:
    def per_request(seconds: float) -> str:
        return f"{seconds * 1000 / requests:.1f}"

    parts = [f"gunicorn workers {per_request(cpu.workers)}"]
    if cpu.postgresql is not None:
        parts.append(f"PostgreSQL {per_request(cpu.postgresql)}")
    parts.append(f"load generator {per_request(cpu.load_generator)}")
    line = f"ms per {unit}: " + ", ".join(parts)
    if cpu.machine is not None and cpu.other is not None:
        rest = "the rest" if cpu.postgresql is not None else "PostgreSQL and the rest"
        busy = cpu.machine / (elapsed * (os.cpu_count() or 1))
        line += f", {rest} {per_request(cpu.other)}; machine {busy:.0%} busy"
    return line


def _answers(outcomes: Outcomes) -> str:
    return ", ".join(f"{label} {count}" for label, count in sorted(outcomes.counts.items()))


def _report(
    facts: dict[str, str],
    config: GunicornConfig,
    args: argparse.Namespace,
    results: Results,
    audit: Audit,
    storm_audit: Audit,
    in_process: InProcess | None,
) -> list[str]:
    """Print the table; return what makes the run a failure. Only correctness fails a run
    (a webhook applied twice, not applied, or refused): the speed target is reported, since
    one noisy minute must not fail a build."""
    load, outcomes, storm = results.load, results.outcomes, results.storm
    ok = [sample for sample in load.samples if 200 <= sample.status < 300]
    non_2xx = [sample for sample in load.samples if not 200 <= sample.status < 300]
    applied = outcomes.counts["applied"]
    rate = applied / load.elapsed if load.elapsed else 0.0
    storm_non_2xx = [sample for sample in storm.samples if not 200 <= sample.status < 300]
    storm_applied = results.storm_outcomes.counts["applied"]

    problems = []
    if non_2xx:
        statuses = sorted({sample.status for sample in non_2xx})
        problems.append(f"{len(non_2xx)} webhooks answered non-2xx (statuses {statuses})")
        for sample in non_2xx[:3]:
            print(f"  failed: status {sample.status} {sample.error}", file=sys.stderr)
    if len(load.samples) < args.events:
        problems.append(f"only {len(load.samples)} of {args.events} webhooks sent in time")
    if applied != len(load.samples):
        problems.append(f"{applied} of {len(load.samples)} webhooks answered 'applied'")
    if audit.applied_twice():
        problems.append(f"{audit.applied_twice()} webhooks applied twice")
    if audit.anomalies or storm_audit.anomalies:
        problems.append(f"{audit.anomalies + storm_audit.anomalies} anomalies raised")
    if audit.not_applied():
        problems.append(f"{audit.not_applied()} webhooks not applied in the database")
    if len(storm.samples) != args.storm or storm_non_2xx:
        problems.append(f"storm: {len(storm_non_2xx)} of {args.storm} copies answered non-2xx")
    if storm_applied != 1:
        problems.append(f"storm: {storm_applied} copies answered 'applied', not 1")
    if storm_audit.applied_twice() or storm_audit.not_applied() or storm_audit.events != 1:
        problems.append("storm: not applied exactly once in the database")

    def verdict(good: bool) -> str:
        return "ok" if good else "MISSED"

    w = 20
    sent_rate = len(load.samples) / load.elapsed if load.elapsed else 0.0
    rows = [
        "",
        f"Webhook ingest: {facts['cpus']} CPUs, PostgreSQL {facts['postgresql']}, "
        f"Python {facts['python']}, gunicorn {config}",
        f"load average before {facts['load average before']}, "
        f"after the HTTP load {facts['load average after']}",
        "",
        f"Stripe {EVENT_TYPE}, one per held reservation, {args.senders} HTTP senders "
        f"({args.warmup} more sent first, not timed)",
        f"  {'requests':<{w}}{len(load.samples)} in {load.elapsed:.1f} s ({sent_rate:.1f}/s)",
        f"  {'answers':<{w}}{_answers(outcomes)}",
        f"  {'non-2xx':<{w}}{len(non_2xx)}",
        f"  {'webhooks/s':<{w}}{rate:.1f}  (verified, applied: {applied} in {load.elapsed:.1f} s)",
        f"  {'latency':<{w}}{latency_summary(sample_latencies(load.samples))}",
        f"  {'latency, 2xx':<{w}}{latency_summary(sample_latencies(ok))}",
        f"  {'CPU':<{w}}{_cpu_line(results.cpu, len(load.samples), load.elapsed)}",
        f"  {'database':<{w}}{audit.lines(' ' * (w + 2))}",
    ]
    if results.floor is not None and results.floor_cpu is not None:
        floor = results.floor
        answered = Counter(sample.status for sample in floor.samples)
        floor_rate = len(floor.samples) / floor.elapsed if floor.elapsed else 0.0
        rows += [
            "",
            f"Floor: GET on the same URL ({answered[405]} of {len(floor.samples)} answered 405, "
            f"before the view's work), {args.senders} HTTP senders",
            f"  {'requests/s':<{w}}{floor_rate:.1f}  ({len(floor.samples)} in "
            f"{floor.elapsed:.1f} s); webhooks/s are {rate / floor_rate:.0%} of it"
            if floor_rate
            else f"  {'requests/s':<{w}}-",
            f"  {'latency':<{w}}{latency_summary(sample_latencies(floor.samples))}",
            f"  {'CPU':<{w}}"
            f"{_cpu_line(results.floor_cpu, len(floor.samples), floor.elapsed, 'request')}",
        ]
    rows += [
        "",
        f"Duplicate storm: one event delivered {args.storm} times at once",
        f"  {'answers':<{w}}{_answers(results.storm_outcomes)}; {len(storm_non_2xx)} non-2xx",
        f"  {'latency':<{w}}{latency_summary(sample_latencies(storm.samples))}"
        f"  (all in {format_ms(storm.elapsed)})",
        f"  {'database':<{w}}{storm_audit.lines(' ' * (w + 2))}",
    ]
    if in_process is not None:
        kinds = ", ".join(
            f"{kind} {count:.1f}" for kind, count in in_process.kinds.most_common() if count
        )
        statements = statistics.median(in_process.statements) if in_process.statements else 0
        cpu = statistics.median(in_process.cpu) if in_process.cpu else math.nan
        rows += [
            "",
            f"In this process, one at a time (Django test client, no HTTP): "
            f"{len(in_process.statements) + len(in_process.cpu)} more webhooks",
            f"  {'statements':<{w}}{statements:.0f} per webhook (median; {kinds})",
            f"  {'CPU':<{w}}{format_ms(cpu)} per webhook (median, statements not captured)",
        ]
    twice = audit.applied_twice() + storm_audit.applied_twice()
    missing = audit.not_applied() + storm_audit.not_applied()
    senders = f"webhooks/s, {args.senders} senders"
    rows += [
        "",
        f"  {'target':<26}{'measured':>12}  {'goal':>10}",
        f"  {'applied twice':<26}{twice:>12}  {'0':>10}  {verdict(not twice)}",
        f"  {'not applied':<26}{missing:>12}  {'0':>10}  {verdict(not missing)}",
        f"  {'storm: applied':<26}{storm_applied:>12}  {'1':>10}  {verdict(storm_applied == 1)}",
        f"  {senders:<26}{rate:>12.1f}  {'>= 300':>10}  {verdict(rate >= RATE_TARGET)}",
    ]
    print("\n".join(rows))
    if problems:
        print("\nFAILED: " + "; ".join(problems))
    return problems


if __name__ == "__main__":
    sys.exit(main())
