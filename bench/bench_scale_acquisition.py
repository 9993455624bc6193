"""Acquisition at scale: 200, 1,000, 2,000 and 10,000 modules over half as many sources.

The sources are served by a separate process (bench/slow_sources.py) on 16 loopback addresses,
with latencies spread evenly from 50 ms to 2 s. Goal for each size up to 2,000: wall time ≤
slowest source + 1 s and no module errored; the CPU time of the run is printed beside it. Each
run's stored outcome is checked: every module has a record, each rated from the body it fetched.

Two runs per size, on the event loop `serve` uses (uvloop) with its GIL switch interval: a
site's first run (its sources new to the database, the fetcher's pools new), then the next one
after the idle connections expired, as a scheduled run finds them. On a shared machine the wall
time follows the CPU others leave: the 1-minute load average is printed with each size.

`--served` runs as `serve` does by default: every module's inputs archived, and a log line
per module (at info, into a run log file); without it neither, so the run measures itself.

Run: .venv/bin/python bench/bench_scale_acquisition.py [--served] [sizes...]
"""

from __future__ import annotations

import asyncio
import logging
import os
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
from happyface.cli.serve import SWITCH_INTERVAL, event_loop_factory
from happyface.config.load import load_site
from happyface.plugins import Registry
from happyface.storage import open_store

FASTEST, SLOWEST = 0.05, 2.0
SIZES = (200, 1000, 2000, 10000)
HERE = Path(__file__).resolve().parent
HOSTS = 16  # as bench/slow_sources.py serves
ROW = "{:>8} {:>8} {:>6} {:>8} {:>10} {:>7} {:>7} {:>7} {:>7} {:>6}"
# the next run starts once httpx's idle connections have expired (httpx.Limits' default)
KEEPALIVE_EXPIRY = 5.0


class BodySize(Module):  # type: ignore[type-arg]
    """The size of the body: a module that costs nothing, so the run measures itself."""

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        return Result(metrics={"bytes": len(inputs["main"].content)})


def site_toml(port: int, database: str, modules: int, archive: bool = False) -> str:
    distinct = modules // 2
    step = (SLOWEST - FASTEST) / (distinct - 1)
    lines = ["[site]", 'title = "bench"', f'database = "{database}"', "fetch_timeout = 30",
             "[site.archive]", f"enabled = {str(archive).lower()}",
             "[[category]]", 'id = "c"', 'title = "c"']  # fmt: skip
    for i in range(modules):
        n = i % distinct
        url = f"http://127.0.0.{1 + n % HOSTS}:{port}/slow?seconds={FASTEST + n * step:.4f}&n={n}"
        lines += ["[[module]]", f'id = "m{i}"', 'type = "body_size"', 'category = "c"',
                  f'title = "module {i}"', f'source = "{url}"']  # fmt: skip
    return "\n".join(lines) + "\n"


async def runs(folder: Path, port: int, modules: int, served: bool) -> list[dict[str, float]]:
    """The figures of a new site's first run and of its next one."""
    registry = Registry()
    registry.register("body_size", BodySize)
    toml = site_toml(port, f"sqlite:///{folder}/hf.db", modules, archive=served)
    (folder / "happyface.toml").write_text(toml)
    loaded = time.perf_counter()
    site = load_site(folder, registry)
    load_seconds = time.perf_counter() - loaded
    store = open_store(site.database_url)
    fetcher = Fetcher(base_dir=site.root)
    log_dir = folder / "logs" if served else None
    runner = Runner(site, store, fetcher, Archive(folder / "archive"), log_dir=log_dir)
    try:
        first = await one_run(runner)
        await asyncio.sleep(KEEPALIVE_EXPIRY + 0.5)
        after = await one_run(runner)
    finally:
        await fetcher.aclose()
        store.close()
    return [first | {"load": load_seconds}, after | {"load": 0.0}]


async def one_run(runner: Runner) -> dict[str, float]:
    cpu, started = time.process_time(), time.perf_counter()
    outcome = await runner.run()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert outcome is not None
    rated = [r for r in outcome.records if r.result.metrics.get("bytes", 0) > 2000]
    archived = sum(r.archive is not None for r in outcome.records)
    return {"wall": wall, "cpu": cpu, "errors": outcome.errors, "records": len(outcome.records),
            "rated": len(rated), "archived": archived}  # fmt: skip


async def main(sizes: tuple[int, ...], served: bool = False) -> None:
    server = subprocess.Popen(
        [sys.executable, str(HERE / "slow_sources.py")], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert server.stdout is not None and server.stdin is not None
    port = int(server.stdout.readline())
    columns = ("modules", "sources", "run", "wall s", "- slowest", "CPU s", "errors", "rated",
               "load s", "loadavg")  # fmt: skip
    print(ROW.format(*columns), "  goal: wall - slowest <= 1, 0 errors, load_site <= 0.3 s")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for modules in sizes:
                folder = Path(tmp) / str(modules)
                folder.mkdir()
                for name, r in zip(
                    ("first", "next"), await runs(folder, port, modules, served), strict=True
                ):
                    assert r["records"] == modules, r
                    # each module read the body it fetched or errored: nothing timed was empty
                    assert r["rated"] + r["errors"] == modules, r
                    assert r["archived"] == (modules if served else 0), r
                    over = r["wall"] - SLOWEST
                    figures = (f"{r['wall']:.2f}", f"{over:.2f}", f"{r['cpu']:.2f}",
                               int(r["errors"]), int(r["rated"]), f"{r['load']:.2f}",
                               f"{os.getloadavg()[0]:.1f}")  # fmt: skip
                    print(ROW.format(modules, modules // 2, name, *figures), flush=True)
    finally:
        server.stdin.close()
        server.wait(10)


if __name__ == "__main__":
    as_served = "--served" in sys.argv[1:]
    chosen = tuple(int(a) for a in sys.argv[1:] if a != "--served") or SIZES
    if as_served:  # the run log file gets every module's line, as `serve` logs them
        logging.getLogger("happyface").setLevel(logging.INFO)
    sys.setswitchinterval(SWITCH_INTERVAL)  # as `serve` runs its scheduler
    with asyncio.Runner(loop_factory=event_loop_factory()) as loop:
        loop.run(main(chosen, as_served))
