"""Hourly and daily rollups of every metric, each day written once, when it is complete.

Folding every run into its hour and day (an upsert of every series, twice) was the largest
part of storing a run, and on PostgreSQL each upsert left a dead row behind. A day is now
written once a run of a later day is stored: its hours from the raw samples packed in the
results, one row per series and day (hourly_rows.py), and its daily row from those hours.
Until then the day is *open*, and readers compute its hours from the raw samples (see
buckets.py), so a curve shows the same points either way.

Writing a day takes half a second at 200 modules, thirty times a run's own work, so it is
not done in the run's transaction: the run only says that days are due (`record_run`), and
the caller writes them in a transaction of their own right after (`complete_before`). Until
that commits the marks stay where they were, so a process that dies in between loses
nothing: the next run says the days are due again, and the cleanup writes them anyway.

Retention first writes the days whose time has passed though no run began since.
`meta` records for each level where its written buckets end (`written_key`): the start of
the open day for both. A run recorded for a day already written (a backfill, a run stored
late) is folded into the stored rows. Retention keeps what an open day is computed from.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Column, Connection, Table, select

from . import hourly_rows
from .aggregates import Aggregate, fold_into
from .batches import in_batches
from .bulk import insert_rows
from .packed_hours import HourAggregates
from .records import EPOCH, INSTANT
from .schema import dialect_insert, meta, rollups_daily, rollups_hourly, series
from .stored import layouts_by_id, timed_samples

HOUR = 3600
DAY = 86400

# (table, bucket width in seconds), finest first; each width a multiple of the one before
LEVELS: tuple[tuple[Table, int], ...] = ((rollups_hourly, HOUR), (rollups_daily, DAY))

DAILY_COLUMNS = ("series_id", "bucket", "n", "sum", "min", "max")


def bucket_of(t: datetime, width: int) -> int:
    """The number of the bucket of `width` seconds that holds `t`, counted from 1970."""
    return int((t - EPOCH).total_seconds() // width)


def bucket_start(bucket: int, width: int) -> datetime:
    """When bucket number `bucket` of `width` seconds begins."""
    return EPOCH + timedelta(seconds=bucket * width)


def day_column(table: Table) -> Column[int]:
    """The column holding a level's day: both levels' rows are keyed by (series, day)."""
    return table.c.day if table is rollups_hourly else table.c.bucket


def written_key(table: Table) -> str:
    """The `meta` key holding when the first bucket of a level not yet written begins."""
    return f"{table.name}_written_until"


def written_until(conn: Connection, moving: bool = False) -> dict[str, int]:
    """For each level (by table name), the first bucket not written yet; absent: all are.

    `moving`: read by a transaction that may write days or fold a run by them, which keeps
    their rows locked until it ends. On PostgreSQL a run's transaction and the cleanup's (or
    the runner's write of the ended days) would otherwise decide on the same marks at once:
    the cleanup writing a day without the run of that day being stored, which then is never
    folded into it, or the runner putting the marks back behind a later cleanup's (that day
    read as open again). SQLite's writers never overlap (they take the lock at BEGIN).
    """
    keys = {written_key(table): (table, width) for table, width in LEVELS}
    stmt = select(meta.c.key, meta.c.value).where(meta.c.key.in_(sorted(keys)))
    if moving:  # in key order, the same in every transaction: no deadlock between two
        stmt = stmt.order_by(meta.c.key).with_for_update()
    rows = conn.execute(stmt)
    marks = {}
    for key, value in rows:
        table, width = keys[key]
        marks[table.name] = bucket_of(datetime.fromisoformat(value), width)
    return marks


def open_day(marks: Mapping[str, int]) -> int | None:
    """The first day not written, from `written_until`; None before the first run marks it.

    Both levels are written together, up to the same day; a mark an older version left in
    the middle of a day counts from that day's start (what it had written of the day is
    kept, see hourly_rows.write_days).
    """
    if any(table.name not in marks for table, _ in LEVELS):
        return None
    return min(marks[table.name] * width // DAY for table, width in LEVELS)


def record_run(conn: Connection, t: datetime, samples: Sequence[tuple[int, float]]) -> bool:
    """Bring both levels up to a run started at `t` with `samples` (series id, value), but
    for the days it completes: True when there are such days, for `complete_before(t)`.

    Folds the samples of a run whose day is already written into it. The first run (also
    the first after a store lost its marks) only marks its own day as the first open one.
    """
    day, first_open = bucket_of(t, DAY), open_day(written_until(conn, moving=True))
    if first_open is None:
        _advance(conn, None, day)
    elif day < first_open:
        _fold(conn, t, samples)
    return first_open is not None and day > first_open


def complete_before(conn: Connection, t: datetime) -> None:
    """Write the days that ended before `t`: after a run that `record_run` said completes
    days, and as retention's first step (what is complete is rolled up before the raw
    samples may go, also when no run has begun since)."""
    day, first_open = bucket_of(t, DAY), open_day(written_until(conn, moving=True))
    if first_open is not None and day > first_open:
        _advance(conn, first_open, day)


def _advance(conn: Connection, first_open: int | None, day: int) -> None:
    """Write the days from `first_open` to before `day`, and mark `day` open."""
    if first_open is not None:
        _write(conn, range(first_open, day))
    for table, _ in LEVELS:
        _set_mark(conn, table, bucket_start(day, DAY))


def _write(conn: Connection, days: range) -> None:
    """Write `days`, now complete: their hours from the raw samples, each day from its hours."""
    per_day = DAY // HOUR
    hours = _from_raw(conn, days.start * per_day, days.stop * per_day, HOUR)
    written = hourly_rows.write_days(conn, hours, days)
    rows = [
        (series_id, day, int(n), total, low, high)
        for (series_id, day), (n, total, low, high) in sorted(_days_of(written).items())
    ]
    insert_rows(conn, rollups_daily, DAILY_COLUMNS, rows, _on_conflict(conn, replace=True))


def _days_of(written: Mapping[tuple[int, int], HourAggregates]) -> dict[tuple[int, int], Aggregate]:
    """Each (series, day)'s aggregate, folded from its hours."""
    days: dict[tuple[int, int], Aggregate] = {}
    for key, hours in written.items():
        for n, total, low, high in hours.values():
            fold_into(days, key, n, total, low, high)
    return days


def _from_raw(
    conn: Connection, first: int, end: int, width: int
) -> dict[tuple[int, int], Aggregate]:
    """The buckets [first, end) of `width` seconds, by (series id, bucket), folded from the
    runs' raw samples."""
    since, before = bucket_start(first, width), bucket_start(end, width)
    # a bucket's packed values of one module and layout, unpacked together below
    packed_in: dict[tuple[int, int, int], list[bytes]] = defaultdict(list)
    for t, _, module, _, layout, packed in timed_samples(conn, since, before - INSTANT):
        if layout is not None and packed is not None:
            packed_in[(module, layout, bucket_of(t, width))].append(packed)
    folded = _fold_packed(conn, packed_in)
    ids = _series_ids(conn, {module for module, _, _ in folded})
    return {(ids[(module, name)], bucket): agg for (module, name, bucket), agg in folded.items()}


def _fold_packed(
    conn: Connection, packed_in: Mapping[tuple[int, int, int], list[bytes]]
) -> dict[tuple[int, str, int], Aggregate]:
    """(module, metric, bucket) -> aggregate, from each (module, layout, bucket)'s values.

    A day of a large site's runs is a hundred thousand values: each group's are unpacked by
    one C call and aggregated a column at a time by C builtins, not value by value.
    """
    layouts = layouts_by_id(conn, {layout for _, layout, _ in packed_in})
    folded: dict[tuple[int, str, int], Aggregate] = {}
    for (module, layout_id, bucket), blobs in packed_in.items():
        layout = layouts[layout_id]
        columns = zip(*layout.unpacker.iter_unpack(b"".join(blobs)), strict=True)
        for name, column in zip(layout.names, columns, strict=True):
            key = (module, name, bucket)
            low, high, total = float(min(column)), float(max(column)), float(sum(column))
            if key in folded:  # the module changed its layout within the bucket
                fold_into(folded, key, len(column), total, low, high)
            else:
                folded[key] = [len(column), total, low, high]
    return folded


def _series_ids(conn: Connection, module_ids: Collection[int]) -> dict[tuple[int, str], int]:
    """The series of these modules by (module id, metric): each run stored its own."""
    found = {}
    for batch in in_batches(sorted(module_ids)):
        stmt = select(series.c.module_id, series.c.name, series.c.id)
        found.update(
            {(m, n): i for m, n, i in conn.execute(stmt.where(series.c.module_id.in_(batch)))}
        )
    return found


def _fold(conn: Connection, t: datetime, samples: Sequence[tuple[int, float]]) -> None:
    """Fold one run's samples into its day, already written: its hour and its daily row."""
    hourly_rows.fold_run(conn, bucket_of(t, HOUR), samples)
    day = bucket_of(t, DAY)
    rows = [(s, day, 1, v, v, v) for s, v in samples]
    insert_rows(conn, rollups_daily, DAILY_COLUMNS, rows, _on_conflict(conn, replace=False))


def _set_mark(conn: Connection, table: Table, start: datetime) -> None:
    stmt = dialect_insert(conn, meta).values(key=written_key(table), value=start.isoformat())
    conn.execute(
        stmt.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": start.isoformat()})
    )


def _on_conflict(conn: Connection, replace: bool) -> str:
    """The clause that folds a new daily row into the stored one, or replaces it.

    Replacing: a day written when complete holds all its runs; a stored row for it can only
    be a partial one an older version of the store folded before the upgrade.
    """
    table = rollups_daily
    q = conn.dialect.identifier_preparer.quote
    old = f"{q(table.name)}."
    n, total, low, high = (q(c) for c in ("n", "sum", "min", "max"))
    if replace:
        sets = ", ".join(f"{c} = excluded.{c}" for c in (n, total, low, high))
        return f"ON CONFLICT (series_id, bucket) DO UPDATE SET {sets}"
    # SQLite's two-argument min()/max() are scalar, PostgreSQL spells them least()/greatest()
    lower, upper = ("least", "greatest") if conn.dialect.name == "postgresql" else ("min", "max")
    return (
        f"ON CONFLICT (series_id, bucket) DO UPDATE SET "
        f"{n} = {old}{n} + excluded.{n}, {total} = {old}{total} + excluded.{total}, "
        f"{low} = {lower}({old}{low}, excluded.{low}), "
        f"{high} = {upper}({old}{high}, excluded.{high})"
    )
