"""Packing ended days: a module's results of a day moved from their rows into one.

Done by the cleanup (hourly while `serve` runs; `happyface cleanup` otherwise), a module
batch per transaction, so a reader sees a result either in its row or packed, never both or
neither. A run stored late for a day already packed adds rows that the next packing merges
into the day's packed value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, or_, select, update

from .bulk import insert_rows
from .records import EPOCH, utc
from .result_days import StoredResult, decode, details_of, encode, micros
from .schema import modules, result_days, result_details, results, runs
from .stored import day_of

# modules packed per transaction: each moves up to a day of their rows (96 a module)
MODULES_PER_TRANSACTION = 100
# days packed per cleanup, oldest first: the first cleanup after an upgrade would otherwise
# pack all history at once while the next run waits
DAYS_PER_CLEANUP = 7


def pack_ended_days(engine: Engine, now: datetime, max_days: int = DAYS_PER_CLEANUP) -> int:
    """Pack the results of the (up to `max_days`) oldest days that ended before `now`'s day
    and still have rows; how many results moved."""
    today_starts = EPOCH + timedelta(days=day_of(utc(now)))
    with engine.connect() as conn:
        by_day = _hot_runs_by_day(conn, today_starts)
        if not by_day:  # every hour but the first of a day: nothing to pack
            return 0
        module_ids = list(conn.execute(select(modules.c.id).order_by(modules.c.id)).scalars())
    moved = 0
    for day, started in sorted(by_day.items())[:max_days]:
        for first in range(0, len(module_ids), MODULES_PER_TRANSACTION):
            batch = module_ids[first : first + MODULES_PER_TRANSACTION]
            with engine.begin() as conn:
                moved += _pack(conn, day, started, batch)
    return moved


def _hot_runs_by_day(conn: Connection, before: datetime) -> dict[int, dict[int, int]]:
    """The runs started before `before` that still have result rows, by day: their start
    (in microseconds since 1970) by id."""
    hot = select(results.c.run_id).distinct().scalar_subquery()
    stmt = select(runs.c.id, runs.c.started_at).where(
        runs.c.id.in_(hot), runs.c.started_at < before
    )
    by_day: dict[int, dict[int, int]] = defaultdict(dict)
    for run_id, started in conn.execute(stmt):
        by_day[day_of(utc(started))][run_id] = micros(utc(started))
    return by_day


def _pack(conn: Connection, day: int, started: dict[int, int], module_ids: Sequence[int]) -> int:
    """Move these modules' rows of these runs (all of day `day`; `started`: their starts by
    id) into their packed days."""
    columns = [results.c[name] for name in StoredResult._fields]
    of_batch = results.c.module_id.in_(module_ids), results.c.run_id.in_(sorted(started))
    rows = [StoredResult(*row) for row in conn.execute(select(*columns).where(*of_batch))]
    if not rows:
        return 0
    by_module: dict[int, list[StoredResult]] = defaultdict(list)
    for row in rows:
        by_module[row.module_id].append(row)
    stored = select(result_days.c.module_id, result_days.c.data).where(
        result_days.c.day == day, result_days.c.module_id.in_(sorted(by_module))
    )
    starts = dict(started)
    for module, data in conn.execute(stored):
        moving = {r.run_id for r in by_module[module]}
        packed_before, packed_starts = decode(module, data)
        by_module[module] += [r for r in packed_before if r.run_id not in moving]
        starts.update(packed_starts)
    packed = [(m, day, len(rs), encode(rs, starts)) for m, rs in sorted(by_module.items())]
    insert_rows(conn, result_days, ("module_id", "day", "count", "data"), packed, _replace(conn))
    conn.execute(delete(results).where(*of_batch))
    _mark_used(conn, details_of(rows), day)
    return len(rows)


def _replace(conn: Connection) -> str:
    q = conn.dialect.identifier_preparer.quote
    sets = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in ("count", "data"))
    return f"ON CONFLICT (module_id, day) DO UPDATE SET {sets}"


def _mark_used(conn: Connection, details_ids: set[int], day: int) -> None:
    """Record that packed results of `day` reference these details rows (see retention)."""
    if not details_ids:
        return
    used = result_details.c.used_until
    conn.execute(
        update(result_details)
        .where(result_details.c.id.in_(sorted(details_ids)), or_(used.is_(None), used < day))
        .values(used_until=day)
    )
