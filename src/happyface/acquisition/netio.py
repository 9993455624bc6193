"""The fetcher's sockets: httpcore's network backend on asyncio's own streams.

httpcore reaches asyncio through anyio by default, and a connection there costs a task group
(to race addresses), a cancel scope around every read and write, and a dictionary of lambdas
for every `get_extra_info`: in a run of 1,000 sources that was about a sixth of the event
loop's time. Here a connection is a socket connected by the loop and wrapped in an asyncio
stream pair; the errors are httpcore's, with the OS or TLS error as their cause, which is
what `reasons.describe_transport_error` reads.
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

import httpcore
import httpx

from .hostpool import HostPool

#: how long one address of a host has to connect before the next one is tried as well (as
#: anyio and RFC 8305 do), so a host whose IPv6 address is unreachable costs 0.25 s, not its
#: whole deadline
NEXT_ADDRESS_AFTER = 0.25

SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)
T = TypeVar("T")


async def _within(work: Awaitable[T], timeout: float | None) -> T:
    if timeout is None:  # the fetcher's case: its own deadline is around the whole fetch
        return await work
    async with asyncio.timeout(timeout):
        return await work


def _as(kind: type[httpcore.NetworkError], exc: OSError) -> Exception:
    """`exc` as httpcore's error of `kind`, or its time-out when a deadline ran out."""
    if isinstance(exc, TimeoutError) and exc.errno is None:  # not the system's ETIMEDOUT
        return _TIMEOUTS[kind](f"no answer in time ({kind.__name__})")
    return kind(str(exc) or type(exc).__name__)


_TIMEOUTS: dict[type[Exception], type[httpcore.TimeoutException]] = {
    httpcore.ConnectError: httpcore.ConnectTimeout,
    httpcore.ReadError: httpcore.ReadTimeout,
    httpcore.WriteError: httpcore.WriteTimeout,
}


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection, plain or TLS, as an asyncio reader and writer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            return await _within(self._reader.read(max_bytes), timeout)
        except OSError as exc:  # ssl.SSLError and TimeoutError are OSErrors too
            raise _as(httpcore.ReadError, exc) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            self._writer.write(buffer)
            await _within(self._writer.drain(), timeout)
        except OSError as exc:
            raise _as(httpcore.WriteError, exc) from exc

    async def aclose(self) -> None:
        # not waiting for the close to complete: a TLS peer that never answers our
        # close_notify must not hold the fetch that is already done. A TLS connection is
        # aborted rather than closed: closing waits (up to 30 s) for the peer's close_notify
        # before the socket goes, so a process (or a test's event loop) ending first left
        # the socket open ("unclosed transport"); the fetch is over, nothing is lost
        if self._writer.get_extra_info("ssl_object") is not None:
            self._writer.transport.abort()
        else:
            self._writer.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        start = self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        try:
            await _within(start, timeout)
        except OSError as exc:
            self._writer.close()
            raise _as(httpcore.ConnectError, exc) from exc
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info == "socket":
            return self._writer.get_extra_info("socket")
        if info == "is_readable":  # asked of idle connections: readable means closed by the peer
            sock = self._writer.get_extra_info("socket")
            return sock is None or _readable(sock)
        return None


def _readable(sock: Any) -> bool:
    fd = sock.fileno()
    if fd < 0:
        return True
    if hasattr(select, "poll"):  # select() fails on descriptors above 1,023, a busy run's
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])  # pragma: no cover - Windows


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Connects with the running loop; several addresses of a host race, staggered."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        options = list(socket_options or ())
        try:
            return await _within(_open(host, port, local_address, options), timeout)
        except OSError as exc:  # socket.gaierror too: describe_transport_error names it
            raise _as(httpcore.ConnectError, exc) from exc

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            reader, writer = await _within(asyncio.open_unix_connection(path), timeout)
        except OSError as exc:
            raise _as(httpcore.ConnectError, exc) from exc
        return AsyncioStream(reader, writer)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


AddressInfo = tuple[Any, ...]


async def _open(
    host: str, port: int, local_address: str | None, options: list[SocketOption]
) -> AsyncioStream:
    sock = await _first_connected(await _addresses(host, port), local_address, options)
    reader, writer = await asyncio.open_connection(sock=sock)
    return AsyncioStream(reader, writer)


async def _addresses(host: str, port: int) -> list[AddressInfo]:
    """The addresses to try for `host`; an address literal without a lookup.

    The loop's getaddrinfo goes through a worker thread even for a literal; asking the C
    library for a numeric host only answers at once, without any name service.
    """
    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except socket.gaierror:  # a name: looked up off the loop, as any
        loop = asyncio.get_running_loop()
        return await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)


async def _first_connected(
    infos: list[AddressInfo], local_address: str | None, options: list[SocketOption]
) -> socket.socket:
    """A socket connected to the first of `infos` that answers, each next one started
    NEXT_ADDRESS_AFTER after the one before or as soon as it failed."""
    if len(infos) == 1:  # the usual case: no race, no tasks
        return await _connected(infos[0], local_address, options)
    waiting, running = list(infos), set[asyncio.Task[socket.socket]]()
    errors: list[BaseException] = []
    try:
        while waiting or running:
            if waiting:
                running.add(asyncio.create_task(_connected(waiting.pop(0), local_address, options)))
            pause = NEXT_ADDRESS_AFTER if waiting else None
            done, running = await asyncio.wait(
                running, timeout=pause, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                if task.exception() is None:
                    return _keep_first(task, done)
                errors.append(task.exception())  # type: ignore[arg-type]
        raise errors[0]
    finally:
        for task in running:
            task.cancel()
            task.add_done_callback(_close_if_connected)


def _keep_first(
    chosen: asyncio.Task[socket.socket], done: set[asyncio.Task[socket.socket]]
) -> socket.socket:
    for other in done - {chosen}:
        _close_if_connected(other)
    return chosen.result()


def _close_if_connected(task: asyncio.Task[socket.socket]) -> None:
    if not task.cancelled() and task.exception() is None:
        task.result().close()


async def _connected(
    info: AddressInfo, local_address: str | None, options: list[SocketOption]
) -> socket.socket:
    family, kind, proto, _, address = info
    sock = socket.socket(family, kind, proto)
    try:
        sock.setblocking(False)
        for option in options:
            sock.setsockopt(*option)
        if local_address is not None:
            sock.bind((local_address, 0))
        await asyncio.get_running_loop().sock_connect(sock, address)
    except BaseException:
        sock.close()
        raise
    return sock


def asyncio_transport(
    ssl_context: ssl.SSLContext, limits: httpx.Limits
) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose pool is a `HostPool` connecting through `AsyncioBackend`.

    httpx builds its pool without a way to choose the backend or the pool, so the pool is
    replaced by one made here (`tests/test_fetch.py` checks that fetches use it). It opens as
    many connections as fetches ask for: the fetcher's slots are the bound.
    """
    transport = httpx.AsyncHTTPTransport(verify=ssl_context, limits=limits)
    ssl_context.set_alpn_protocols(["http/1.1"])  # as httpcore's pool did at each connect
    transport._pool = HostPool(  # type: ignore[assignment]
        ssl_context,
        AsyncioBackend(),
        keepalive=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
    )
    return transport
