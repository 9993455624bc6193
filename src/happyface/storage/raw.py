"""A metric's raw samples: unpacked from the results its module stored run by run."""

from __future__ import annotations

from array import array
from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection

from .points import Points
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
    run_ids: tuple[int, int] | None = None,
) -> Points:
    """The metric's value in every visible run started in [since, until], oldest first;
    `run_ids`, when known: the first and last id of those runs.

    Read straight from the packed days (a month is thirty of them) into columns: no tuple
    per result.
    """
    module = [ref.module]
    days = list(packed_days(conn, since, until, module))
    hot = hot_samples(conn, since, until, module, excluded, run_ids)
    used = {s[4] for s in hot if s[4] is not None}.union(*(d.layout_ids() for d in days))
    fields = {i: layout.fields.get(ref.metric) for i, layout in layouts_by_id(conn, used).items()}
    skipped = excluded_runs(conn, since, until, excluded)
    first, last = micros(since), micros(until)
    columns = times, values = array("q"), array("d")
    for day in days:
        day.metric(first, last, skipped, fields, columns)
    for t, _, _, _, layout, packed in hot:
        field = None if layout is None else fields[layout]
        if field is not None and packed is not None:  # None: not reported in that run
            times.append(micros(t))
            values.append(field[1].unpack_from(packed, field[0])[0])
    if list(times) != sorted(times):  # days and rows come in time order, but for runs stored late
        return _sorted(times, values)
    return Points(times, values)


def _sorted(times: array[int], values: array[float]) -> Points:
    order = sorted(range(len(times)), key=lambda i: (times[i], values[i]))
    return Points(array("q", [times[i] for i in order]), array("d", [values[i] for i in order]))
