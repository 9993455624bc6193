"""Benchmark of the storage layer on SQLite and on a real PostgreSQL the bench starts.

Prints a table of figures; each timed call is checked to have returned what it should.
`--quick` runs a small version in seconds.

(a) `finish_run` of runs of 200 modules (5 metrics and a small table each; the tables of 20
    modules change every run, the others repeat), one run every 15 minutes for two days and
    into a third, cleaned hourly as `serve` does (which packs each ended day): p50 and max
    ms, how long writing a day's rollups takes after the day's first run (in a transaction
    of its own, as the runner does) and the cleanup that packs a day, and the database's
    growth per run over the second day (steady state), by
    table and by index, extrapolated to a year of 15-minute runs (PostgreSQL vacuumed after
    each run, as autovacuum would be). `--quick` runs every three hours instead.
(b) synthetic history of 100 modules with 2 metrics each (a count, always integral, and a
    ratio, never integral), one run every 15 minutes: 2 years (~70k runs) and 3 months,
    bulk-loaded in time order as runs would have written it (through finish_run it would take
    hours), then measured through the Store: "the site at T" (run_at + results +
    category_statuses) and a metric over 30 days from hourly rollups and raw, p50 of random
    queries and the ratio 2 years / 3 months. Bytes per sample: the results' bytes on disk
    (indexes included) with the metrics, less those of the same history without them.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.fixtures

from tests.fixtures.postgres import PostgresCluster

from happyface import Result, Status, Table
from happyface.storage import ModuleRecord, Retention, Store, open_store
from happyface.storage.rollup import DAY, bucket_of, open_day, written_until

START = datetime(2023, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=15)
QUICK_STEP = timedelta(hours=3)
RUNS_PER_YEAR = 365 * 96
CATEGORIES = 10
CONFIG = {"categories": [{"id": f"cat{c}", "title": f"Category {c}"} for c in range(CATEGORIES)]}
Figures = list[tuple[str, str]]


def main() -> None:
    """Parse the arguments, run both parts on each backend, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small version, for a smoke test")
    parser.add_argument("--dir", type=Path, help="where the databases go (default: a temp dir)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument("--part", choices=("finish", "history"), action="append")
    args = parser.parse_args()
    parts = args.part or ["finish", "history"]
    rows: Figures = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for backend in args.backend or ["sqlite", "postgresql"]:
            with databases(backend, Path(tmp)) as new_url:
                if "finish" in parts:
                    rows += shown(
                        bench_finish_run(
                            backend, new_url("runs"), QUICK_STEP if args.quick else STEP
                        )
                    )
                if "history" in parts:
                    days = (70, 35) if args.quick else (730, 90)
                    rows += shown(bench_history(backend, new_url, days, 30 if args.quick else 200))
    width = max(len(name) for name, _ in rows)
    print(f"\n{'figure'.ljust(width)}  value")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


def shown(rows: Figures) -> Figures:
    """The figures, printed at once as well: a long run shows what it has so far."""
    for name, value in rows:
        print(f"{name}: {value}", flush=True)
    return rows


@contextmanager
def databases(backend: str, tmp: Path) -> Iterator[Callable[[str], str]]:
    """A maker of URLs of new empty databases on `backend` (PostgreSQL: a server of its own)."""
    if backend == "sqlite":
        yield lambda name: f"sqlite:///{tmp / name}.db"
        return
    cluster = PostgresCluster()  # the tests' server: loopback, a free port, a temp directory
    try:
        cluster.start()

        def create(name: str) -> str:
            cluster.server.admin(f"CREATE DATABASE {name}")
            return cluster.server.url(name)

        yield create
    finally:
        cluster.remove()


def relation_bytes(engine: sa.Engine, table: str | None = None) -> int:
    """Bytes on disk of one table with its indexes, or of the whole database."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("CHECKPOINT")
            where = "c.relname = %(t)s" if table else "c.relkind IN ('r', 'm')"
            query = (
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n"
                f" ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND {where}"
            )
            return int(conn.exec_driver_sql(query, {"t": table}).scalar() or 0)
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        if table is None:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            free = conn.exec_driver_sql("PRAGMA freelist_count").scalar_one()
            return int((pages - free) * conn.exec_driver_sql("PRAGMA page_size").scalar_one())
        query = (
            "SELECT sum(pgsize) FROM dbstat WHERE name IN"
            " (SELECT name FROM sqlite_master WHERE tbl_name = ?)"
        )
        return int(conn.exec_driver_sql(query, (table,)).scalar() or 0)


def p50s(action: Callable[[], object], times: int) -> tuple[float, float]:
    """The median wall time and this process's median CPU time of `action`, in milliseconds.

    On a shared machine the CPU time varies less; on SQLite it includes the database's work.
    """
    wall, cpu = [], []
    for _ in range(times):
        began, began_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


# -- (a) storing runs -----------------------------------------------------------------------


def big_run(rng: random.Random, run: int) -> list[ModuleRecord]:
    """200 modules with 5 metrics and a 5-row table each, as a busy site's run would be."""
    records = []
    for m in range(200):
        metrics = {f"m{k}": float(rng.randint(0, 10_000)) for k in range(4)}
        metrics["ratio"] = rng.random()
        changing = run if m % 10 == 0 else 0
        rows = [(f"row{r}", r * 1.5 + changing, True) for r in range(5)]
        table = Table("top", ("name", "value", "ok"), rows)
        result = Result(status=Status.HAPPY, message="fine", metrics=metrics, tables=(table,))
        records.append(
            ModuleRecord(f"module{m:03}", f"cat{m % CATEGORIES}", Status.HAPPY, "fine", result)
        )
    return records


def bench_finish_run(backend: str, url: str, step: timedelta) -> Figures:
    """Milliseconds per finish_run of a 200-module run, and the database's growth per run.

    Runs every `step` for two days and into a third, cleaned hourly as `serve` cleans: the
    first clean of a day packs the day before. Growth is measured from the first run of the
    second day to the first of the third (each after its clean): a day's worth at steady
    state, the rows of the current day the same at both ends.
    """
    store = open_store(url)
    statements = count_statements(store.engine)
    rng = random.Random(1)
    categories = {f"cat{c}": Status.HAPPY for c in range(CATEGORIES)}
    per_day = timedelta(days=1) // step
    timings, cpu, per_run, packing, writing_days = [], [], [], [], []
    sizes: list[tuple[int, dict[str, int], dict[str, int]]] = []
    day: list[tuple[datetime, float]] = []  # one metric's values so far today
    firsts: list[tuple[int, list[ModuleRecord]]] = []  # each day's first run, checked packed
    for i in range(2 * per_day + 1):
        t = START + i * step
        records = big_run(rng, i)
        run_id = store.begin_run(t, "bench", CONFIG)
        assert run_id is not None
        statements.clear()
        began, began_cpu = time.perf_counter(), time.process_time()
        due = store.finish_run(run_id, records, categories, t)
        if i:  # the first run also creates the catalogue of names
            timings.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)
            per_run.append(len(statements))
        if due is not None:  # as the runner does after a day's first run
            began = time.perf_counter()
            store.write_ended_days(due)
            writing_days.append((time.perf_counter() - began) * 1000)
            check_days_written(store, t)
        if t.minute == 0:
            began = time.perf_counter()
            store.cleanup(t, Retention())
            if i % per_day == 0 and i:
                packing.append((time.perf_counter() - began) * 1000)
                check_stored(store, *firsts[-1])  # read back from its packed day
        # the first VACUUM gives every table its free-space and visibility maps (32 KB each
        # on PostgreSQL), once: the measure starts after a day anyway
        vacuum(store.engine)
        if i % per_day == 0:
            firsts.append((run_id, records))
            if i:
                sizes.append(
                    (
                        relation_bytes(store.engine),
                        table_bytes(store.engine),
                        part_bytes(store.engine),
                    )
                )
        check_stored(store, run_id, records)
        day = [x for x in day if x[0].date() == t.date()] + [(t, records[0].result.metrics["m0"])]
        check_curve(store, day)
    (size_before, tables_before, parts_before), (size, tables, parts) = sizes
    growth = (size - size_before) / per_day
    store.close()
    label = f"(a) {backend}: finish_run, 200 modules x 5 metrics"
    return [
        (
            f"{label}: p50 ms (CPU)",
            f"{statistics.median(timings):.1f} ({statistics.median(cpu):.1f})",
        ),
        (f"{label}: max ms", f"{max(timings):.1f}"),
        (f"{label}: statements p50 (max)", f"{statistics.median(per_run):.0f} ({max(per_run)})"),
        (
            f"(a) {backend}: writing a day's rollups after its first run ms",
            " ".join(f"{w:.0f}" for w in writing_days),
        ),
        (
            f"(a) {backend}: cleanup that packs a day of {per_day} runs ms",
            " ".join(f"{p:.0f}" for p in packing),
        ),
        (f"(a) {backend}: database growth per run KB", f"{growth / 1000:.1f}"),
        (f"(a) {backend}: growth per run by table KB", largest(tables_before, tables, per_day)),
        (f"(a) {backend}: growth per run by relation KB", largest(parts_before, parts, per_day, 6)),
        (f"(a) {backend}: per year of 15-minute runs GB", f"{growth * RUNS_PER_YEAR / 1e9:.2f}"),
    ]


def count_statements(engine: sa.Engine) -> list[str]:
    """A list that gets every statement `engine` sends (a round trip each on PostgreSQL)."""
    sent: list[str] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _sent(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(statement)

    return sent


def table_bytes(engine: sa.Engine) -> dict[str, int]:
    """Bytes on disk of each table with its indexes."""
    with engine.connect() as conn:
        names = sa.inspect(conn).get_table_names()
    return {name: relation_bytes(engine, name) for name in names}


def largest(before: dict[str, int], after: dict[str, int], runs: int, count: int = 4) -> str:
    """The `count` relations that grew most, with their growth per run in KB."""
    grown = sorted(after, key=lambda n: before.get(n, 0) - after[n])[:count]
    return ", ".join(f"{n} {(after[n] - before.get(n, 0)) / runs / 1000:.1f}" for n in grown)


def part_bytes(engine: sa.Engine) -> dict[str, int]:
    """Bytes on disk of each table (without its indexes; with its TOAST) and of each index.

    On SQLite a WITHOUT ROWID table is its primary key's B-tree: it counts as the table.
    """
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("CHECKPOINT")
            query = (
                "SELECT c.relname, CASE c.relkind WHEN 'i' THEN pg_relation_size(c.oid)"
                " ELSE pg_table_size(c.oid) END FROM pg_class c JOIN pg_namespace n"
                " ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')"
            )
        else:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            query = "SELECT name, sum(pgsize) FROM dbstat GROUP BY name"
        return {name: int(size) for name, size in conn.exec_driver_sql(query)}


def check_curve(store: Store, samples: list[tuple[datetime, float]]) -> None:
    """One metric's day so far reads back, hour by hour (written hours and the open one),
    as the mean, min and max of the values stored."""
    first, last = samples[0][0], samples[-1][0]
    hours: dict[datetime, list[float]] = {}
    for t, value in samples:
        hours.setdefault(t.replace(minute=0), []).append(value)
    if len(samples) <= len(hours):
        return  # as many runs as hours: the curve is the raw samples
    points = store.metric_series("module000", "m0", first, last, max_points=len(hours))
    expected = [(t, sum(v) / len(v), min(v), max(v)) for t, v in sorted(hours.items())]
    assert [(p.t, p.min, p.max) for p in points] == [(t, lo, hi) for t, _, lo, hi in expected]
    assert all(
        math.isclose(p.value, mean) for p, (_, mean, _, _) in zip(points, expected, strict=True)
    )


def check_days_written(store: Store, t: datetime) -> None:
    """Every day before `t`'s is rolled up: `t`'s day is the first open one."""
    assert store.read("reading the marks", lambda c: open_day(written_until(c))) == bucket_of(
        t, DAY
    )


def vacuum(engine: sa.Engine) -> None:
    """On PostgreSQL, vacuum as autovacuum would between runs.

    Rollup upserts leave dead rows, whose space later inserts reuse once vacuumed; without
    it, a day's growth would count every one of them.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM")


def check_stored(store: Store, run_id: int, records: list[ModuleRecord]) -> None:
    """The run reads back exactly as it was stored."""
    stored = {r.module_id: r for r in store.results(run_id)}
    assert len(stored) == len(records), (len(stored), len(records))
    for record in records:
        row = stored[record.module_id]
        assert row.metrics == dict(record.result.metrics), record.module_id
        assert row.tables == list(record.result.tables), record.module_id


# -- (b) history ----------------------------------------------------------------------------

MODULES = 100


def bench_history(
    backend: str, new_url: Callable[[str], str], days: tuple[int, int], queries: int
) -> Figures:
    """Load both histories, measure both, and compare."""
    from history_load import bulk_load  # the loader knows the layout; (a) needs no layout

    long_days, short_days = days
    figures: dict[int, dict[str, tuple[float, float]]] = {}
    results_bytes: dict[int, int] = {}
    rows: Figures = []
    for n in (short_days, long_days):
        url = new_url(f"history{n}")
        count, seconds = bulk_load(url, n, START, STEP, MODULES, CATEGORIES)
        store = open_store(url)
        figures[n] = measure(store, n, queries)
        size = relation_bytes(store.engine)
        results_bytes[n] = results_size(store.engine)
        store.close()
        label = f"(b) {backend} {n} days"
        rows += [
            (f"{label}: runs loaded (100 modules, 2 metrics)", f"{count} in {seconds:.0f} s"),
            (f"{label}: database size MB", f"{size / 1e6:.0f}"),
            (f"{label}: site at T, p50 ms (CPU)", both(figures[n]["site"])),
            (
                f"{label}: 30-day metric (hourly rollups, 721 points), p50 ms (CPU)",
                both(figures[n]["curve"]),
            ),
            (f"{label}: 30-day metric (raw, 2880 points), p50 ms (CPU)", both(figures[n]["raw"])),
        ]
    bare = new_url("bare")
    bulk_load(bare, short_days, START, STEP, MODULES, CATEGORIES, metrics=False)
    engine = sa.create_engine(bare)
    without = results_size(engine)
    engine.dispose()
    per_sample = (results_bytes[short_days] - without) / (short_days * 96 * MODULES * 2)
    rows.append((f"(b) {backend}: bytes per sample on disk", f"{per_sample:.1f}"))
    for key, name in (("site", "site at T"), ("curve", "30-day, rollups"), ("raw", "30-day, raw")):
        (long_wall, long_cpu), (short_wall, short_cpu) = (
            figures[long_days][key],
            figures[short_days][key],
        )
        ratios = f"{long_wall / short_wall:.2f} ({long_cpu / short_cpu:.2f})"
        rows.append((f"(b) {backend} ratio {long_days}d / {short_days}d: {name} (CPU)", ratios))
    return rows


def results_size(engine: sa.Engine) -> int:
    """Bytes on disk of the results: the current day's rows and the packed days."""
    return relation_bytes(engine, "results") + relation_bytes(engine, "result_days")


def both(figures: tuple[float, float]) -> str:
    """'wall (CPU)' in milliseconds."""
    return f"{figures[0]:.2f} ({figures[1]:.2f})"


def measure(store: Store, days: int, queries: int) -> dict[str, tuple[float, float]]:
    """p50 of 'the site at T' and of 30-day curves at random times in the history."""
    rng = random.Random(3)
    span = timedelta(days=days)

    def site_at() -> None:
        run = store.run_at(START + rng.random() * span)
        assert run is not None
        results = store.results(run.id)
        assert len(results) == MODULES and all(len(r.metrics) == 2 for r in results)
        assert len(store.category_statuses(run.id)) == CATEGORIES

    def curve(max_points: int, expected: Callable[[datetime, datetime], int]) -> Callable[[], None]:
        def read() -> None:
            end = START + timedelta(days=30) + rng.random() * (span - timedelta(days=31))
            module, metric = f"module{rng.randrange(MODULES):03}", rng.choice(("jobs", "ratio"))
            since = end - timedelta(days=30)
            points = store.metric_series(module, metric, since, end, max_points)
            assert len(points) == expected(since, end), (len(points), expected(since, end))

        return read

    def hours(since: datetime, until: datetime) -> int:
        return int(until.timestamp() // 3600 - since.timestamp() // 3600) + 1

    def runs(since: datetime, until: datetime) -> int:
        first = math.ceil((since - START) / STEP)
        return int((until - START) // STEP) - first + 1

    site_at()  # warm the connection pool and caches before timing
    return {
        "site": p50s(site_at, queries),
        "curve": p50s(curve(2000, hours), queries),
        "raw": p50s(curve(5000, runs), queries),
    }


if __name__ == "__main__":
    main()
