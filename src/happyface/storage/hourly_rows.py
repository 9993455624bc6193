"""The hourly rollups' rows: one per series and day, the day's hours packed (packed_hours.py).

Hours are keyed here as everywhere else by their number since 1970 (`bucket_of(t, HOUR)`);
a row's day is that number // 24. A day is written once, when it is complete; a run stored
later for a written day is folded into its row (read, change, write back that one row).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

from sqlalchemy import Connection, select

from .aggregates import Aggregate, fold_into
from .batches import in_batches
from .bulk import insert_rows
from .packed_hours import HOURS_PER_DAY, HourAggregates, pack_hours, unpack_hours
from .schema import rollups_hourly

COLUMNS = ("series_id", "day", "hours")
_REPLACE = "ON CONFLICT (series_id, day) DO UPDATE SET hours = excluded.hours"

DayKey = tuple[int, int]  # (series id, day)


def series_hours(conn: Connection, series_id: int, first: int, last: int) -> dict[int, Aggregate]:
    """The stored hours [first, last] of one series, by hour number."""
    if last < first:
        return {}
    table = rollups_hourly
    stmt = select(table.c.day, table.c.hours).where(
        table.c.series_id == series_id,
        table.c.day.between(first // HOURS_PER_DAY, last // HOURS_PER_DAY),
    )
    found = {}
    for day, blob in conn.execute(stmt):
        for hour, agg in unpack_hours(blob).items():
            number = day * HOURS_PER_DAY + hour
            if first <= number <= last:
                found[number] = agg
    return found


def write_days(
    conn: Connection, hours: Mapping[tuple[int, int], Aggregate], days: range
) -> dict[DayKey, HourAggregates]:
    """Write the complete `days` from `hours` ((series id, hour number) -> aggregate).

    A stored row for one of these days can only be older: converted from a version that wrote
    hour by hour, or folded from a run stored before its day was written. Each hour computed
    here replaces the stored one (it holds all of the hour's runs); a stored hour whose runs
    are gone keeps its aggregate. Returns every day written, merged, for the daily rollups.
    """
    by_day: dict[DayKey, HourAggregates] = {}
    for (series_id, hour), agg in hours.items():
        day, hour_of_day = divmod(hour, HOURS_PER_DAY)
        by_day.setdefault((series_id, day), {})[hour_of_day] = agg
    stored = _stored_days(conn, {s for s, _ in by_day}, days)
    for key, day_hours in by_day.items():
        stored.setdefault(key, {}).update(day_hours)
    _store(conn, stored)
    return stored


def fold_run(conn: Connection, hour: int, samples: Sequence[tuple[int, float]]) -> None:
    """Fold one run's samples (series id, value) into the written day holding `hour`."""
    day, hour_of_day = divmod(hour, HOURS_PER_DAY)
    days = _stored_days(conn, {s for s, _ in samples}, range(day, day + 1))
    for series_id, value in samples:
        fold_into(days.setdefault((series_id, day), {}), hour_of_day, 1, value, value, value)
    _store(conn, days)


def _stored_days(
    conn: Connection, series_ids: Collection[int], days: range
) -> dict[DayKey, HourAggregates]:
    """The stored rows of these series in `days`, unpacked (looked up by key, series first)."""
    table = rollups_hourly
    found = {}
    for batch in in_batches(sorted(series_ids)):
        stmt = select(table.c.series_id, table.c.day, table.c.hours).where(
            table.c.series_id.in_(batch), table.c.day >= days.start, table.c.day < days.stop
        )
        found.update({(s, d): unpack_hours(blob) for s, d, blob in conn.execute(stmt)})
    return found


def _store(conn: Connection, days: Mapping[DayKey, HourAggregates]) -> None:
    rows: Iterable[tuple[int, int, bytes]] = (
        (series_id, day, pack_hours(hours)) for (series_id, day), hours in sorted(days.items())
    )
    insert_rows(conn, rollups_hourly, COLUMNS, list(rows), _REPLACE)
