"""Hourly and daily rollups of every metric, each bucket written once, when it is complete.

Folding every run into its hour and day (an upsert of every series, twice) was the largest
part of storing a run, and on PostgreSQL each upsert left a dead row behind. A bucket is now
written when the first run after it begins: hours from the raw samples packed in the results,
days from the hours. Until then it is *open*, and readers compute it from the finer data
(see buckets.py), so a curve shows the same points either way.

Retention first writes the buckets whose time has passed though no run began since.
`meta` records for each level where its written buckets end (`written_key`). A run recorded
for a time whose bucket is already written (a backfill, a run stored late) is folded into the
stored bucket as before. Retention keeps what an open bucket is computed from.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import Connection, Table, select, text

from .batches import in_batches
from .bulk import insert_rows
from .schema import dialect_insert, meta, rollups_daily, rollups_hourly, series
from .stored import layouts_by_id, timed_samples

HOUR = 3600
DAY = 86400
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INSTANT = timedelta(microseconds=1)

# (table, bucket width in seconds), finest first; each width a multiple of the one before
LEVELS: tuple[tuple[Table, int], ...] = ((rollups_hourly, HOUR), (rollups_daily, DAY))

COLUMNS = ("series_id", "bucket", "n", "sum", "min", "max")

Aggregate = list[float]  # [n, sum, min, max]
K = TypeVar("K")


def bucket_of(t: datetime, width: int) -> int:
    """The number of the bucket of `width` seconds that holds `t`, counted from 1970."""
    return int((t - EPOCH).total_seconds() // width)


def bucket_start(bucket: int, width: int) -> datetime:
    """When bucket number `bucket` of `width` seconds begins."""
    return EPOCH + timedelta(seconds=bucket * width)


def written_key(table: Table) -> str:
    """The `meta` key holding when the first bucket of a level not yet written begins."""
    return f"{table.name}_written_until"


def written_until(conn: Connection) -> dict[str, int]:
    """For each level (by table name), the first bucket not written yet; absent: all are."""
    keys = {written_key(table): (table, width) for table, width in LEVELS}
    rows = conn.execute(select(meta.c.key, meta.c.value).where(meta.c.key.in_(sorted(keys))))
    marks = {}
    for key, value in rows:
        table, width = keys[key]
        marks[table.name] = bucket_of(datetime.fromisoformat(value), width)
    return marks


def record_run(conn: Connection, t: datetime, samples: Sequence[tuple[int, float]]) -> None:
    """Bring both levels up to a run started at `t` with `samples` (series id, value).

    Writes the buckets the run completes, or folds the samples of a run whose bucket is
    already written into it. The first run (also the first after the upgrade to written-once
    buckets) only marks its own bucket as the first open one.
    """
    marks = written_until(conn)
    for level, (table, width) in enumerate(LEVELS):
        bucket, mark = bucket_of(t, width), marks.get(table.name)
        if mark is not None and bucket < mark:
            _fold(conn, table, bucket, samples)
        elif mark != bucket:
            _advance(conn, level, mark, bucket)


def complete_before(conn: Connection, t: datetime) -> None:
    """Write the buckets that ended before `t`, though no run has begun since (retention's
    first step: what is complete is rolled up before the raw samples may go)."""
    marks = written_until(conn)
    for level, (table, width) in enumerate(LEVELS):
        bucket, mark = bucket_of(t, width), marks.get(table.name)
        if mark is not None and bucket > mark:
            _advance(conn, level, mark, bucket)


def _advance(conn: Connection, level: int, mark: int | None, bucket: int) -> None:
    """Write a level's buckets from `mark` to before `bucket`, and mark `bucket` open."""
    table, width = LEVELS[level]
    if mark is not None:
        _write(conn, level, mark, bucket)
    _set_mark(conn, table, bucket_start(bucket, width))


def _write(conn: Connection, level: int, first: int, end: int) -> None:
    """Write the buckets [first, end) of a level, now complete, from the level below it."""
    table, width = LEVELS[level]
    if level == 0:
        rows = _from_raw(conn, first, end, width)
        insert_rows(conn, table, COLUMNS, rows, _on_conflict(conn, table, replace=True))
        return
    finer, finer_width = LEVELS[level - 1]
    ratio = width // finer_width
    q = conn.dialect.identifier_preparer.quote
    n, total, low, high = (q(c) for c in ("n", "sum", "min", "max"))
    # integer division: both backends truncate, and buckets count from 1970, never negative
    sql = (
        f"INSERT INTO {q(table.name)} (series_id, bucket, {n}, {total}, {low}, {high}) "
        f"SELECT series_id, bucket / {ratio}, sum({n}), sum({total}), min({low}), max({high}) "
        f"FROM {q(finer.name)} WHERE bucket >= :first AND bucket < :end "
        f"GROUP BY series_id, bucket / {ratio} {_on_conflict(conn, table, replace=True)}"
    )
    conn.execute(text(sql), {"first": first * ratio, "end": end * ratio})


def _from_raw(
    conn: Connection, first: int, end: int, width: int
) -> list[tuple[int, int, int, float, float, float]]:
    """Rows of the buckets [first, end) of `width` seconds, folded from the runs' results."""
    since, before = bucket_start(first, width), bucket_start(end, width)
    folded: dict[tuple[int, str, int], Aggregate] = {}
    samples = timed_samples(conn, since, before - _INSTANT)
    layouts = layouts_by_id(conn, {s[4] for s in samples if s[4] is not None})
    for t, _, module, _, layout, packed in samples:
        if layout is None or packed is None:
            continue
        bucket = bucket_of(t, width)
        for name, value in layouts[layout].unpack(packed).items():
            fold_into(folded, (module, name, bucket), 1, value, value, value)
    ids = _series_ids(conn, {module for module, _, _ in folded})
    return [
        (ids[(module, name)], bucket, int(agg[0]), agg[1], agg[2], agg[3])
        for (module, name, bucket), agg in sorted(folded.items())
    ]


def _series_ids(conn: Connection, module_ids: Collection[int]) -> dict[tuple[int, str], int]:
    """The series of these modules by (module id, metric): each run stored its own."""
    found = {}
    for batch in in_batches(sorted(module_ids)):
        stmt = select(series.c.module_id, series.c.name, series.c.id)
        found.update(
            {(m, n): i for m, n, i in conn.execute(stmt.where(series.c.module_id.in_(batch)))}
        )
    return found


def fold_into(
    folded: dict[K, Aggregate], key: K, n: float, total: float, low: float, high: float
) -> None:
    """Add an aggregate (or one value: n=1, all three the value) to the one under `key`."""
    agg = folded.get(key)
    if agg is None:
        folded[key] = [n, total, low, high]
        return
    agg[0] += n
    agg[1] += total
    agg[2] = min(agg[2], low)
    agg[3] = max(agg[3], high)


def _fold(
    conn: Connection, table: Table, bucket: int, samples: Sequence[tuple[int, float]]
) -> None:
    """Fold one run's samples into a bucket already written."""
    rows = [(s, bucket, 1, v, v, v) for s, v in samples]
    insert_rows(conn, table, COLUMNS, rows, _on_conflict(conn, table, replace=False))


def _set_mark(conn: Connection, table: Table, start: datetime) -> None:
    stmt = dialect_insert(conn, meta).values(key=written_key(table), value=start.isoformat())
    conn.execute(
        stmt.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": start.isoformat()})
    )


def _on_conflict(conn: Connection, table: Table, replace: bool) -> str:
    """The clause that folds a new bucket row into the stored one, or replaces it.

    Replacing: a bucket written when complete holds all its runs; a stored row for it can
    only be a partial one an older version of the store folded before the upgrade.
    """
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
