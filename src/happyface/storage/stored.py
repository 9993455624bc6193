"""Reading results wherever they are kept: a row each, or packed by (module, day).

The current day's results are rows of `results`, as are those of runs stored late for a day
already packed until the next packing; earlier days are packed (result_days.py). A reader
names the runs it wants with each run's day and gets their results from both, unordered.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from .batches import in_batches
from .packing import Layout, parse_layout
from .result_days import StoredResult, decode
from .schema import metric_layouts, result_days, results

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_HOT_COLUMNS = tuple(results.c[name] for name in StoredResult._fields)


def day_of(t: datetime) -> int:
    """The day (since 1970-01-01 UTC) of an aware time: the day its run's results pack into."""
    return (t - EPOCH).days


def stored_results(
    conn: Connection, run_days: Mapping[int, int], module_ids: Collection[int] | None = None
) -> list[StoredResult]:
    """The results of these runs (run id -> its day) of `module_ids` (None: of every module)."""
    if not run_days:
        return []
    return [r for r in _all_of(conn, run_days, module_ids) if r.run_id in run_days]


def _all_of(
    conn: Connection, run_days: Mapping[int, int], module_ids: Collection[int] | None
) -> Iterator[StoredResult]:
    """The rows of the runs' id range and the packed days, of these modules (or of all)."""
    days = sorted(set(run_days.values()))
    first, last = min(run_days), max(run_days)
    hot = select(*_HOT_COLUMNS).where(results.c.run_id.between(first, last))
    # a long span's days as a range: an IN list of hundreds costs more than the gaps it skips
    in_days = (
        result_days.c.day.in_(days)
        if len(days) <= 64
        else result_days.c.day.between(days[0], days[-1])
    )
    packed = select(result_days.c.module_id, result_days.c.data).where(in_days)
    if module_ids is None:
        yield from (StoredResult(*row) for row in conn.execute(hot))
        for module, data in conn.execute(packed):
            yield from decode(module, data)
        return
    for batch in in_batches(sorted(module_ids)):
        rows = conn.execute(hot.where(results.c.module_id.in_(batch)))
        yield from (StoredResult(*row) for row in rows)
        for module, data in conn.execute(packed.where(result_days.c.module_id.in_(batch))):
            yield from decode(module, data)


def layouts_by_id(conn: Connection, ids: Collection[int]) -> dict[int, Layout]:
    """The parsed metric layouts of these ids."""
    if not ids:
        return {}
    stmt = select(metric_layouts.c.id, metric_layouts.c.layout).where(
        metric_layouts.c.id.in_(sorted(ids))
    )
    return {i: parse_layout(text) for i, text in conn.execute(stmt)}
