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

import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench_site import PER_CATEGORY, p50_ms, registry, serving, write_config, write_full_runs
from happyface.config.load import load_site
from happyface.config.site import Site
from happyface.storage import open_store

SIZES = (100, 1000)
RUNS = 4
NOW = datetime.now(UTC).replace(microsecond=0)
CACHED = 200
UNCACHED = 60


def populate(folder: Path, modules: int) -> Site:
    """A site of `modules` modules with RUNS runs of all of them, 15 minutes apart up to NOW."""
    write_config(folder, modules // PER_CATEGORY, described=True)
    site = load_site(folder, registry())
    store = open_store(site.database_url)
    write_full_runs(store, site, RUNS, NOW)
    store.close()
    return site


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


def measure_size(modules: int) -> dict[tuple[str, bool], float]:
    """p50 in ms of every page, (name, uncached) -> ms, at a site of `modules` modules."""
    folder = Path(tempfile.mkdtemp(prefix="hf-bench-pages-"))
    populate(folder, modules)
    figures: dict[tuple[str, bool], float] = {}
    with serving(folder) as client:
        for page in PAGES:
            timings(client, page, 5, distinct=False)  # warm: templates, imports, cache
            figures[page.name, False] = p50_ms(timings(client, page, CACHED, False))
            figures[page.name, True] = p50_ms(timings(client, page, UNCACHED, True))
    return figures


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
    main()
