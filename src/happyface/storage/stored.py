"""Reading results wherever they are kept: a row each, or packed by (module, day).

The current day's results are rows of `results`, as are those of runs stored late for a day
already packed until the next packing; earlier days are packed (result_days.py). A reader
names the runs it wants with each run's day and gets their results from both, unordered.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, or_, select

from .batches import in_batches
from .packing import Layout, parse_layout
from .records import EPOCH, utc
from .result_days import PackedDay, StoredResult, TimedSample, micros
from .schema import metric_layouts, result_days, results, runs

_HOT_COLUMNS = tuple(results.c[name] for name in StoredResult._fields)


def day_of(t: datetime) -> int:
    """The day (since 1970-01-01 UTC) of an aware time: the day its run's results pack into."""
    return (t - EPOCH).days


def stored_results(
    conn: Connection, run_days: Mapping[int, int], module_ids: Collection[int] | None = None
) -> list[StoredResult]:
    """The results of these runs (run id -> its day) of `module_ids` (None: of every module)."""
    found: list[StoredResult] = []
    if not run_days:
        return found
    days = sorted(set(run_days.values()))
    for batch in _batches(module_ids):
        rows = conn.execute(_hot(_HOT_COLUMNS, run_days, batch))
        found += [StoredResult(*row) for row in rows if row.run_id in run_days]
        for day in _packed(conn, days, batch):
            found += [day.result(i) for i in day.indices(run_days)]
    return found


def timed_samples(
    conn: Connection,
    since: datetime,
    until: datetime,
    module_ids: Collection[int] | None = None,
    excluded: Collection[int] = (),
) -> list[TimedSample]:
    """(start, run, module, status, layout id, packed metrics) of the results of `module_ids`
    (None: of every module) in visible runs started in [since, until], oldest first; runs
    of the `excluded` configuration versions left out.

    A packed day holds its runs' starts, so a curve over weeks reads no run rows but the
    current day's: a packed result's run is visible (only finished runs store results, and
    retention takes a deleted run's results out of its day).
    """
    skipped = excluded_runs(conn, since, until, excluded)
    first, last = micros(since), micros(until)
    found: list[TimedSample] = []
    for batch in _batches(module_ids):
        found += hot_samples(conn, since, until, batch, excluded)
        for day in packed_days(conn, since, until, batch):
            found += day.timed_samples(first, last, skipped)
    found.sort(key=itemgetter(0, 1))  # days come in order, today's rows last: little to do
    return found


def hot_samples(
    conn: Connection,
    since: datetime,
    until: datetime,
    module_ids: Sequence[int] | None,
    excluded: Collection[int] = (),
    run_ids: tuple[int, int] | None = None,
) -> list[TimedSample]:
    """`timed_samples` of the results still in rows (the current day's, and late ones);
    `run_ids`, when known: the first and last id of the visible runs in [since, until].

    Of given modules: their rows first (a key range each, a day's worth, or none of a span
    that ended before the current day when `run_ids` says so), then those rows' runs;
    joined the other way round, the database would walk every run of a month's curve to
    find the few with rows.
    """
    visible = [runs.c.state == "ok", runs.c.started_at.between(since, until)]
    if excluded:
        visible.append(_of_configs(excluded))
    columns = (results.c.run_id, results.c.module_id, results.c.status, results.c.layout_id)
    if module_ids is None:
        stmt = select(runs.c.started_at, *columns, results.c.metrics).join(
            runs, runs.c.id == results.c.run_id
        )
        return [(utc(t), *rest) for t, *rest in conn.execute(stmt.where(*visible))]
    of_modules = select(*columns, results.c.metrics).where(results.c.module_id.in_(module_ids))
    if run_ids is not None:
        of_modules = of_modules.where(results.c.run_id.between(*run_ids))
    rows = conn.execute(of_modules).all()
    if not rows:
        return []
    # the rows' runs by their id range, not a list of ids: one statement the database has
    # seen before, for runs that are mostly the current day's, in a row
    ids = [row.run_id for row in rows]
    of_rows = select(runs.c.id, runs.c.started_at).where(
        runs.c.id.between(min(ids), max(ids)), *visible
    )
    started = {run_id: utc(t) for run_id, t in conn.execute(of_rows)}
    return [(started[row[0]], *row) for row in rows if row[0] in started]


def excluded_runs(
    conn: Connection, since: datetime, until: datetime, excluded: Collection[int]
) -> set[int]:
    """The runs started in [since, until] with one of the `excluded` configuration versions."""
    if not excluded:
        return set()
    stmt = select(runs.c.id).where(runs.c.started_at.between(since, until), ~_of_configs(excluded))
    return set(conn.execute(stmt).scalars())


def _of_configs(excluded: Collection[int]) -> ColumnElement[bool]:
    return or_(runs.c.config_id.is_(None), runs.c.config_id.not_in(sorted(excluded)))


def packed_days(
    conn: Connection, since: datetime, until: datetime, module_ids: Sequence[int] | None
) -> Iterator[PackedDay]:
    """The packed days that hold runs started in [since, until], of these modules (None:
    of all), each module's in time order."""
    return _packed(conn, range(day_of(since), day_of(until) + 1), module_ids)


def _batches(module_ids: Collection[int] | None) -> list[Sequence[int] | None]:
    return [None] if module_ids is None else list(in_batches(sorted(module_ids)))


def _hot(
    columns: Sequence[ColumnElement[Any]],
    run_ids: Collection[int],
    module_ids: Sequence[int] | None,
) -> Select[Any]:
    """The rows of the runs' id range, of these modules (or of all)."""
    stmt = select(*columns).where(results.c.run_id.between(min(run_ids), max(run_ids)))
    if module_ids is not None:
        stmt = stmt.where(results.c.module_id.in_(module_ids))
    return stmt


def _packed(
    conn: Connection, days: Sequence[int], module_ids: Sequence[int] | None
) -> Iterator[PackedDay]:
    """The packed days of these days (ascending), of these modules (or of all)."""
    if not days:
        return
    # a long span's days as a range: an IN list of hundreds costs more than the gaps it skips;
    # days without gaps (a curve's) too: one statement for every span, prepared once
    in_days = (
        result_days.c.day.in_(list(days))
        if len(days) <= 64 and days[-1] - days[0] + 1 > len(days)
        else result_days.c.day.between(days[0], days[-1])
    )
    stmt = select(result_days.c.module_id, result_days.c.data).where(in_days)
    if module_ids is not None:
        stmt = stmt.where(result_days.c.module_id.in_(module_ids))
    for module, data in conn.execute(stmt):
        yield PackedDay(module, data)


def layouts_by_id(conn: Connection, ids: Collection[int]) -> dict[int, Layout]:
    """The parsed metric layouts of these ids."""
    if not ids:
        return {}
    stmt = select(metric_layouts.c.id, metric_layouts.c.layout).where(
        metric_layouts.c.id.in_(sorted(ids))
    )
    return {i: parse_layout(text) for i, text in conn.execute(stmt)}
