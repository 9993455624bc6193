"""Page cost as a site grows: module, category and overview pages at 100 and 1,000 modules.

For each size, builds a site of that many modules (20 per category, so a category page shows
the same 20 modules at either size) with a few stored runs in a temporary SQLite database,
serves it with uvicorn in a subprocess on loopback, and measures with a sequential keep-alive
httpx loop: p50 of each page as the page cache serves it, and p50 uncached (a distinct,
ignored query parameter per request makes every request build its page). Every answer must
be 200 and carry the page's title. Prints figures; asserts nothing about time.

Goals: each page at 1,000 modules within 1.5x of the same page at 100 (p50), and the
overview at 1,000 modules under 50 ms uncached.

    .venv/bin/python bench/bench_pages.py
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import httpx

from happyface import Module, Result, Status, Table
from happyface.config.load import load_site
from happyface.config.site import Site
from happyface.plugins import Registry
from happyface.storage import ModuleRecord, open_store

SIZES = (100, 1000)
PER_CATEGORY = 20
RUNS = 4
NOW = datetime.now(UTC).replace(microsecond=0)
CACHED = 200
UNCACHED = 60


class Bench(Module):
    """A module type for the benchmark; its results are written directly."""

    source_names: ClassVar[tuple[str, ...]] = ()


def registry() -> Registry:
    reg = Registry(points=[])
    reg.register("bench", Bench)
    return reg


def write_config(folder: Path, modules: int) -> None:
    lines = ['[site]\ntitle = "Bench"\ninterval = "15m"\ndatabase = "sqlite:///bench.db"\n']
    for c in range(modules // PER_CATEGORY):
        lines.append(f'[[category]]\nid = "cat{c}"\ntitle = "Category {c}"\norder = {c}\n')
        for m in range(PER_CATEGORY):
            lines.append(
                f'[[module]]\nid = "m{c}_{m}"\ntype = "bench"\ncategory = "cat{c}"\n'
                f'title = "Module {c}.{m}"\ninstruction = "Call someone"\n'
                f'description = "What module {c}.{m} watches, in a sentence or two."\n'
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


def populate(folder: Path, modules: int) -> Site:
    """A site of `modules` modules with RUNS runs of all of them, 15 minutes apart up to NOW."""
    write_config(folder, modules)
    site = load_site(folder, registry())
    store = open_store(site.database_url)
    for i in range(RUNS):
        t = NOW - timedelta(minutes=15) * (RUNS - i)
        run = store.begin_run(t, "bench", site.snapshot)
        recs = [record(m.id, m.config.category, i) for m in site.modules]
        store.finish_run(run, recs, {c.id: Status.HAPPY for c in site.categories}, t)
    store.close()
    return site


def serve(folder: str, port: str) -> None:
    """The server side, run in a subprocess."""
    import uvicorn

    from happyface.web import create_app

    site = load_site(Path(folder), registry())
    app = create_app(site, open_store(site.database_url))
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Page:
    """One page measured: its address and the title its answer must carry."""

    name: str
    path: str
    title: str


PAGES = (
    Page("module", "/module/m0_3", "Module 0.3 · Bench"),
    Page("category", "/category/cat0", "Category 0 · Bench"),
    Page("overview", "/", "Overview · Bench"),
)


def timings(client: httpx.Client, page: Page, count: int, distinct: bool) -> list[float]:
    """Seconds per request; with `distinct`, each request bypasses the page cache."""
    out = []
    for i in range(count):
        params = {"bench": str(i)} if distinct else None
        t0 = time.perf_counter()
        answer = client.get(page.path, params=params)
        out.append(time.perf_counter() - t0)
        if answer.status_code != 200 or f"<title>{page.title}</title>" not in answer.text:
            raise SystemExit(f"{page.path}: {answer.status_code}, not the expected page")
    return out


def p50_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def measure_size(modules: int) -> dict[tuple[str, bool], float]:
    """p50 in ms of every page, (name, uncached) -> ms, at a site of `modules` modules."""
    folder = Path(tempfile.mkdtemp(prefix="hf-bench-pages-"))
    populate(folder, modules)
    port = str(free_port())
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(folder), port])
    figures: dict[tuple[str, bool], float] = {}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            _wait(client)
            for page in PAGES:
                timings(client, page, 5, distinct=False)  # warm: templates, imports, cache
                figures[page.name, False] = p50_ms(timings(client, page, CACHED, False))
                figures[page.name, True] = p50_ms(timings(client, page, UNCACHED, True))
    finally:
        server.terminate()
        server.wait(10)
    return figures


def _wait(client: httpx.Client) -> None:
    for _ in range(400):
        try:
            client.get("/live")
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("the server did not start")


def report(small: dict[tuple[str, bool], float], large: dict[tuple[str, bool], float]) -> None:
    low, high = SIZES
    print(f"{'page':<10} {'cache':<9} {low:>7} mod {high:>7} mod  ratio (goal <= 1.5)")
    for page in PAGES:
        for uncached in (False, True):
            a, b = small[page.name, uncached], large[page.name, uncached]
            label = "uncached" if uncached else "cached"
            print(f"{page.name:<10} {label:<9} {a:>7.2f} ms {b:>7.2f} ms  {b / a:.2f}")
    overview = large["overview", True]
    print(f"overview at {high} modules, uncached: {overview:.1f} ms (goal < 50 ms)")


def main() -> None:
    small, large = (measure_size(n) for n in SIZES)
    report(small, large)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3])
    else:
        main()
