"""A small HTTP/1.1 keep-alive load generator on asyncio, for loopback benchmarks.

Each of `connections` clients keeps one TCP connection open and sends GET requests one after
another for `seconds`; the figures are requests per second over all clients and the p50/p99
latency of one request. Every answer is read in full and handed to `check`, so a benchmark
never times error pages: the first answer `check` refuses ends the measurement with an error.

Only what the benchmarks need is spoken: `Content-Length` bodies (both `happyface serve` and
nginx send them for these answers), no chunked encoding, no TLS.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Answer:
    """One HTTP answer as read off the wire."""

    status: int
    headers: dict[str, str]
    body: bytes


Check = Callable[[Answer], None]


@dataclass
class Load:
    """The figures of one measurement."""

    requests: int
    seconds: float
    latencies: list[float] = field(repr=False)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p99_ms(self) -> float:
        return self.percentile_ms(0.99)


class BadAnswer(Exception):
    """Raised when an answer is not what the benchmark expects to time."""


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    """One answer with a Content-Length body (or none, as a 304 has)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", ""):
        raise BadAnswer("chunked answers are not supported by this load generator")
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length and status != 304 else b""
    return Answer(status, headers, body)


def request_bytes(host: str, path: str, headers: Sequence[tuple[str, str]] = ()) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", *(f"{n}: {v}" for n, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def fetch(
    port: int, path: str, headers: Sequence[tuple[str, str]] = (), host: str = "127.0.0.1"
) -> Answer:
    """One request on a connection of its own."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request_bytes(f"{host}:{port}", path, headers))
        return await read_answer(reader)
    finally:
        writer.close()


async def _client(
    port: int,
    request: bytes,
    check: Check,
    until: float,
    latencies: list[float],
) -> None:
    while time.perf_counter() < until:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            await _requests(reader, writer, request, check, until, latencies)
        finally:
            writer.close()


async def _requests(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    request: bytes,
    check: Check,
    until: float,
    latencies: list[float],
) -> None:
    """Requests on one connection until time is up or the server ends the connection.

    nginx closes a keep-alive connection after `keepalive_requests` answers: the client then
    opens a new one, as browsers do.
    """
    while time.perf_counter() < until:
        started = time.perf_counter()
        writer.write(request)
        answer = await read_answer(reader)
        latencies.append(time.perf_counter() - started)
        check(answer)
        if answer.headers.get("connection", "").lower() == "close":
            return


async def measure(
    port: int,
    path: str,
    check: Check,
    *,
    seconds: float = 3.0,
    connections: int = 8,
    headers: Sequence[tuple[str, str]] = (),
) -> Load:
    """Requests per second and latencies of GET `path` on loopback `port`, keep-alive."""
    request = request_bytes(f"127.0.0.1:{port}", path, headers)
    latencies: list[float] = []
    started = time.perf_counter()
    until = started + seconds
    clients = [_client(port, request, check, until, latencies) for _ in range(connections)]
    await asyncio.gather(*clients)
    return Load(len(latencies), time.perf_counter() - started, latencies)
