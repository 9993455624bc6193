"""Curves over time: a metric at the finest resolution that fits, and a module's statuses.

A metric is read from raw samples (packed in the results, see packing.py) when they fit under
`max_points`, else from hourly rollups, else from daily ones. Levels that retention has cut
are not offered for times before the cut: the `meta` table records from when on each level is
complete (raw samples go with their runs).

Runs of `excluded` configuration versions can be left out: their samples are skipped, and
so is every rollup bucket that overlaps the time from the first to the last such run (a
rollup cannot be taken apart by run, so it is left out whole).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, String, Table, select, type_coerce

from ..status import Status
from .packing import Layout, parse_layout
from .read import config_spans, count_ok_runs, not_of_configs
from .records import STATUS_OF_CODE, Point, utc
from .rollup import LEVELS, bucket_of, bucket_start
from .schema import meta, metric_layouts, modules, results, runs, series

SAMPLES_FROM = "samples_from"
Span = tuple[datetime, datetime]


def level_key(table: Table) -> str:
    """The `meta` key recording from when on a rollup level is complete."""
    return f"{table.name}_from"


def horizons(conn: Connection) -> dict[str, datetime]:
    """From when on each level of metric history is complete, for the levels cleaned so far."""
    rows = conn.execute(select(meta.c.key, meta.c.value).where(meta.c.key.like("%_from")))
    return {key: datetime.fromisoformat(value) for key, value in rows}


def metric_names(conn: Connection, module_id: str) -> list[str]:
    """The names of the metrics a module has recorded, sorted."""
    stmt = (
        select(series.c.name)
        .join(modules, modules.c.id == series.c.module_id)
        .where(modules.c.name == module_id)
        .order_by(series.c.name)
    )
    return list(conn.execute(stmt).scalars())


def metric_series(
    conn: Connection,
    module_id: str,
    metric: str,
    since: datetime,
    until: datetime,
    max_points: int,
    excluded: Collection[int] = (),
) -> list[Point]:
    """A metric's points in [since, until]: raw, hourly or daily, the finest that fits."""
    since, until = utc(since), utc(until)
    find = (
        select(series.c.id, series.c.module_id)
        .join(modules, modules.c.id == series.c.module_id)
        .where(modules.c.name == module_id, series.c.name == metric)
    )
    found = conn.execute(find).first()
    if found is None or until < since:
        return []
    series_id, module = found
    complete_from = horizons(conn)
    if _covers(complete_from.get(SAMPLES_FROM), since) and (
        count_ok_runs(conn, since, until) <= max_points
    ):
        return _raw(conn, module, metric, since, until, excluded)
    spans = config_spans(conn, excluded)
    for table, width in LEVELS:
        buckets = bucket_of(until, width) - bucket_of(since, width) + 1
        if buckets <= max_points and _covers(complete_from.get(level_key(table)), since):
            return _outside(_rollup(conn, table, width, series_id, since, until), width, spans)
    table, width = LEVELS[-1]
    return _outside(_rollup(conn, table, width, series_id, since, until), width, spans)


def _outside(
    points: list[Point], width: int, spans: list[tuple[datetime, datetime]]
) -> list[Point]:
    """The buckets (`width` seconds long) that overlap none of the `spans`."""
    if not spans:
        return points
    length = timedelta(seconds=width)
    return [p for p in points if all(p.t + length <= a or p.t > b for a, b in spans)]


def _covers(complete_from: datetime | None, since: datetime) -> bool:
    return complete_from is None or since >= complete_from


def _raw(
    conn: Connection,
    module: int,
    metric: str,
    since: datetime,
    until: datetime,
    excluded: Collection[int],
) -> list[Point]:
    # Two range reads, no join: the runs' times from their index, then the module's rows as
    # one primary-key range (a join would look up a run, and a layout, for every row).
    in_range = runs.c.state == "ok", runs.c.started_at.between(since, until)
    # the times as the driver gives them: parsing 2,880 of them one by one through the column
    # type cost more than the rest of the curve
    started = type_coerce(runs.c.started_at, String).label("started_at")
    of_runs = select(runs.c.id, started).where(*in_range, not_of_configs(excluded))
    times = {run_id: _as_utc(t) for run_id, t in conn.execute(of_runs)}
    if not times:
        return []
    stmt = select(results.c.run_id, results.c.layout_id, results.c.metrics).where(
        results.c.module_id == module, results.c.run_id.between(min(times), max(times))
    )
    rows = conn.execute(stmt).all()
    layouts = layouts_by_id(conn, {layout for _, layout, _ in rows if layout is not None})
    points = []
    for run_id, layout, packed in rows:
        t = times.get(run_id)
        if t is None or layout is None:  # a failed run's id, or a result without metrics
            continue
        value = layouts[layout].value_of(metric, packed)
        if value is not None:  # None: the module did not report this metric in that run
            points.append(Point(t, value, value, value))
    points.sort(key=lambda p: p.t)  # ids follow time but for runs recorded for a past time
    return points


def _as_utc(stored: str | datetime) -> datetime:
    """A run's start as stored: SQLite's naive UTC text, or the driver's datetime."""
    if isinstance(stored, str):
        return datetime.fromisoformat(stored).replace(tzinfo=UTC)
    return utc(stored)


def layouts_by_id(conn: Connection, ids: Collection[int]) -> dict[int, Layout]:
    """The parsed metric layouts of these ids."""
    if not ids:
        return {}
    stmt = select(metric_layouts.c.id, metric_layouts.c.layout).where(
        metric_layouts.c.id.in_(sorted(ids))
    )
    return {i: parse_layout(text) for i, text in conn.execute(stmt)}


def _rollup(
    conn: Connection, table: Table, width: int, series_id: int, since: datetime, until: datetime
) -> list[Point]:
    stmt = (
        select(table.c.bucket, table.c.n, table.c.sum, table.c.min, table.c.max)
        .where(
            table.c.series_id == series_id,
            table.c.bucket.between(bucket_of(since, width), bucket_of(until, width)),
        )
        .order_by(table.c.bucket)
    )
    return [
        Point(bucket_start(bucket, width), total / n, low, high)
        for bucket, n, total, low, high in conn.execute(stmt)
    ]


def status_series(
    conn: Connection,
    module_id: str,
    since: datetime,
    until: datetime,
    excluded: Collection[int] = (),
) -> list[tuple[datetime, Status]]:
    """A module's status in every visible run started in [since, until], oldest first."""
    stmt = (
        select(runs.c.started_at, results.c.status)
        .join(runs, runs.c.id == results.c.run_id)
        .join(modules, modules.c.id == results.c.module_id)
        .where(
            modules.c.name == module_id,
            runs.c.state == "ok",
            runs.c.started_at.between(utc(since), utc(until)),
            not_of_configs(excluded),
        )
        .order_by(runs.c.started_at)
    )
    return [(utc(t), STATUS_OF_CODE[code]) for t, code in conn.execute(stmt)]
