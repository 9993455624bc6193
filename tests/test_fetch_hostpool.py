"""The fetcher's pool: idle connections reused while fresh and open, others closed, never queued."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from happyface import Source
from happyface.acquisition.fetch import Fetcher
from happyface.acquisition.netio import asyncio_transport

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
BODY = b"kept alive"


class KeepAliveServer:
    """A loopback HTTP/1.1 server that keeps connections open unless a path says otherwise.

    `/ok` answers and waits for the next request; `/bye` answers and closes; `/wait` answers
    after 0.3 s. Counts the connections it accepted and those still open.
    """

    def __init__(self) -> None:
        self.accepted = 0
        self.open = 0
        self.port = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self.open += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1]
                if path == b"/wait":
                    await asyncio.sleep(0.3)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY))
                await writer.drain()
                if path == b"/bye":
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open -= 1
            writer.close()


@pytest.fixture
async def server() -> AsyncIterator[KeepAliveServer]:
    served = KeepAliveServer()
    listening = await asyncio.start_server(served.answer, "127.0.0.1", 0)
    served.port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield served


async def settle(condition: object, within: float = 2.0) -> None:
    """Give the server's side time to see a close."""
    for _ in range(int(within / 0.02)):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.02)


async def test_one_connection_serves_fetches_one_after_another(server: KeepAliveServer) -> None:
    async with Fetcher() as fetcher:
        for n in range(3):
            raw = await fetcher.fetch(Source(url=server.url(f"/ok?n={n}")), NOW)
            assert raw.content == BODY
    assert server.accepted == 1


async def test_concurrent_fetches_each_open_a_connection_then_share_them(
    server: KeepAliveServer,
) -> None:
    sources = [Source(url=server.url(f"/wait?n={n}")) for n in range(4)]
    async with Fetcher() as fetcher:
        first = await fetcher.fetch_all(sources, NOW)
        assert server.accepted == 4  # none waited for another's connection
        again = await fetcher.fetch_all(sources, NOW)
        assert server.accepted == 4  # the four idle ones were taken again
    assert all(r.content == BODY for r in [*first.values(), *again.values()])  # type: ignore[union-attr]
    await settle(lambda: server.open == 0)
    assert server.open == 0  # closing the fetcher closed its idle connections


async def test_a_connection_the_server_closed_is_not_reused(server: KeepAliveServer) -> None:
    async with Fetcher() as fetcher:
        assert (await fetcher.fetch(Source(url=server.url("/bye")), NOW)).content == BODY
        await settle(lambda: server.open == 0)
        assert (await fetcher.fetch(Source(url=server.url("/ok")), NOW)).content == BODY
    assert server.accepted == 2


async def client(limits: httpx.Limits) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=asyncio_transport(ssl.create_default_context(), limits))


async def test_an_idle_connection_past_its_expiry_is_closed_not_reused(
    server: KeepAliveServer,
) -> None:
    async with await client(httpx.Limits(keepalive_expiry=0.1)) as http:
        assert (await http.get(server.url("/ok"))).content == BODY
        await asyncio.sleep(0.3)
        assert (await http.get(server.url("/ok"))).content == BODY
        assert server.accepted == 2
        await settle(lambda: server.open == 1)
        assert server.open == 1  # the expired one was closed when found


async def test_idle_connections_beyond_the_keepalive_bound_are_closed(
    server: KeepAliveServer,
) -> None:
    limits = httpx.Limits(max_keepalive_connections=2)
    async with await client(limits) as http:
        answers = await asyncio.gather(*(http.get(server.url(f"/wait?n={n}")) for n in range(5)))
        assert [a.content for a in answers] == [BODY] * 5
        await settle(lambda: server.open == 2)
        assert server.open == 2


async def test_an_answer_left_unread_does_not_return_its_connection(
    server: KeepAliveServer,
) -> None:
    async with await client(httpx.Limits()) as http:
        async with http.stream("GET", server.url("/ok")) as response:
            assert response.status_code == 200  # closed before its body was read
        assert (await http.get(server.url("/ok"))).content == BODY
    assert server.accepted == 2


async def test_only_http_and_https_are_sent(server: KeepAliveServer) -> None:
    async with await client(httpx.Limits()) as http:
        with pytest.raises(httpx.UnsupportedProtocol):
            await http.get(f"ftp://127.0.0.1:{server.port}/ok")


async def test_a_connection_in_use_when_the_pool_closes_is_closed_after_its_answer(
    server: KeepAliveServer,
) -> None:
    http = await client(httpx.Limits())
    async with http.stream("GET", server.url("/ok")) as response:
        await http.aclose()  # the pool closes while this answer is still open
        assert await response.aread() == BODY
    await settle(lambda: server.open == 0)
    assert server.open == 0  # not kept idle in a pool nobody will close again
