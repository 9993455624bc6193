"""The HTTP/1.1 connections of one fetcher pool: an idle one reused, else a new one, never a queue.

httpcore's own pool keeps a queue of requests and, each time a request arrives or a response
ends, walks every request against every connection (asking each idle socket whether its server
closed it). The fetcher never lets a pool queue (`slots.py` bounds the open fetches to the
pool's size), so that walk bought nothing; in a run of 1,000 sources it was about a quarter of
the event loop's time. What is left here is the part a fetch needs: per origin, a stack of idle
connections with the time each expires, and connecting through the network backend.
"""

from __future__ import annotations

import math
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, cast

import httpcore

Origin = tuple[bytes, bytes, int]  # scheme, host, port (httpcore's Origin is not hashable)
_SCHEMES = (b"http", b"https")


@dataclass
class _Idle:
    connection: httpcore.AsyncHTTP11Connection
    expires: float  # time.monotonic()


class HostPool:
    """Connections for the fetches of one pool, keeping at most `keepalive` idle ones."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        backend: httpcore.AsyncNetworkBackend,
        keepalive: int | None,
        keepalive_expiry: float | None,
    ) -> None:
        self._ssl_context = ssl_context
        self._backend = backend
        # None: as httpx's Limits mean it, no bound and no expiry
        self._keepalive = math.inf if keepalive is None else keepalive
        self._expiry = math.inf if keepalive_expiry is None else keepalive_expiry
        self._idle: dict[Origin, list[_Idle]] = {}
        self._idle_count = 0
        self._closed = False

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        """Send `request` on an idle connection to its origin, or on a new one."""
        url = request.url
        if url.scheme not in _SCHEMES:
            raise httpcore.UnsupportedProtocol(f"unsupported protocol {url.scheme!r}")
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == b"https" else 80))
        connection = await self._reused(origin) or await self._connect(origin, request)
        try:
            response = await connection.handle_async_request(request)
        except BaseException:
            await connection.aclose()
            raise
        stream = _Returned(cast(_Body, response.stream), connection, origin, self)
        return httpcore.Response(
            response.status, headers=response.headers, content=stream,
            extensions=response.extensions,
        )  # fmt: skip

    async def __aenter__(self) -> HostPool:  # httpx's transport enters its pool with itself
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every idle connection; those in use close when their answers end."""
        self._closed = True
        idle, self._idle, self._idle_count = self._idle, {}, 0
        for entries in idle.values():
            for entry in entries:
                await entry.connection.aclose()

    async def _reused(self, origin: Origin) -> httpcore.AsyncHTTP11Connection | None:
        """The newest idle connection to `origin` that is still open and within its expiry."""
        entries = self._idle.get(origin)
        now = time.monotonic()
        while entries:
            entry = entries.pop()
            self._idle_count -= 1
            # has_expired also asks the socket whether the server closed it meanwhile
            if entry.expires > now and not entry.connection.has_expired():
                return entry.connection
            await entry.connection.aclose()
        return None

    async def _connect(
        self, origin: Origin, request: httpcore.Request
    ) -> httpcore.AsyncHTTP11Connection:
        timeout = request.extensions.get("timeout", {}).get("connect")
        scheme, host, port = origin
        stream = await self._backend.connect_tcp(host.decode("ascii"), port, timeout=timeout)
        if scheme == b"https":
            sni = request.extensions.get("sni_hostname") or host.decode("ascii")
            try:
                stream = await stream.start_tls(self._ssl_context, sni, timeout)
            except BaseException:
                await stream.aclose()
                raise
        expiry = None if self._expiry == math.inf else self._expiry
        return httpcore.AsyncHTTP11Connection(httpcore.Origin(scheme, host, port), stream, expiry)

    async def give_back(self, origin: Origin, connection: httpcore.AsyncHTTP11Connection) -> None:
        """Keep a connection whose answer ended cleanly; drop expired ones while here."""
        if not connection.is_idle():  # closed: the answer was cut short or not reusable
            return
        now = time.monotonic()
        if self._closed or self._idle_count >= self._keepalive:
            await connection.aclose()
            return
        entries = self._idle.setdefault(origin, [])
        while entries and entries[0].expires <= now:  # the oldest first
            self._idle_count -= 1
            await entries.pop(0).connection.aclose()
        entries.append(_Idle(connection, now + self._expiry))
        self._idle_count += 1


class _Body(Protocol):
    """An HTTP/1.1 connection's answer body, as httpcore gives it."""

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


class _Returned:
    """An answer's body; when it is closed, its connection goes back to the pool."""

    def __init__(
        self,
        stream: _Body,
        connection: httpcore.AsyncHTTP11Connection,
        origin: Origin,
        pool: HostPool,
    ) -> None:
        self._stream = stream
        self._connection = connection
        self._origin = origin
        self._pool = pool
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for part in self._stream:
                yield part
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._stream.aclose()
        await self._pool.give_back(self._origin, self._connection)
