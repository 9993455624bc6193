"""Acquisition at scale: 200, 1,000, 2,000 and 10,000 modules over half as many sources.

The sources are served by a separate process (bench/slow_sources.py) on 16 loopback addresses,
with latencies spread evenly from 50 ms to 2 s. Goal for each size up to 2,000: wall time ≤
slowest source + 1 s and no module errored; the CPU time of the run is printed beside it. Each
run's stored outcome is checked: every module has a record, each rated from the body it fetched.

Run: .venv/bin/python bench/bench_scale_acquisition.py [sizes...]
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from happyface import Inputs, Module, Result
from happyface.acquisition.fetch import Fetcher
from happyface.acquisition.run import Runner
from happyface.archive.runs import Archive
from happyface.config.load import load_site
from happyface.plugins import Registry
from happyface.storage import open_store

FASTEST, SLOWEST = 0.05, 2.0
SIZES = (200, 1000, 2000, 10000)
HERE = Path(__file__).resolve().parent
HOSTS = 16  # as bench/slow_sources.py serves
ROW = "{:>8} {:>8} {:>8} {:>10} {:>7} {:>7} {:>7} {:>7}"


class BodySize(Module):  # type: ignore[type-arg]
    """The size of the body: a module that costs nothing, so the run measures itself."""

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        return Result(metrics={"bytes": len(inputs["main"].content)})


def site_toml(port: int, database: str, modules: int) -> str:
    distinct = modules // 2
    step = (SLOWEST - FASTEST) / (distinct - 1)
    lines = ["[site]", 'title = "bench"', f'database = "{database}"', "fetch_timeout = 30",
             "[site.archive]", "enabled = false",
             "[[category]]", 'id = "c"', 'title = "c"']  # fmt: skip
    for i in range(modules):
        n = i % distinct
        url = f"http://127.0.0.{1 + n % HOSTS}:{port}/slow?seconds={FASTEST + n * step:.4f}&n={n}"
        lines += ["[[module]]", f'id = "m{i}"', 'type = "body_size"', 'category = "c"',
                  f'title = "module {i}"', f'source = "{url}"']  # fmt: skip
    return "\n".join(lines) + "\n"


async def one_run(folder: Path, port: int, modules: int) -> dict[str, float]:
    registry = Registry()
    registry.register("body_size", BodySize)
    (folder / "happyface.toml").write_text(site_toml(port, f"sqlite:///{folder}/hf.db", modules))
    loaded = time.perf_counter()
    site = load_site(folder, registry)
    load_seconds = time.perf_counter() - loaded
    store = open_store(site.database_url)
    fetcher = Fetcher(base_dir=site.root)
    runner = Runner(site, store, fetcher, Archive(folder / "archive"))
    cpu, started = time.process_time(), time.perf_counter()
    outcome = await runner.run()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    await fetcher.aclose()
    assert outcome is not None
    rated = [r for r in outcome.records if r.result.metrics.get("bytes", 0) > 2000]
    store.close()
    return {"wall": wall, "cpu": cpu, "errors": outcome.errors, "records": len(outcome.records),
            "rated": len(rated), "load": load_seconds}  # fmt: skip


async def main(sizes: tuple[int, ...]) -> None:
    server = subprocess.Popen(
        [sys.executable, str(HERE / "slow_sources.py")], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert server.stdout is not None and server.stdin is not None
    port = int(server.stdout.readline())
    columns = ("modules", "sources", "wall s", "- slowest", "CPU s", "errors", "rated", "load s")
    print(ROW.format(*columns), "  goal: wall - slowest <= 1, 0 errors, load_site <= 0.3 s")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for modules in sizes:
                folder = Path(tmp) / str(modules)
                folder.mkdir()
                r = await one_run(folder, port, modules)
                assert r["records"] == modules, r
                # each module either read the body it fetched or errored: nothing timed was empty
                assert r["rated"] + r["errors"] == modules, r
                over = r["wall"] - SLOWEST
                figures = (r["wall"], over, r["cpu"], r["errors"], r["rated"], r["load"])
                print(ROW.format(modules, modules // 2, *(f"{f:.2f}" for f in figures)))
    finally:
        server.stdin.close()
        server.wait(10)


if __name__ == "__main__":
    chosen = tuple(int(a) for a in sys.argv[1:]) or SIZES
    asyncio.run(main(chosen))
