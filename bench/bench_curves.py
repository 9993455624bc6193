"""Benchmark of a metric's raw 30-day curve (2,880 points) on SQLite and a real PostgreSQL.

The history of bench_storage.py (b) (100 modules, 2 metrics, a run every 15 minutes), but
shorter, so that only the curves are timed and a change can be measured in a minute: each
history (default 60 and 240 days) is bulk-loaded, then p50 wall and CPU milliseconds of the
raw 30-day curve of a random module and metric, ending at a random time in the history (the
packed days) and ending at the last run (today's result rows included), and the ratio of
the longest history to the shortest. Each curve is checked to have one point per run.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from bench_storage import (
    CATEGORIES,
    MODULES,
    START,
    STEP,
    Figures,
    both,
    databases,
    p50s,
    shown,
)
from happyface.storage import Store, open_store
from history_load import METRICS, bulk_load

RAW_POINTS = 5000  # more than a month of runs: the raw samples are read, never rollups
MONTH = timedelta(days=30)


def main() -> None:
    """Load each history on each backend, time the curves, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, nargs="+", default=[60, 240])
    parser.add_argument("--queries", type=int, default=200, help="curves timed per figure")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append")
    args = parser.parse_args()
    rows: Figures = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backend or ["sqlite", "postgresql"]:
            with databases(backend, Path(tmp)) as new_url:
                rows += shown(bench_backend(backend, new_url, sorted(args.days), args.queries))
    width = max(len(name) for name, _ in rows)
    print(f"\n{'figure'.ljust(width)}  value")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


def bench_backend(
    backend: str, new_url: Callable[[str], str], histories: list[int], queries: int
) -> Figures:
    """The curves' figures on one backend, for each history length, and their ratio."""
    rows: Figures = []
    figures: dict[int, dict[str, tuple[float, float]]] = {}
    for days in histories:
        url = new_url(f"curves{days}")
        bulk_load(url, days, START, STEP, MODULES, CATEGORIES)
        store = open_store(url)
        try:
            figures[days] = measure(store, days, queries)
        finally:
            store.close()
        for key, name in (("past", "random 30 days"), ("recent", "last 30 days")):
            label = f"{backend} {days} days: raw curve, {name}, p50 ms (CPU)"
            rows.append((label, both(figures[days][key])))
    longest, shortest = figures[histories[-1]], figures[histories[0]]
    for key in ("past", "recent"):
        (long_wall, long_cpu), (short_wall, short_cpu) = longest[key], shortest[key]
        ratio = f"{long_wall / short_wall:.2f} ({long_cpu / short_cpu:.2f})"
        rows.append((f"{backend} ratio {histories[-1]}d / {histories[0]}d: {key} (CPU)", ratio))
    return rows


def measure(store: Store, days: int, queries: int) -> dict[str, tuple[float, float]]:
    """p50 of raw 30-day curves in the packed past and up to the last run."""
    rng = random.Random(5)
    last = START + (days * timedelta(days=1) // STEP - 1) * STEP
    span = last - START - MONTH

    def curve(end: Callable[[], datetime]) -> Callable[[], None]:
        def read() -> None:
            until = end()
            since = until - MONTH
            module, metric = f"module{rng.randrange(MODULES):03}", rng.choice(METRICS)
            points = store.metric_series(module, metric, since, until, RAW_POINTS)
            assert len(points) == runs(since, until), (len(points), runs(since, until))
            assert points[0].t >= since and points[-1].t <= until

        return read

    past = curve(lambda: START + MONTH + rng.random() * span)
    recent = curve(lambda: last)
    past()  # warm the connection pool and caches before timing
    return {"past": p50s(past, queries), "recent": p50s(recent, queries)}


def runs(since: datetime, until: datetime) -> int:
    """How many runs of the history started in [since, until]."""
    first = math.ceil((since - START) / STEP)
    return int((until - START) // STEP) - first + 1


if __name__ == "__main__":
    sys.exit(main())
