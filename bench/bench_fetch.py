"""How long fetching a run's sources takes: about the slowest source, not the sum.

(a) 100 distinct loopback sources answering after 50 ms to 2.5 s, each read by two modules
    (200 module sources), fetched with `Fetcher.fetch_all`;
(b) the same plus a server that hangs and one that sends a byte a second, with deadline D.

Run: .venv/bin/python bench/bench_fetch.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.fixtures

from tests.fixtures.sources import MisbehavingServer

from happyface import FetchError, Source
from happyface.acquisition.fetch import Fetcher

DISTINCT = 100
FASTEST, SLOWEST = 0.05, 2.5
DEADLINE = 3.0


def latencies() -> list[float]:
    step = (SLOWEST - FASTEST) / (DISTINCT - 1)
    return [FASTEST + i * step for i in range(DISTINCT)]


def module_sources(server: MisbehavingServer, timeout: float) -> list[Source]:
    """Two modules per distinct source, as separate (equal) Source objects."""
    distinct = [server.url(f"/slow?seconds={s:.4f}&n={i}") for i, s in enumerate(latencies())]
    return [Source(url=url, timeout=timeout) for url in distinct for _module in range(2)]


async def timed_fetch_all(sources: list[Source]) -> tuple[float, int, int]:
    """Wall time, failures, and asyncio tasks left once fetch_all and the fetcher are done."""
    started = time.perf_counter()
    async with Fetcher() as fetcher:
        answers = await fetcher.fetch_all(sources, datetime.now(UTC))
    wall = time.perf_counter() - started
    await asyncio.sleep(0)  # let any straggler show itself
    left = len(asyncio.all_tasks()) - 1
    return wall, sum(isinstance(a, FetchError) for a in answers.values()), left


async def part_a(server: MisbehavingServer) -> None:
    sources = module_sources(server, timeout=30)
    wall, failed, left = await timed_fetch_all(sources)
    total = sum(latencies())
    print(
        f"(a) {len(sources)} module sources, {DISTINCT} distinct, latencies {FASTEST}-{SLOWEST} s"
    )
    print(f"    requests seen by the server: {len(server.requests)}, failed: {failed}")
    print(f"    wall {wall:.3f} s, slowest latency {SLOWEST:.3f} s")
    print(f"    wall - slowest = {wall - SLOWEST:.3f} s (goal <= 1 s)")
    print(f"    wall / sum of latencies = {wall:.2f} / {total:.1f} = {wall / total:.4f}")
    print(f"    asyncio tasks left: {left}")


async def part_b(server: MisbehavingServer) -> None:
    sources = module_sources(server, timeout=DEADLINE)
    sources += [
        Source(url=server.url("/hang"), timeout=DEADLINE),
        Source(url=server.url("/drip?bytes=1000&interval=1"), timeout=DEADLINE),
    ]
    wall, failed, left = await timed_fetch_all(sources)
    print(f"(b) as (a) plus a hanging and a dripping source, deadline D = {DEADLINE:g} s")
    print(f"    wall {wall:.3f} s (goal <= D + 1 = {DEADLINE + 1:g} s), failed: {failed}")
    print(f"    asyncio tasks left: {left} (goal 0)")
    await asyncio.sleep(0.5)
    print(f"    connections still open at the server after 0.5 s: {server.open_connections}")


def main() -> None:
    with MisbehavingServer() as server:
        asyncio.run(part_a(server))
    with MisbehavingServer() as server:
        asyncio.run(part_b(server))


if __name__ == "__main__":
    main()
