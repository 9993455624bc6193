"""Dashboard figures: page latency, past vs live, overview vs a static file, a 1-year plot.

Builds a site of 100 modules in 5 categories with a year of history for one metric in a
temporary SQLite database, serves it with uvicorn in a subprocess on loopback, and measures
with a sequential keep-alive httpx loop; every answer timed must be 200 and hold what it
should. The static file the overview is compared with is served by Starlette in the same
process, a stand-in only: bench_serving.py compares with nginx. Prints figures; asserts nothing
about time.

    .venv/bin/python bench/bench_web.py
"""

from __future__ import annotations

import statistics
import struct
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench_site import (
    STATIC,
    STATIC_PATH,
    p50_ms,
    record,
    registry,
    serving,
    write_config,
    write_full_runs,
)
from happyface import Status
from happyface.config.load import load_site
from happyface.config.site import Site
from happyface.storage import open_store

CATEGORIES = 5
FULL_RUNS = 12
YEAR_STEP = timedelta(hours=2)
NOW = datetime.now(UTC).replace(microsecond=0)
REQUESTS = 300
#: what the answers timed must hold (a title may start with the tab's status)
CATEGORY = "Category 1 · Bench</title>".encode()
OVERVIEW = "Overview · Bench</title>".encode()
CURVES = b'"curves"'
PNG = b"\x89PNG\r\n\x1a\n"
#: pixels of a plot image with one metric curve: 9 x 4.02 inches at 100 dpi (a panel, a legend row)
PLOT_SIZE = (900, 402)


def populate(folder: Path) -> Site:
    write_config(folder, CATEGORIES)
    site = load_site(folder, registry())
    store = open_store(site.database_url)
    start = NOW - timedelta(days=365)
    steps = int((timedelta(days=365) - YEAR_STEP * FULL_RUNS) / YEAR_STEP)
    for i in range(steps):  # a year of one module's history: the plot reads it back
        t = start + YEAR_STEP * i
        run = store.begin_run(t, "bench", site.snapshot)
        if store.finish_run(run, [record("m0_0", "cat0", i)], {"cat0": Status.HAPPY}, t):
            store.write_ended_days(t)  # as the runner does after a day's first run
    write_full_runs(store, site, FULL_RUNS, NOW)
    store.close()
    return site


def timings(
    client: httpx.Client,
    urls: list[str],
    needle: bytes,
    count: int = REQUESTS,
    check: Callable[[bytes], bool] = lambda body: True,
) -> list[float]:
    """Seconds per request, cycling through `urls`; each answer must be 200, hold `needle`
    and pass `check`."""
    out = []
    for i in range(count):
        t0 = time.perf_counter()
        answer = client.get(urls[i % len(urls)])
        out.append(time.perf_counter() - t0)
        if answer.status_code != 200 or needle not in answer.content or not check(answer.content):
            raise SystemExit(f"{answer.url}: {answer.status_code}, not the expected answer")
    return out


def plot_png(body: bytes) -> bool:
    """Whether `body` is a PNG of PLOT_SIZE pixels (its header's first chunk says)."""
    if not body.startswith(PNG) or body[12:16] != b"IHDR":
        return False
    return struct.unpack(">II", body[16:24]) == PLOT_SIZE


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="hf-bench-"))
    t0 = time.perf_counter()
    populate(folder)
    (folder / STATIC).mkdir()
    print(f"database: {time.perf_counter() - t0:.1f} s to write a year of history")
    with serving(folder, static=True) as client:
        measure(client, folder)


def measure(client: httpx.Client, folder: Path) -> None:
    runs = [NOW - timedelta(minutes=15) * (FULL_RUNS - i) for i in range(FULL_RUNS)]
    ats = [f"/category/cat1?at={t.strftime('%Y-%m-%dT%H:%M:%SZ')}" for t in runs[:-1]]
    cold = timings(client, ats, CATEGORY, len(ats))
    print(f"category page (20 modules), first render of a run: p50 {p50_ms(cold):.1f} ms")
    live = timings(client, ["/category/cat1"], CATEGORY)
    print(f"category page, live, p50 {p50_ms(live):.2f} ms (goal <= 20 ms)")
    past = timings(client, [ats[3]], CATEGORY)
    print(
        f"category page, past run, p50 {p50_ms(past):.2f} ms; past/live ratio "
        f"{p50_ms(past) / p50_ms(live):.2f} (goal <= 1.5)"
    )
    size = len(client.get("/").content)
    (folder / STATIC / "same.html").write_bytes(b"x" * size)
    overview = timings(client, ["/"], OVERVIEW, REQUESTS * 2)
    static = timings(client, [f"{STATIC_PATH}/same.html"], b"xxx", REQUESTS * 2)
    rps_o, rps_s = 1 / statistics.mean(overview), 1 / statistics.mean(static)
    print(
        f"overview ({size} bytes): {rps_o:.0f} req/s; a static file of that size from "
        f"Starlette in the same process: {rps_s:.0f} req/s; {100 * rps_o / rps_s:.0f} % "
        "(against nginx: bench_serving.py)"
    )
    year = "m=m0_0:value&from=-365d&to=now"
    first = timings(client, [f"/plot.json?{year}"], CURVES, 1)
    again = timings(client, [f"/plot.json?{year}"], CURVES, 50)
    points = len(client.get(f"/plot.json?{year}").json()["curves"][0]["points"])
    print(
        f"1-year plot of one metric ({points} points): first {first[0] * 1000:.1f} ms, "
        f"then p50 {p50_ms(again):.2f} ms (goal <= 50 ms)"
    )
    fixed = _fixed_year()
    uncached = timings(client, [f"/plot.json?m=m0_0:value&{f}" for f in fixed], CURVES, len(fixed))
    print(f"1-year plot, uncached (distinct intervals): p50 {p50_ms(uncached):.1f} ms")
    png = timings(client, [f"/plot.png?{year}"], PNG, 3, plot_png)
    print(f"1-year plot as PNG: first {png[0] * 1000:.0f} ms (with matplotlib's import)")
    images = [f"/plot.png?m=m0_0:value&{f}" for f in fixed]
    uncached = timings(client, images, PNG, len(images), plot_png)
    cached = timings(client, images, PNG, len(images) * 5, plot_png)
    print(
        f"1-year plot as PNG, uncached (distinct intervals): p50 {p50_ms(uncached):.0f} ms, "
        f"min {min(uncached) * 1000:.0f} ms (goal <= 150 ms); cached p50 "
        f"{p50_ms(cached):.2f} ms"
    )


def _fixed_year() -> list[str]:
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return [
        f"from={(NOW - timedelta(days=365, minutes=i)).strftime(fmt)}"
        f"&to={(NOW - timedelta(minutes=i)).strftime(fmt)}"
        for i in range(10)
    ]


if __name__ == "__main__":
    main()
