"""A metric's raw samples: unpacked from the results its module stored run by run."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from itertools import pairwise
from typing import NamedTuple

from sqlalchemy import Connection

from .records import Point
from .result_days import micros
from .stored import excluded_runs, hot_samples, layouts_by_id, packed_days


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
    """The metric's value in every visible run started in [since, until], oldest first.

    Read straight from the packed days (a month is thirty of them): no tuple per result.
    """
    module = [ref.module]
    days = list(packed_days(conn, since, until, module))
    hot = hot_samples(conn, since, until, module, excluded)
    used = {s[4] for s in hot if s[4] is not None}.union(*(d.layout_ids() for d in days))
    fields = {i: layout.fields.get(ref.metric) for i, layout in layouts_by_id(conn, used).items()}
    skipped = excluded_runs(conn, since, until, excluded)
    first, last = micros(since), micros(until)
    points = [p for day in days for p in day.points(first, last, skipped, fields)]
    for t, _, _, _, layout, packed in hot:
        field = None if layout is None else fields[layout]
        if field is not None and packed is not None:  # None: not reported in that run
            value = float(field[1].unpack_from(packed, field[0])[0])
            points.append(Point(t, value, value, value))
    if any(a.t > b.t for a, b in pairwise(points)):
        points.sort()  # days and rows come in time order, but for runs stored late
    return points
