"""A lean closed-loop HTTP load generator on raw asyncio streams.

The server under test and PostgreSQL share two cores with the load generator, so every
microsecond spent here is stolen from them: one event loop, hand-written HTTP/1.1 on
keep-alive connections, no third-party client. Each simulated client has its own connection
and cookie jar, as a browser would, and sends its next request only once the previous one is
answered (closed loop), so the offered load is exactly the client count.
"""

import asyncio
import contextlib
import itertools
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlencode

CRLF = b"\r\n"
BODYLESS_STATUSES = {204, 304}


class HttpError(Exception):
    """The server broke the protocol or the connection: a failed sample, not a crash."""


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str, default: str = "") -> str:
        name = name.lower()
        return next((value for key, value in self.headers if key == name), default)


@dataclass(frozen=True)
class PreparedRequest:
    """A request whose bytes are fixed before the load starts (a signed webhook: its body
    and signature cannot change), sent by any client with `HttpClient.send`."""

    method: str
    path: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


class HttpClient:
    """One client: a keep-alive HTTP/1.1 connection to a loopback address, carrying a `Host`
    header of our choosing (the C library does not resolve `*.localhost`), and a cookie jar.

    A server that answers `Connection: close` (gunicorn's sync workers) gets a fresh
    connection for the next request; the connect time is part of that request's latency,
    as it would be for a real client.
    """

    def __init__(self, *, address: str, port: int, host: str, timeout: float = 30.0):
        self.address = address
        self.port = port
        self.host = host
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, *, headers: Mapping[str, str] | None = None) -> Response:
        return await self.request("GET", path, headers=headers)

    async def post_form(
        self, path: str, form: Mapping[str, str], *, headers: Mapping[str, str] | None = None
    ) -> Response:
        body = urlencode(form).encode()
        extra = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return await self.request("POST", path, body=body, headers=extra)

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Send one request and read the whole response.

        A reused keep-alive connection may have been closed by the server while idle; that
        request is retried once on a new connection. Only requests that are safe to repeat
        should rely on this: the benchmarks send idempotency keys with every write.
        """
        message = self._message(method, path, body, headers or {})
        while True:
            reused = self._writer is not None
            try:
                return await asyncio.wait_for(self._exchange(message, method), self.timeout)
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                await self.close()
                if not reused:
                    raise HttpError(f"connection failed: {exc!r}") from exc
            except (TimeoutError, asyncio.CancelledError):
                # Half a response may still arrive: this connection cannot be reused.
                await self.close()
                raise

    async def send(self, prepared: PreparedRequest) -> Response:
        """Send a request built before the load (see `PreparedRequest`)."""
        return await self.request(
            prepared.method, prepared.path, body=prepared.body, headers=dict(prepared.headers)
        )

    async def connect(self) -> None:
        """Open the connection now rather than with the first request, so that a burst of
        clients can write their requests at the same instant (see `burst`)."""
        if self._writer is None:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(self.address, self.port), self.timeout
            )

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _message(self, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}"]
        if body or method in {"POST", "PUT", "PATCH"}:
            lines.append(f"Content-Length: {len(body)}")
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    async def _exchange(self, message: bytes, method: str) -> Response:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.address, self.port)
        assert self._reader is not None
        self._writer.write(message)
        await self._writer.drain()
        response = await self._read_response(self._reader, method)
        self._remember_cookies(response)
        if response.header("connection").lower() == "close":
            await self.close()
        return response

    @staticmethod
    async def _read_response(reader: asyncio.StreamReader, method: str) -> Response:
        head = await reader.readuntil(CRLF + CRLF)
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        try:
            status = int(status_line.split(" ", 2)[1])
        except (IndexError, ValueError) as exc:
            raise HttpError(f"bad status line {status_line!r}") from exc
        headers = []
        for line in header_lines:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower(), value.strip()))
        response = Response(status=status, headers=headers, body=b"")
        if method == "HEAD" or status in BODYLESS_STATUSES or 100 <= status < 200:
            return response
        if response.header("transfer-encoding").lower() == "chunked":
            response.body = await _read_chunked(reader)
        elif length := response.header("content-length"):
            response.body = await reader.readexactly(int(length))
        else:
            response.body = await reader.read()
        return response

    def _remember_cookies(self, response: Response) -> None:
        for name, value in response.headers:
            if name != "set-cookie":
                continue
            pair, *attributes = value.split(";")
            cookie, _, cookie_value = pair.strip().partition("=")
            expired = any(a.strip().lower() in {"max-age=0", "max-age=-1"} for a in attributes)
            if expired:
                self.cookies.pop(cookie, None)
            else:
                self.cookies[cookie] = cookie_value.strip('"')


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size = int((await reader.readuntil(CRLF)).split(b";")[0], 16)
        if size == 0:
            while await reader.readuntil(CRLF) != CRLF:  # trailers
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


@dataclass(frozen=True)
class Sample:
    """One request: when it started (seconds since the load began), how long it took, and
    what came back (`status` 0 when it failed without a response)."""

    started: float
    latency: float
    status: int
    error: str = ""

    @property
    def finished(self) -> float:
        return self.started + self.latency


@dataclass
class LoadResult:
    samples: list[Sample] = field(default_factory=list)
    elapsed: float = 0.0
    timed_out: bool = False

    def with_status(self, *statuses: int) -> list[Sample]:
        return [sample for sample in self.samples if sample.status in statuses]


Client = TypeVar("Client")


async def closed_loop(
    clients: Sequence[Client],
    *,
    total: int,
    time_limit: float,
    send: Callable[[Client, int], Awaitable[int]],
) -> LoadResult:
    """Drive `send(client, n)` for n = 0 .. total - 1 from every client at once, each client
    sending its next request when its previous one is answered, until all `total` requests
    are done or `time_limit` seconds have passed. `send` returns the HTTP status; an
    exception is recorded as a failed sample, so one bad response does not end the run."""
    tickets = itertools.count()
    result = LoadResult()
    start = time.perf_counter()
    deadline = start + time_limit

    async def drive(client: Client) -> None:
        while (n := next(tickets)) < total:
            began = time.perf_counter()
            if began >= deadline:
                result.timed_out = True
                return
            try:
                status, error = await send(client, n), ""
            except (HttpError, OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
                status, error = 0, repr(exc)
            ended = time.perf_counter()
            result.samples.append(Sample(began - start, ended - began, status, error))

    await asyncio.gather(*(drive(client) for client in clients))
    result.elapsed = time.perf_counter() - start
    return result


async def burst(
    clients: Sequence[HttpClient], *, send: Callable[[HttpClient, int], Awaitable[int]]
) -> LoadResult:
    """Every client sends one request, `send(client, n)`, at the same instant: all the
    connections are opened first, then released together, so the requests reach the server
    within one turn of the event loop (a storm of redeliveries, not a queue of them).
    Latency counts from the release; errors are failed samples, as in `closed_loop`."""
    await asyncio.gather(*(client.connect() for client in clients))
    release = asyncio.Event()
    result = LoadResult()
    start = 0.0

    async def fire(client: HttpClient, n: int) -> None:
        await release.wait()
        try:
            status, error = await send(client, n), ""
        except (HttpError, OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            status, error = 0, repr(exc)
        result.samples.append(Sample(0.0, time.perf_counter() - start, status, error))

    tasks = [asyncio.ensure_future(fire(client, n)) for n, client in enumerate(clients)]
    await asyncio.sleep(0)  # every task is now waiting on the release
    start = time.perf_counter()
    release.set()
    await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - start
    return result


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: a value that was actually observed, never an interpolation
    (with 2,000 samples p99 is the 20th worst request)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def format_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def latency_summary(values: list[float]) -> str:
    if not values:
        return "-"
    return (
        f"p50 {format_ms(percentile(values, 0.50))}  p99 {format_ms(percentile(values, 0.99))}  "
        f"max {format_ms(max(values))}"
    )


def sample_latencies(samples: list[Sample]) -> list[float]:
    return [sample.latency for sample in samples]
