"""A metric's raw samples: unpacked from the results rows its module wrote run by run."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from itertools import pairwise
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, Select, String, select, type_coerce

from .packing import Layout, parse_layout
from .read import RunSpan, not_of_configs, ok_run_span
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
    span: RunSpan | None = None,
) -> list[Point]:
    """The metric's value in every visible run started in [since, until], oldest first.

    `span`: those runs' `ok_run_span`, when the caller has it already.
    """
    span = span or ok_run_span(conn, since, until)
    if span.first_id is None or span.last_id is None:
        return []
    sqlite = conn.dialect.name == "sqlite"
    ids = span.first_id, span.last_id
    rows = conn.execute(_rows_of(ref.module, (since, until), ids, excluded, sqlite)).all()
    # SQLite's naive UTC text, made ISO 8601 with its offset by the query: parsed by one call
    parse = datetime.fromisoformat if sqlite else utc
    layouts = layouts_by_id(conn, {layout for _, layout, _ in rows})
    fields = {i: layout.fields.get(ref.metric) for i, layout in layouts.items()}
    points = []
    for started, layout, packed in rows:
        field = fields[layout]
        if field is not None:  # None: the module did not report this metric in that run
            value = float(field[1].unpack_from(packed, field[0])[0])
            points.append(Point(parse(started), value, value, value))
    if any(a.t > b.t for a, b in pairwise(points)):
        points.sort()  # ids follow time but for runs recorded for a past time
    return points


def _rows_of(
    module: int,
    times: tuple[datetime, datetime],
    ids: tuple[int, int],
    excluded: Collection[int],
    sqlite: bool,
) -> Select[tuple[Any, int, bytes]]:
    """(run start, layout id, packed metrics) of a module's results in visible runs of a span.

    The module's rows are one primary-key range, from the first to the last run of the span,
    each joined to its run by the run's key: the database does per row what Python did. The
    bounds are values, not subqueries, so PostgreSQL's planner sees how few rows they hold.
    """
    in_range = (runs.c.state == "ok", runs.c.started_at.between(*times))
    # not through the column type, whose parsing of each row cost more than the rest
    started: ColumnElement[str] = type_coerce(runs.c.started_at, String)
    if sqlite:
        started = started + "+00:00"
    return (
        select(started, results.c.layout_id, results.c.metrics)
        .join(runs, runs.c.id == results.c.run_id)
        .where(results.c.module_id == module, results.c.run_id.between(*ids))
        .where(*in_range, results.c.layout_id.is_not(None), not_of_configs(excluded))
    )


def layouts_by_id(conn: Connection, ids: Collection[int]) -> dict[int, Layout]:
    """The parsed metric layouts of these ids."""
    if not ids:
        return {}
    stmt = select(metric_layouts.c.id, metric_layouts.c.layout).where(
        metric_layouts.c.id.in_(sorted(ids))
    )
    return {i: parse_layout(text) for i, text in conn.execute(stmt)}
