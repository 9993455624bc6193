"""A metric's raw samples: unpacked from the results rows its module wrote run by run."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import Connection, String, select, type_coerce

from .packing import Layout, parse_layout
from .read import not_of_configs
from .records import Point, utc
from .schema import metric_layouts, results, runs


class SeriesRef(NamedTuple):
    """One metric of one module, as the rollups (`id`) and the results (`module`) key it."""

    id: int
    module: int
    metric: str


def raw_points(
    conn: Connection,
    ref: SeriesRef,
    since: datetime,
    until: datetime,
    excluded: Collection[int] = (),
) -> list[Point]:
    """The metric's value in every visible run started in [since, until], oldest first."""
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
        results.c.module_id == ref.module, results.c.run_id.between(min(times), max(times))
    )
    rows = conn.execute(stmt).all()
    layouts = layouts_by_id(conn, {layout for _, layout, _ in rows if layout is not None})
    points = []
    for run_id, layout, packed in rows:
        t = times.get(run_id)
        if t is None or layout is None:  # a failed run's id, or a result without metrics
            continue
        value = layouts[layout].value_of(ref.metric, packed)
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
