"""Fetches wait for a slot, overall and per host, so the HTTP pool never queues.

A local server on three loopback addresses counts the requests it holds at once; each answer
takes a while, so the bounds are reached. The wait for a slot does not count against a
source's deadline: more fetches than slots, each with a deadline shorter than the whole batch,
all succeed.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

from happyface.acquisition.fetch import Fetcher
from happyface.acquisition.slots import host_of
from happyface.sources import Source

HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
ANSWER_SECONDS = 0.15


class Counting:
    """An HTTP server that remembers how many requests it held at once, per address."""

    def __init__(self) -> None:
        self.now: Counter[str] = Counter()
        self.most: Counter[str] = Counter()
        self.total_now = 0
        self.total_most = 0

    async def answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("sockname")[0]
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                self._enter(host)
                await asyncio.sleep(ANSWER_SECONDS)
                self.now[host] -= 1
                self.total_now -= 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _enter(self, host: str) -> None:
        self.now[host] += 1
        self.total_now += 1
        self.most[host] = max(self.most[host], self.now[host])
        self.total_most = max(self.total_most, self.total_now)


async def fetch_many(
    per_host: int, total: int, count: int, timeout: float
) -> tuple[Counting, list]:
    counting = Counting()
    first = await asyncio.start_server(counting.answer, HOSTS[0], 0)
    port = first.sockets[0].getsockname()[1]
    servers = [first] + [await asyncio.start_server(counting.answer, h, port) for h in HOSTS[1:]]
    sources = [
        Source(url=f"http://{HOSTS[i % len(HOSTS)]}:{port}/s?n={i}", timeout=timeout)
        for i in range(count)
    ]
    async with Fetcher(connections=total, connections_per_host=per_host) as fetcher:
        answers = await fetcher.fetch_all(sources, datetime.now(UTC))
    for server in servers:
        server.close()
        await server.wait_closed()
    return counting, list(answers.values())


async def test_open_fetches_stay_within_the_bounds_per_host_and_overall() -> None:
    counting, answers = await fetch_many(per_host=2, total=5, count=30, timeout=10)
    assert [a for a in answers if not hasattr(a, "content")] == []
    assert max(counting.most.values()) == 2  # reached, never passed
    assert counting.total_most == 5
    assert set(counting.most) == set(HOSTS)


async def test_waiting_for_a_slot_does_not_count_against_the_deadline() -> None:
    # 24 fetches through 2 slots take 12 rounds of 0.15 s = 1.8 s, far over each 0.6 s deadline
    counting, answers = await fetch_many(per_host=1, total=2, count=24, timeout=0.6)
    assert [str(a) for a in answers if not hasattr(a, "content")] == []
    assert counting.total_most == 2


def test_hosts_are_told_apart_by_name_and_port() -> None:
    assert host_of("https://Pool.Example.org:8443/x") == ("pool.example.org", 8443)
    assert host_of("http://pool.example.org/x") != host_of("http://pool.example.org:81/x")
    assert host_of("http://[::1/broken") == ("", None)
