"""Dashboard figures: page latency, past vs live, overview vs a static file, a 1-year plot.

Builds a site of 100 modules in 5 categories with a year of history for one metric in a
temporary SQLite database, serves it with uvicorn in a subprocess on loopback, and measures
with a sequential keep-alive httpx loop. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_web.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import httpx

from happyface import Module, Result, Status, Table
from happyface.config.load import load_site
from happyface.config.site import Site
from happyface.plugins import Registry
from happyface.storage import ModuleRecord, Store, open_store

CATEGORIES = 5
PER_CATEGORY = 20
FULL_RUNS = 12
YEAR_STEP = timedelta(hours=2)
NOW = datetime.now(UTC).replace(microsecond=0)
REQUESTS = 300


class Bench(Module):
    """A module type for the benchmark; its results are written directly."""

    source_names: ClassVar[tuple[str, ...]] = ()


def registry() -> Registry:
    reg = Registry(points=[])
    reg.register("bench", Bench)
    return reg


def write_config(folder: Path) -> None:
    lines = ['[site]\ntitle = "Bench"\ninterval = "15m"\ndatabase = "sqlite:///bench.db"\n']
    for c in range(CATEGORIES):
        lines.append(f'[[category]]\nid = "cat{c}"\ntitle = "Category {c}"\norder = {c}\n')
        for m in range(PER_CATEGORY):
            lines.append(
                f'[[module]]\nid = "m{c}_{m}"\ntype = "bench"\ncategory = "cat{c}"\n'
                f'title = "Module {c}.{m}"\ninstruction = "Call someone"\n'
            )
    (folder / "happyface.toml").write_text("\n".join(lines))


def record(module_id: str, category: str, i: int) -> ModuleRecord:
    status = Status.UNHAPPY if (i + len(module_id)) % 7 == 0 else Status.HAPPY
    rows = [(f"row{n}", n, n * 0.5) for n in range(30)]
    result = Result(
        status=status,
        message=f"{module_id} value {i}",
        metrics={"value": float(i % 100), "load": float(i % 13)},
        tables=(Table("t", ("name", "n", "x"), rows),),
    )
    return ModuleRecord(module_id, category, status, result.message, result)


def write_full_runs(store: Store, site: Site) -> None:
    """The newest FULL_RUNS runs of every module, one each 15 minutes up to NOW."""
    for i in range(FULL_RUNS):
        t = NOW - timedelta(minutes=15) * (FULL_RUNS - i)
        run = store.begin_run(t, "bench", site.snapshot)
        recs = [record(m.id, m.config.category, i) for m in site.modules]
        store.finish_run(run, recs, {c.id: Status.HAPPY for c in site.categories}, t)


def populate(folder: Path) -> Site:
    write_config(folder)
    site = load_site(folder, registry())
    store = open_store(site.database_url)
    start = NOW - timedelta(days=365)
    steps = int((timedelta(days=365) - YEAR_STEP * FULL_RUNS) / YEAR_STEP)
    for i in range(steps):  # a year of one module's history: the plot reads it back
        t = start + YEAR_STEP * i
        run = store.begin_run(t, "bench", site.snapshot)
        store.finish_run(run, [record("m0_0", "cat0", i)], {"cat0": Status.HAPPY}, t)
    write_full_runs(store, site)
    store.close()
    return site


def serve(folder: str, port: str) -> None:
    """The server side, run in a subprocess: the app plus a static folder for comparison."""
    import uvicorn
    from starlette.staticfiles import StaticFiles

    from happyface.web import create_app

    site = load_site(Path(folder), registry())
    app = create_app(site, open_store(site.database_url))
    app.mount("/bench-static", StaticFiles(directory=Path(folder) / "static"))
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False)


def timings(client: httpx.Client, urls: list[str], count: int = REQUESTS) -> list[float]:
    """Seconds per request, cycling through `urls`."""
    out = []
    for i in range(count):
        t0 = time.perf_counter()
        answer = client.get(urls[i % len(urls)])
        out.append(time.perf_counter() - t0)
        answer.raise_for_status()
    return out


def p50_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="hf-bench-"))
    t0 = time.perf_counter()
    populate(folder)
    (folder / "static").mkdir()
    print(f"database: {time.perf_counter() - t0:.1f} s to write a year of history")
    port = "18931"
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(folder), port])
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            _wait(client)
            measure(client, folder)
    finally:
        server.terminate()
        server.wait(10)


def _wait(client: httpx.Client) -> None:
    for _ in range(200):
        try:
            client.get("/live")
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("the server did not start")


def measure(client: httpx.Client, folder: Path) -> None:
    runs = [NOW - timedelta(minutes=15) * (FULL_RUNS - i) for i in range(FULL_RUNS)]
    ats = [f"/category/cat1?at={t.strftime('%Y-%m-%dT%H:%M:%SZ')}" for t in runs[:-1]]
    cold = timings(client, ats, len(ats))
    print(f"category page (20 modules), first render of a run: p50 {p50_ms(cold):.1f} ms")
    live = timings(client, ["/category/cat1"])
    print(f"category page, live, p50 {p50_ms(live):.2f} ms (goal <= 20 ms)")
    past = timings(client, [ats[3]])
    print(
        f"category page, past run, p50 {p50_ms(past):.2f} ms; past/live ratio "
        f"{p50_ms(past) / p50_ms(live):.2f} (goal <= 1.5)"
    )
    size = len(client.get("/").content)
    (folder / "static" / "same.html").write_bytes(b"x" * size)
    overview = timings(client, ["/"], REQUESTS * 2)
    static = timings(client, ["/bench-static/same.html"], REQUESTS * 2)
    rps_o, rps_s = 1 / statistics.mean(overview), 1 / statistics.mean(static)
    print(
        f"overview ({size} bytes): {rps_o:.0f} req/s; static file of that size: "
        f"{rps_s:.0f} req/s; {100 * rps_o / rps_s:.0f} % (goal >= 50 %)"
    )
    year = "m=m0_0:value&from=-365d&to=now"
    first = timings(client, [f"/plot.json?{year}"], 1)
    again = timings(client, [f"/plot.json?{year}"], 50)
    points = len(client.get(f"/plot.json?{year}").json()["curves"][0]["points"])
    print(
        f"1-year plot of one metric ({points} points): first {first[0] * 1000:.1f} ms, "
        f"then p50 {p50_ms(again):.2f} ms (goal <= 50 ms)"
    )
    fixed = _fixed_year()
    uncached = timings(client, [f"/plot.json?m=m0_0:value&{f}" for f in fixed], len(fixed))
    print(f"1-year plot, uncached (distinct intervals): p50 {p50_ms(uncached):.1f} ms")
    png = timings(client, [f"/plot.png?{year}"], 3)
    print(f"1-year plot as PNG: first {png[0] * 1000:.0f} ms")


def _fixed_year() -> list[str]:
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return [
        f"from={(NOW - timedelta(days=365, minutes=i)).strftime(fmt)}"
        f"&to={(NOW - timedelta(minutes=i)).strftime(fmt)}"
        for i in range(10)
    ]


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3])
    else:
        main()
