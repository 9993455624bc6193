"""A metric's raw samples: unpacked from the results its module stored run by run."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, Select, String, select, type_coerce

from .read import RunSpan, not_of_configs, ok_run_span
from .records import Point, utc
from .schema import runs
from .stored import day_of, layouts_by_id, stored_results


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
    # SQLite's naive UTC text, made ISO 8601 with its offset by the query: parsed by one call
    parse = datetime.fromisoformat if sqlite else utc
    times = {i: parse(t) for i, t in conn.execute(_runs_of((since, until), ids, excluded, sqlite))}
    stored = stored_results(conn, {i: day_of(t) for i, t in times.items()}, [ref.module])
    layouts = layouts_by_id(conn, {r.layout_id for r in stored if r.layout_id is not None})
    fields = {i: layout.fields.get(ref.metric) for i, layout in layouts.items()}
    points = []
    for r in stored:
        field = None if r.layout_id is None else fields[r.layout_id]
        if field is not None and r.metrics is not None:  # None: not reported in that run
            value = float(field[1].unpack_from(r.metrics, field[0])[0])
            points.append(Point(times[r.run_id], value, value, value))
    points.sort()  # by time; ids follow time but for runs recorded for a past time
    return points


def _runs_of(
    times: tuple[datetime, datetime],
    ids: tuple[int, int],
    excluded: Collection[int],
    sqlite: bool,
) -> Select[tuple[int, Any]]:
    """(id, start) of the visible runs of a span, the start as text to parse in one call.

    The id bounds are values, not subqueries, so PostgreSQL's planner sees how few rows they
    hold.
    """
    # not through the column type, whose parsing of each row cost more than the rest
    started: ColumnElement[str] = type_coerce(runs.c.started_at, String)
    if sqlite:
        started = started + "+00:00"
    return select(runs.c.id, started).where(
        runs.c.state == "ok",
        runs.c.started_at.between(*times),
        runs.c.id.between(*ids),
        not_of_configs(excluded),
    )
