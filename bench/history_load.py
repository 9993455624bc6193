"""Bulk-loading synthetic history for bench_storage.py, in the store's own layout.

Rows go in as runs and the cleanup would have written them: in time order, the rollups of
every day but the last run's (open) day written, folded from the exact values (an hourly row
per series and day holding the day's hours packed, a daily row per series and day), every
ended day's results packed and the last day's a row each. A day of runs per statement,
through the store's bulk insert: on PostgreSQL one array-unnest statement per table and day,
on SQLite a plain executemany.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import sqlalchemy as sa

from happyface.storage import open_store
from happyface.storage.bulk import insert_rows
from happyface.storage.details import compress, dumps
from happyface.storage.hashed import content_hash
from happyface.storage.hourly_rows import COLUMNS as HOURLY_COLUMNS
from happyface.storage.packed_hours import HOURS_PER_DAY, pack_hours
from happyface.storage.packing import pack_metrics
from happyface.storage.result_days import StoredResult, encode, micros
from happyface.storage.rollup import (
    DAILY_COLUMNS,
    DAY,
    HOUR,
    LEVELS,
    bucket_of,
    bucket_start,
    written_key,
)
from happyface.storage.schema import (
    categories,
    config_versions,
    meta,
    metric_layouts,
    modules,
    result_days,
    result_details,
    results,
    rollups_daily,
    rollups_hourly,
    run_categories,
    runs,
    series,
)
from happyface.storage.stored import day_of
from happyface.storage.write import RESULT_COLUMNS

METRICS = ("jobs", "ratio")
Buckets = dict[tuple[int, int], list[float]]


def bulk_load(
    url: str,
    days: int,
    start: datetime,
    step: timedelta,
    module_count: int,
    category_count: int,
    metrics: bool = True,
) -> tuple[int, float]:
    """Create the schema, then load `days` of history; returns (runs, seconds).

    Without `metrics` the results carry none (and there are no rollups): the difference in
    size is what the samples cost.
    """
    open_store(url).close()
    began = time.perf_counter()
    engine = sa.create_engine(url)
    per_day = int(timedelta(days=1) / step)
    with engine.begin() as conn:
        _catalogue(conn, start, module_count, category_count)
        layouts: dict[str, int] = {}
        rng = random.Random(2)
        hourly: Buckets = {}
        daily: Buckets = {}
        for first in range(0, days * per_day, per_day):
            indices = range(first, first + per_day)
            times = [start + i * step for i in indices]
            conn.execute(
                sa.insert(runs),
                [
                    {"id": i + 1, "started_at": t, "finished_at": t + timedelta(seconds=20),
                     "state": "ok", "holder": "bench", "config_id": 1, "error": "", "slot": t}
                    for i, t in zip(indices, times, strict=True)
                ],
            )  # fmt: skip
            cats = [(i + 1, c + 1, 0) for i in indices for c in range(category_count)]
            insert_rows(conn, run_categories, ("run_id", "category_id", "status"), cats)
            rows = []
            for i, t in zip(indices, times, strict=True):
                for m in range(module_count):
                    values = {"jobs": float(rng.randint(0, 3000)), "ratio": round(rng.random(), 4)}
                    rows.append(_result(conn, layouts, i + 1, m, category_count, values, metrics))
                    if metrics:
                        _fold(hourly, m, bucket_of(t, HOUR), values)
                        _fold(daily, m, bucket_of(t, DAY), values)
            if first + per_day < days * per_day:  # an ended day: packed, as the cleanup does
                started = {i + 1: micros(t) for i, t in zip(indices, times, strict=True)}
                _pack(conn, day_of(times[0]), rows, started)
            else:  # the current day: a row each
                insert_rows(conn, results, RESULT_COLUMNS, rows)
            open_day = bucket_of(times[-1], DAY)  # the last run's: not written until complete
            insert_rows(conn, rollups_hourly, HOURLY_COLUMNS, _packed_days(hourly, open_day))
            hourly = {k: agg for k, agg in hourly.items() if k[1] // HOURS_PER_DAY >= open_day}
        last = start + (days * per_day - 1) * step
        insert_rows(conn, rollups_daily, DAILY_COLUMNS, list(_rows(daily, bucket_of(last, DAY))))
        _mark_open(conn, last)
        if days > 1:  # each module's details row is referenced up to the last packed day
            conn.execute(sa.update(result_details).values(used_until=day_of(last) - 1))
    _analyse(engine)
    engine.dispose()
    return days * per_day, time.perf_counter() - began


def _catalogue(
    conn: sa.Connection, start: datetime, module_count: int, category_count: int
) -> None:
    conn.execute(sa.insert(config_versions), {"id": 1, "hash": "x", "created_at": start,
                                              "config": "{}"})  # fmt: skip
    names = [(m + 1, f"module{m:03}") for m in range(module_count)]
    insert_rows(conn, modules, ("id", "name"), names)
    insert_rows(
        conn, categories, ("id", "name"), [(c + 1, f"cat{c}") for c in range(category_count)]
    )
    rows = [(_series(m, k), m + 1, n) for m in range(module_count) for k, n in enumerate(METRICS)]
    insert_rows(conn, series, ("id", "module_id", "name"), rows)
    # every module repeats one small table run after run: one details row each
    details = [
        (m + 1, content_hash(text), compress(text))
        for m in range(module_count)
        for text in [dumps({"tables": [{"name": "top", "columns": ["m"], "rows": [[m]]}]})]
    ]
    insert_rows(conn, result_details, ("id", "hash", "data"), details)
    _restart_sequences(conn)


def _restart_sequences(conn: sa.Connection) -> None:
    # rows with explicit ids leave PostgreSQL's sequences behind: the store's inserts follow
    if conn.dialect.name != "postgresql":
        return
    for table in ("config_versions", "modules", "categories", "series", "result_details", "runs"):
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )


def _series(module: int, k: int) -> int:
    return 2 * module + k + 1


def _result(
    conn: sa.Connection,
    layouts: dict[str, int],
    run_id: int,
    m: int,
    category_count: int,
    values: dict[str, float],
    metrics: bool,
) -> tuple[object, ...]:
    status = 0 if values["ratio"] > 0.1 else 2
    layout, packed = pack_metrics(values) if metrics else (None, None)
    if layout is not None and layout not in layouts:
        layouts[layout] = len(layouts) + 1
        row = (layouts[layout], content_hash(layout), layout)
        insert_rows(conn, metric_layouts, ("id", "hash", "layout"), [row])
    layout_id = None if layout is None else layouts[layout]
    cat = m % category_count + 1
    return (m + 1, run_id, cat, status, "fine", layout_id, packed, m + 1, None, 0.1, 0.01, "")


def _pack(
    conn: sa.Connection, day: int, rows: list[tuple[object, ...]], started: dict[int, int]
) -> None:
    """A day's result rows as one packed row per module."""
    by_module: dict[int, list[StoredResult]] = {}
    for row in rows:
        result = StoredResult(*row)  # type: ignore[arg-type]
        by_module.setdefault(result.module_id, []).append(result)
    packed = [(m, day, len(rs), encode(rs, started)) for m, rs in sorted(by_module.items())]
    insert_rows(conn, result_days, ("module_id", "day", "count", "data"), packed)


def _fold(buckets: Buckets, module: int, bucket: int, values: dict[str, float]) -> None:
    for k, name in enumerate(METRICS):
        value = values[name]
        agg = buckets.get((_series(module, k), bucket))
        if agg is None:
            buckets[(_series(module, k), bucket)] = [1, value, value, value]
        else:
            agg[0] += 1
            agg[1] += value
            agg[2] = min(agg[2], value)
            agg[3] = max(agg[3], value)


def _rows(
    buckets: Buckets, open_bucket: int
) -> Iterator[tuple[int, int, int, float, float, float]]:
    for (series_id, bucket), (n, total, low, high) in sorted(buckets.items()):
        if bucket < open_bucket:
            yield series_id, bucket, int(n), total, low, high


def _packed_days(hours: Buckets, open_day: int) -> list[tuple[int, int, bytes]]:
    """The hourly rows (series, day, packed hours) of the days before `open_day`."""
    days: dict[tuple[int, int], dict[int, list[float]]] = {}
    for (series_id, hour), agg in hours.items():
        day, hour_of_day = divmod(hour, HOURS_PER_DAY)
        if day < open_day:
            days.setdefault((series_id, day), {})[hour_of_day] = agg
    return [(s, d, pack_hours(h)) for (s, d), h in sorted(days.items())]


def _mark_open(conn: sa.Connection, last: datetime) -> None:
    """The last run's day is open, for both levels, as finish_run would have left it."""
    open_from = bucket_start(bucket_of(last, DAY), DAY).isoformat()
    marks = [{"key": written_key(table), "value": open_from} for table, _ in LEVELS]
    conn.execute(sa.insert(meta), marks)


def _analyse(engine: sa.Engine) -> None:
    """Statistics and visibility as autovacuum would leave them, so plans are realistic."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
