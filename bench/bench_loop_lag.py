"""Event-loop lag and request latency while `serve` stores a large run.

`serve` runs the scheduler and the web on one event loop. This serves the dashboard with
uvicorn on that loop, as `serve` does (with its GIL switch interval), and stores a large run
two ways: with the store call made on the loop, and with it handed to a thread
(`asyncio.to_thread`, as the scheduler does). Meanwhile a client in another process asks for
the overview, the status API and /metrics in a loop, and a probe measures how late the loop
wakes up. Two run shapes: 200 modules x 50 metrics and 40 modules x 500 metrics. An idle
baseline shows what the machine itself adds.

Prints, per shape and way: how long the store took, the worst and 99th-percentile loop lag,
and request latency (median and worst). Checks that every run was stored whole and every
request answered 200; exits 1 otherwise.

    .venv/bin/python bench/bench_loop_lag.py [--database URL-OF-A-SCRATCH-DATABASE]
        [--switch-interval SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx
import uvicorn

from happyface import Module, Result, Status
from happyface.cli.serve import SWITCH_INTERVAL
from happyface.config.load import load_site
from happyface.config.site import Site
from happyface.plugins import Registry
from happyface.storage import ModuleRecord, Store, open_store
from happyface.web import create_app

SHAPES = ((200, 50), (40, 500))
CATEGORIES = 10
PATHS = ("/", "/api/v1/status", "/metrics")
GOAL_SECONDS = 0.020
#: how often the probe asks the loop to wake it
PROBE = 0.005


class Bench(Module):
    """A module type for the benchmark; its results are written directly."""

    source_names: ClassVar[tuple[str, ...]] = ()


@dataclass(frozen=True)
class Figures:
    """What one stored run cost the web."""

    label: str
    store_seconds: float
    lags: list[float]
    latencies: list[float]
    statuses: set[int]
    stored_whole: bool

    def line(self) -> str:
        lags = sorted(self.lags) or [0.0]
        p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
        lat = self.latencies or [0.0]
        return (
            f"{self.label:<34} store {self.store_seconds:6.2f} s | loop lag max "
            f"{max(lags) * 1000:7.1f} ms, p99 {p99 * 1000:6.1f} ms | requests "
            f"{len(self.latencies):4d}, p50 {statistics.median(lat) * 1000:6.1f} ms, "
            f"max {max(lat) * 1000:7.1f} ms"
        )


def write_config(folder: Path, modules: int, database: str) -> Site:
    lines = [f'[site]\ntitle = "Loop lag"\ninterval = "15m"\ndatabase = "{database}"\n']
    for c in range(CATEGORIES):
        lines.append(f'[[category]]\nid = "cat{c}"\ntitle = "Category {c}"\n')
    for m in range(modules):
        lines.append(
            f'[[module]]\nid = "m{m:03}"\ntype = "bench"\ncategory = "cat{m % CATEGORIES}"\n'
            f'title = "Module {m}"\n'
        )
    (folder / "happyface.toml").write_text("\n".join(lines))
    registry = Registry(points=[])
    registry.register("bench", Bench)
    return load_site(folder, registry)


def records(site: Site, metrics: int, seed: int) -> list[ModuleRecord]:
    out = []
    for i, module in enumerate(site.modules):
        values = {f"metric{k:03}": float((seed + i * k) % 997) + 0.25 for k in range(metrics)}
        result = Result(status=Status.HAPPY, message="fine", metrics=values)
        out.append(ModuleRecord(module.id, module.config.category, Status.HAPPY, "fine", result))
    return out


def store_run(store: Store, site: Site, metrics: int, at: datetime) -> int:
    """One whole run, written as the scheduler writes it: begin, then finish."""
    run_id = store.begin_run(at, "bench", site.snapshot)
    statuses = {c.id: Status.HAPPY for c in site.categories}
    store.finish_run(run_id, records(site, metrics, run_id), statuses, at)
    return run_id


async def probe(lags: list[float], stop: asyncio.Event) -> None:
    """How late the loop wakes a sleeper, every PROBE seconds, until `stop`."""
    while not stop.is_set():
        asked = time.perf_counter()
        await asyncio.sleep(PROBE)
        lags.append(max(0.0, time.perf_counter() - asked - PROBE))


async def wait_for_client(output: str) -> None:
    """Until the client process has had a few answers."""
    for _ in range(600):
        if len(Path(output).read_text().splitlines()) >= 3:
            return
        await asyncio.sleep(0.05)
    raise SystemExit("the client process got no answers")


async def measure(
    label: str, base: str, store: Store, store_call: Callable[[], Awaitable[int]], modules: int
) -> Figures:
    with (
        tempfile.NamedTemporaryFile("r", suffix=".jsonl") as out,
        open(out.name, "w") as sink,
    ):
        client = subprocess.Popen([sys.executable, __file__, "--client", base], stdout=sink)
        await wait_for_client(out.name)
        lags: list[float] = []
        stop = asyncio.Event()
        prober = asyncio.create_task(probe(lags, stop))
        await asyncio.sleep(0.2)  # the probe is waiting on the loop before the store begins
        began = time.time()
        started = time.perf_counter()
        run_id = await store_call()
        store_seconds = time.perf_counter() - started
        ended = time.time()
        await asyncio.sleep(0.3)
        stop.set()
        await prober
        client.send_signal(signal.SIGTERM)
        client.wait(10)
        answers = [json.loads(line) for line in out.read().splitlines() if line.strip()]
    # the requests that were under way while the run was stored
    during = [a for a in answers if a["end"] >= began and a["start"] <= ended]
    stored = await asyncio.to_thread(store.results, run_id)
    return Figures(
        label,
        store_seconds,
        lags,
        [a["end"] - a["start"] for a in during],
        {a["status"] for a in answers},
        len(stored) == modules,
    )


async def bench_shape(
    folder: Path, database: str, modules: int, metrics: int, at: datetime
) -> list[Figures]:
    """The figures of one run shape; its runs are stored at `at` and the next slots."""
    site = write_config(folder, modules, database)
    store = open_store(site.database_url)
    first = store_run(store, site, metrics, at)  # pages have a run to show from the start
    app = create_app(site, store)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False)
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    shape = f"{modules} x {metrics}"
    try:

        async def on_loop() -> int:
            return store_run(store, site, metrics, at + timedelta(minutes=15))

        async def in_thread() -> int:
            return await asyncio.to_thread(
                store_run, store, site, metrics, at + timedelta(minutes=30)
            )

        async def idle() -> int:
            await asyncio.sleep(2.0)
            return first

        return [
            await measure(f"{shape}, nothing stored (baseline)", base, store, idle, modules),
            await measure(f"{shape}, store call on the loop", base, store, on_loop, modules),
            await measure(f"{shape}, store call in a thread", base, store, in_thread, modules),
        ]
    finally:
        server.should_exit = True
        await serving
        store.close()


async def bench(database: str | None) -> list[Figures]:
    figures = []
    # in the past, each shape in its own hours, so runs never share a slot
    now = datetime.now(UTC).replace(microsecond=0)
    for i, (modules, metrics) in enumerate(SHAPES):
        at = now - timedelta(hours=2 * i + 2)
        with tempfile.TemporaryDirectory(prefix="hf-lag-") as tmp:
            url = database or f"sqlite:///{Path(tmp) / 'lag.db'}"
            figures += await bench_shape(Path(tmp), url, modules, metrics, at)
    return figures


def client(base: str) -> None:
    """The client process: ask for the pages in turn until terminated, one JSON line each."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with httpx.Client(base_url=base, timeout=60) as http:
        i = 0
        while True:
            start = time.time()
            status = http.get(PATHS[i % len(PATHS)]).status_code
            answer: dict[str, Any] = {"start": start, "end": time.time(), "status": status}
            print(json.dumps(answer), flush=True)
            i += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", help="a scratch PostgreSQL database to fill, instead of a temporary SQLite"
    )
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=SWITCH_INTERVAL,
        help=f"the GIL switch interval in seconds (default: {SWITCH_INTERVAL:g}, as serve sets)",
    )
    args = parser.parse_args()
    sys.setswitchinterval(args.switch_interval)
    figures = asyncio.run(bench(args.database))
    for figure in figures:
        print(figure.line())
    threaded = [f for f in figures if "thread" in f.label]
    worst = max(max(f.lags, default=0.0) for f in threaded)
    print(f"worst loop lag with the store call in a thread: {worst * 1000:.1f} ms (goal < 20 ms)")
    failures = [f.label for f in figures if not f.stored_whole or f.statuses != {200}]
    if failures:
        print(
            "FAILED (run not stored whole, or a request not answered 200): " + ", ".join(failures)
        )
        sys.exit(1)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--client":
        client(sys.argv[2])
    else:
        main()
