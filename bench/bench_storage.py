"""Benchmark of the storage layer: storing a run, and reading the past as history grows.

Prints a table of figures and asserts nothing. `--quick` runs a small version in seconds.

(a) `finish_run` of one run of 200 modules (5 metrics and a small table each), on SQLite.
(b) synthetic history of 100 modules with 2 metrics each (a count, always integral, and a
    ratio, never integral), one run every 15 minutes: 2 years (~70k runs) and 3 months.
    It is bulk-loaded with executemany in time order, as runs would have written it (not
    through finish_run, which would take hours), then measured through the Store:
    "the site at T" (run_at + results + category_statuses) and a metric over 30 days,
    p50 of random queries, the ratio 2 years / 3 months, and bytes per stored sample.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from happyface import Result, Status, Table
from happyface.storage import ModuleRecord, Store, open_store
from happyface.storage.records import STATUS_CODES
from happyface.storage.schema import pack_sample

START = datetime(2023, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=15)
CATEGORIES = 10
CONFIG = {"categories": [{"id": f"cat{c}", "title": f"Category {c}"} for c in range(CATEGORIES)]}


def main() -> None:
    """Parse the arguments, run both parts, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small version, for a smoke test")
    parser.add_argument("--dir", type=Path, help="where the databases go (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        rows = bench_finish_run(Path(tmp), runs=5 if args.quick else 30)
        long_days, short_days = (70, 35) if args.quick else (730, 90)
        rows += bench_history(Path(tmp), long_days, short_days, queries=30 if args.quick else 200)
    width = max(len(name) for name, _ in rows)
    print(f"\n{'figure'.ljust(width)}  value")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


# -- (a) storing one run --------------------------------------------------------------------


def big_run(rng: random.Random) -> list[ModuleRecord]:
    """200 modules with 5 metrics and a 5-row table each, as a busy site's run would be."""
    records = []
    for m in range(200):
        metrics = {f"m{k}": float(rng.randint(0, 10_000)) for k in range(4)}
        metrics["ratio"] = rng.random()
        table = Table(
            "top", ("name", "value", "ok"), [(f"row{r}", r * 1.5, True) for r in range(5)]
        )
        result = Result(status=Status.HAPPY, message="fine", metrics=metrics, tables=(table,))
        records.append(
            ModuleRecord(f"module{m:03}", f"cat{m % CATEGORIES}", Status.HAPPY, "fine", result)
        )
    return records


def bench_finish_run(tmp: Path, runs: int) -> list[tuple[str, str]]:
    """Milliseconds per finish_run of a 200-module run on SQLite."""
    store = open_store(f"sqlite:///{tmp / 'runs.db'}")
    rng = random.Random(1)
    categories = {f"cat{c}": Status.HAPPY for c in range(CATEGORIES)}
    timings = []
    for i in range(runs + 1):
        t = START + i * STEP
        records = big_run(rng)
        run_id = store.begin_run(t, "bench", CONFIG)
        began = time.perf_counter()
        store.finish_run(run_id, records, categories, t)
        if i:  # the first run also creates the catalogue of names
            timings.append((time.perf_counter() - began) * 1000)
    store.close()
    return [
        (
            "(a) finish_run, 200 modules x 5 metrics, SQLite: p50 ms",
            f"{statistics.median(timings):.1f}",
        ),
        ("(a) finish_run: max ms", f"{max(timings):.1f}"),
    ]


# -- (b) history ----------------------------------------------------------------------------

MODULES = 100


def bulk_load(path: Path, days: int, ratios: bool = True) -> tuple[int, float]:
    """Create the schema, then load `days` of history; returns (runs, seconds).

    Without `ratios` the second metric is a count too, to size integral samples alone.
    """
    open_store(f"sqlite:///{path}").close()
    began = time.perf_counter()
    db = sqlite3.connect(path, isolation_level=None)
    # a throwaway load: no journal, no fsync, a big cache; the schema comes from open_store
    db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000;")
    db.execute("BEGIN")
    db.execute(
        "INSERT INTO config_versions (id, hash, created_at, config) VALUES (1, 'x', ?, ?)",
        (_text(START), json.dumps(CONFIG)),
    )
    db.executemany("INSERT INTO modules (id, name) VALUES (?, ?)",
                   [(m + 1, f"module{m:03}") for m in range(MODULES)])  # fmt: skip
    db.executemany("INSERT INTO categories (id, name) VALUES (?, ?)",
                   [(c + 1, f"cat{c}") for c in range(CATEGORIES)])  # fmt: skip
    names = tuple(enumerate(("jobs", "ratio")))
    db.executemany(
        "INSERT INTO series (id, module_id, name) VALUES (?, ?, ?)",
        [(2 * m + k + 1, m + 1, name) for m in range(MODULES) for k, name in names],
    )
    count = days * 96
    rng = random.Random(2)
    hourly: dict[int, list[float]] = {}
    daily: dict[int, list[float]] = {}
    for first in range(0, count, 96):  # a day of runs per executemany batch
        runs, results, cats, samples = [], [], [], []
        exact: list[tuple[int, float]] = []
        for i in range(first, min(first + 96, count)):
            t, run_id = START + i * STEP, i + 1
            runs.append((run_id, _text(t), _text(t + timedelta(seconds=20)), "ok", "bench", 1, ""))
            cats.extend((run_id, c + 1, 0) for c in range(CATEGORIES))
            for m in range(MODULES):
                jobs, ratio = float(rng.randint(0, 3000)), round(rng.random(), 4)
                if not ratios:
                    ratio = float(rng.randint(0, 100))
                data = json.dumps(
                    {"metrics": {"jobs": jobs, "ratio": ratio}}, separators=(",", ":")
                )
                status = STATUS_CODES[Status.HAPPY if ratio > 0.1 else Status.UNHAPPY]
                results.append(
                    (run_id, m + 1, m % CATEGORIES + 1, status, "fine", data, None, 0.1, 0.01, "")
                )
                # stored as the Store stores them (pack_sample), folded as the exact values
                samples.append((2 * m + 1, run_id, pack_sample(float(jobs))))
                samples.append((2 * m + 2, run_id, pack_sample(ratio)))
                exact.append((2 * m + 1, jobs))
                exact.append((2 * m + 2, ratio))
            hour, day = i // 4, i // 96
            for series_id, value in exact[-2 * MODULES :]:
                _fold(hourly, series_id, hour, value)
                _fold(daily, series_id, day, value)
        db.executemany("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)", runs)
        db.executemany("INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", results)
        db.executemany("INSERT INTO run_categories VALUES (?, ?, ?)", cats)
        db.executemany("INSERT INTO samples VALUES (?, ?, ?)", samples)
        db.executemany("INSERT INTO rollups_hourly VALUES (?, ?, ?, ?, ?, ?)", _rows(hourly))
        hourly.clear()
    db.executemany("INSERT INTO rollups_daily VALUES (?, ?, ?, ?, ?, ?)", _rows(daily))
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    return count, time.perf_counter() - began


def _text(t: datetime) -> str:
    # the form SQLAlchemy's SQLite DateTime writes, so bulk rows sort with stored ones
    return t.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _fold(buckets: dict[int, list[float]], series_id: int, bucket: int, value: float) -> None:
    key = series_id << 32 | bucket
    agg = buckets.get(key)
    if agg is None:
        buckets[key] = [1, value, value, value]
    else:
        agg[0] += 1
        agg[1] += value
        agg[2] = min(agg[2], value)
        agg[3] = max(agg[3], value)


def _rows(buckets: dict[int, list[float]]) -> Iterator[tuple[int, int, float, float, float, float]]:
    for key, (n, total, low, high) in buckets.items():
        yield key >> 32, key & 0xFFFFFFFF, int(n), total, low, high


def sample_bytes(path: Path) -> tuple[float, float]:
    """Bytes on disk per stored sample (pages incl. slack), and the leaf pages' fill."""
    db = sqlite3.connect(path)
    size, unused = db.execute(
        "SELECT sum(pgsize), sum(unused) FROM dbstat WHERE name = 'samples'"
    ).fetchone()
    (n,) = db.execute("SELECT count(*) FROM samples").fetchone()
    db.close()
    return size / n, 1 - unused / size


def p50_ms(action: Callable[[], object], times: int) -> float:
    """The median wall time of `action` in milliseconds."""
    timings = []
    for _ in range(times):
        began = time.perf_counter()
        action()
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


def measure(store: Store, days: int, queries: int) -> dict[str, float]:
    """p50 of 'the site at T' and of 30-day curves at random times in the history."""
    rng = random.Random(3)
    span = timedelta(days=days)

    def site_at() -> None:
        run = store.run_at(START + rng.random() * span)
        assert run is not None
        store.results(run.id)
        store.category_statuses(run.id)

    def curve(max_points: int) -> Callable[[], object]:
        def read() -> object:
            end = START + timedelta(days=30) + rng.random() * (span - timedelta(days=30))
            module, metric = f"module{rng.randrange(MODULES):03}", rng.choice(("jobs", "ratio"))
            return store.metric_series(module, metric, end - timedelta(days=30), end, max_points)

        return read

    site_at()  # warm the connection pool and caches before timing
    return {
        "site": p50_ms(site_at, queries),
        "curve": p50_ms(curve(2000), queries),
        "raw": p50_ms(curve(5000), queries),
    }


def bench_history(
    tmp: Path, long_days: int, short_days: int, queries: int
) -> list[tuple[str, str]]:
    """Load both histories, measure both, and compare."""
    figures: dict[int, dict[str, float]] = {}
    rows: list[tuple[str, str]] = []
    for days in (short_days, long_days):
        path = tmp / f"history-{days}d.db"
        runs, seconds = bulk_load(path, days)
        per_sample, fill = sample_bytes(path)
        store = open_store(f"sqlite:///{path}")
        figures[days] = measure(store, days, queries)
        store.close()
        label = f"(b) {days} days"
        rows += [
            (f"{label}: runs loaded (100 modules, 2 metrics)", f"{runs} in {seconds:.0f} s"),
            (f"{label}: database size MB", f"{path.stat().st_size / 1e6:.0f}"),
            (f"{label}: bytes per sample on disk (leaf fill)", f"{per_sample:.1f} ({fill:.0%})"),
            (f"{label}: site at T, p50 ms", f"{figures[days]['site']:.2f}"),
            (f"{label}: 30-day metric (hourly rollups), p50 ms", f"{figures[days]['curve']:.2f}"),
            (f"{label}: 30-day metric (raw, 2880 points), p50 ms", f"{figures[days]['raw']:.2f}"),
        ]
    runs, _ = bulk_load(tmp / "counts.db", short_days, ratios=False)
    per_sample, fill = sample_bytes(tmp / "counts.db")
    rows.append((f"(b) {short_days} days, integral values only: bytes per sample (leaf fill)",
                 f"{per_sample:.1f} ({fill:.0%})"))  # fmt: skip
    for key, name in (
        ("site", "site at T"),
        ("curve", "30-day metric, rollups"),
        ("raw", "30-day metric, raw"),
    ):
        ratio = figures[long_days][key] / figures[short_days][key]
        rows.append((f"(b) ratio {long_days}d / {short_days}d: {name}", f"{ratio:.2f}"))
    return rows


if __name__ == "__main__":
    main()
