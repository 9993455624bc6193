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
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, Table, select, true

from ..status import Status
from .buckets import level_points
from .points import Points
from .raw import SeriesRef, raw_points
from .read import RunSpan, config_spans, ok_run_span
from .records import STATUS_OF_CODE, utc
from .rollup import LEVELS, bucket_of, written_until
from .schema import meta, modules, series
from .stored import timed_samples

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
) -> Points:
    """A metric's points in [since, until]: raw, hourly or daily, the finest that fits."""
    since, until = utc(since), utc(until)
    found = conn.execute(_found(module_id, metric, since, until, max_points + 1)).first()
    if found is None or until < since:
        return Points.of(())
    ref = SeriesRef(found.id, found.module_id, metric)
    span = RunSpan(found.total, found.first_id, found.last_id)
    text = found.samples_from  # None: complete since the first run
    samples_from = None if text is None else datetime.fromisoformat(text)
    if span.total <= max_points and _covers(samples_from, since):
        if span.ids is None:  # no run in the span: nothing to read
            return Points.of(())
        return raw_points(conn, ref, since, until, excluded, span.ids)
    complete_from = horizons(conn)
    spans = config_spans(conn, excluded)
    marks = written_until(conn)
    chosen = len(LEVELS) - 1  # when nothing fits: the coarsest there is
    for level, (table, width) in enumerate(LEVELS):
        buckets = bucket_of(until, width) - bucket_of(since, width) + 1
        if buckets <= max_points and _covers(complete_from.get(level_key(table)), since):
            chosen = level
            break
    width = LEVELS[chosen][1]
    first, last = bucket_of(since, width), bucket_of(until, width)
    return _outside(level_points(conn, chosen, ref, first, last, marks), width, spans)


def _found(
    module_id: str, metric: str, since: datetime, until: datetime, limit: int
) -> Select[Any]:
    """The series' ids, from when raw samples are complete (None: from the first run), and
    the count (up to `limit`) and id range of the visible runs in [since, until]: all that
    decides between raw samples and rollups, in one round trip."""
    span = ok_run_span(since, until, limit).subquery()
    samples_from = select(meta.c.value).where(meta.c.key == SAMPLES_FROM).scalar_subquery()
    return (
        select(series.c.id, series.c.module_id, samples_from.label("samples_from"), *span.c)
        .join(modules, modules.c.id == series.c.module_id)
        .join(span, true())
        .where(modules.c.name == module_id, series.c.name == metric)
    )


def _outside(points: Points, width: int, spans: list[tuple[datetime, datetime]]) -> Points:
    """The buckets (`width` seconds long) that overlap none of the `spans`."""
    if not spans:
        return points
    length = timedelta(seconds=width)
    return Points.of(p for p in points if all(p.t + length <= a or p.t > b for a, b in spans))


def _covers(complete_from: datetime | None, since: datetime) -> bool:
    return complete_from is None or since >= complete_from


def status_series(
    conn: Connection,
    module_id: str,
    since: datetime,
    until: datetime,
    excluded: Collection[int] = (),
) -> list[tuple[datetime, Status]]:
    """A module's status in every visible run started in [since, until], oldest first."""
    ids = conn.execute(select(modules.c.id).where(modules.c.name == module_id)).scalars().all()
    if not ids:
        return []
    samples = timed_samples(conn, utc(since), utc(until), ids, excluded)
    return [(t, STATUS_OF_CODE[status]) for t, _, _, status, _, _ in samples]
