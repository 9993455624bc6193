"""A whole acquisition run: 200 modules over 100 loopback sources, fetched, rated and stored.

Goal: the run's wall time is about its slowest source (≤ slowest + 1 s), whatever the sum of
the latencies; printed with the ratio to that sum. A second run adds a hanging and a dripping
source: it must end within their deadline + 1 s with no asyncio task left behind.

Run: .venv/bin/python bench/bench_acquisition.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.fixtures

from tests.fixtures.sources import MisbehavingServer

from happyface import Inputs, Module, Result
from happyface.acquisition.archive import Archive
from happyface.acquisition.fetch import Fetcher
from happyface.acquisition.run import Runner
from happyface.config import load_site
from happyface.plugins import Registry
from happyface.storage import open_store

DISTINCT = 100
MODULES = 200
FASTEST, SLOWEST = 0.05, 2.5
DEADLINE = 3.0


class BodySize(Module):  # type: ignore[type-arg]
    """The size of the body: a module that costs nothing, so the run measures itself."""

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        return Result(metrics={"bytes": len(inputs["main"].content)})


def latencies() -> list[float]:
    step = (SLOWEST - FASTEST) / (DISTINCT - 1)
    return [FASTEST + i * step for i in range(DISTINCT)]


def site_toml(server: MisbehavingServer, database: str, extra: list[str]) -> str:
    lines = [
        "[site]",
        'title = "bench"',
        f'database = "{database}"',
        f"fetch_timeout = {DEADLINE}",
        "[site.archive]",
        "enabled = false",
        "[[category]]",
        'id = "c"',
        'title = "c"',
    ]
    urls = [server.url(f"/slow?seconds={s:.4f}&n={i}") for i, s in enumerate(latencies())]
    urls = [urls[i % DISTINCT] for i in range(MODULES)] + extra
    for i, url in enumerate(urls):
        lines += [
            "[[module]]",
            f'id = "m{i}"',
            'type = "body_size"',
            'category = "c"',
            f'title = "module {i}"',
            f'source = "{url}"',
        ]
    return "\n".join(lines) + "\n"


async def one_run(folder: Path, server: MisbehavingServer, extra: list[str]) -> dict[str, float]:
    registry = Registry()
    registry.register("body_size", BodySize)
    folder.mkdir()
    (folder / "happyface.toml").write_text(site_toml(server, f"sqlite:///{folder}/hf.db", extra))
    site = load_site(folder, registry)
    store = open_store(site.database_url)
    fetcher = Fetcher(base_dir=site.root)
    runner = Runner(site, store, fetcher, Archive(folder / "archive"))
    started = time.perf_counter()
    outcome = await runner.run()
    wall = time.perf_counter() - started
    await fetcher.aclose()
    await asyncio.sleep(0)
    left = len(asyncio.all_tasks()) - 1
    store.close()
    assert outcome is not None
    return {"wall": wall, "errors": outcome.errors, "left": left, "modules": len(outcome.records)}


async def main() -> None:
    total = sum(latencies()[i % DISTINCT] for i in range(MODULES))
    with MisbehavingServer() as server, tempfile.TemporaryDirectory() as tmp:
        plain = await one_run(Path(tmp) / "plain", server, [])
        hostile = await one_run(
            Path(tmp) / "hostile", server, [server.url("/hang"), server.url("/drip?bytes=100")]
        )
    print(f"{'scenario':<44} {'figure':>12}  goal")
    print(f"{'(a) modules / distinct sources':<44} {plain['modules']:>8.0f}/{DISTINCT:<3}")
    print(f"{'(a) run wall time, s':<44} {plain['wall']:>12.2f}")
    print(f"{'(a) slowest source, s':<44} {SLOWEST:>12.2f}")
    print(f"{'(a) wall - slowest, s':<44} {plain['wall'] - SLOWEST:>12.2f}  <= 1.0")
    print(
        f"{'(a) wall / sum of module latencies':<44} {plain['wall'] / total:>12.4f}"
        f"  (sum {total:.1f} s)"
    )
    print(f"{'(a) module errors':<44} {plain['errors']:>12.0f}  0")
    print(
        f"{'(b) with a hanging and a dripping source, s':<44} {hostile['wall']:>12.2f}"
        f"  <= {DEADLINE + 1:.1f}"
    )
    print(f"{'(b) module errors (the two hostile sources)':<44} {hostile['errors']:>12.0f}  2")
    print(f"{'(b) asyncio tasks left behind':<44} {hostile['left']:>12.0f}  0")


if __name__ == "__main__":
    asyncio.run(main())
