"""Rollup buckets as a curve reads them: the written ones stored, the open ones computed.

The newest day is not written until complete (see rollup.py). A reader asking for its
buckets folds the finer data over the same time: the open day's hours from the raw samples
of their runs, the open day from those hours. Whole buckets either way, so a written bucket
and the open one it was before hold the same runs.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping

from sqlalchemy import Connection, select

from .aggregates import Aggregate, fold_into
from .hourly_rows import series_hours
from .points import Points
from .raw import SeriesRef, raw_points
from .records import INSTANT
from .rollup import LEVELS, bucket_start


def level_points(
    conn: Connection, level: int, ref: SeriesRef, first: int, last: int, marks: Mapping[str, int]
) -> Points:
    """The points of buckets [first, last] of a level, oldest first; `marks`: written_until."""
    _, width = LEVELS[level]
    folded = sorted(_aggregates(conn, level, ref, first, last, marks).items())
    return Points(
        array("q", [bucket * width * 1_000_000 for bucket, _ in folded]),
        array("d", [total / n for _, (n, total, _, _) in folded]),
        array("d", [low for _, (_, _, low, _) in folded]),
        array("d", [high for _, (_, _, _, high) in folded]),
    )


def _aggregates(
    conn: Connection, level: int, ref: SeriesRef, first: int, last: int, marks: Mapping[str, int]
) -> dict[int, Aggregate]:
    table, width = LEVELS[level]
    mark = marks.get(table.name)
    stored_last = last if mark is None else min(last, mark - 1)
    folded = _stored(conn, level, ref, first, stored_last)
    if mark is None or last < mark:
        return folded
    open_first = max(first, mark)
    if level == 0:
        since, until = bucket_start(open_first, width), bucket_start(last + 1, width) - INSTANT
        samples = raw_points(conn, ref, since, until)
        for t, value in zip(samples.micros, samples.values, strict=True):
            fold_into(folded, t // (width * 1_000_000), 1, value, value, value)
        return folded
    ratio = width // LEVELS[level - 1][1]
    finer = _aggregates(conn, level - 1, ref, open_first * ratio, (last + 1) * ratio - 1, marks)
    for bucket, (n, total, low, high) in finer.items():
        fold_into(folded, bucket // ratio, n, total, low, high)
    return folded


def _stored(
    conn: Connection, level: int, ref: SeriesRef, first: int, last: int
) -> dict[int, Aggregate]:
    """The written buckets [first, last] of a level: hours unpacked from their days' rows."""
    if level == 0:
        return series_hours(conn, ref.id, first, last)
    table = LEVELS[level][0]
    stmt = select(table.c.bucket, table.c.n, table.c.sum, table.c.min, table.c.max).where(
        table.c.series_id == ref.id, table.c.bucket.between(first, last)
    )
    return {b: [n, total, low, high] for b, n, total, low, high in conn.execute(stmt)}
