"""Hourly and daily rollups of every metric, kept up to date in the run's own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Insert, Table, func

from .batches import execute_in_batches
from .schema import dialect_insert, rollups_daily, rollups_hourly

HOUR = 3600
DAY = 86400
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# (table, bucket width in seconds), finest first
LEVELS: tuple[tuple[Table, int], ...] = ((rollups_hourly, HOUR), (rollups_daily, DAY))


def bucket_of(t: datetime, width: int) -> int:
    """The number of the bucket of `width` seconds that holds `t`, counted from 1970."""
    return int((t - EPOCH).total_seconds() // width)


def bucket_start(bucket: int, width: int) -> datetime:
    """When bucket number `bucket` of `width` seconds begins."""
    return EPOCH + timedelta(seconds=bucket * width)


def add_samples(conn: Connection, t: datetime, values: Sequence[tuple[int, float]]) -> None:
    """Fold one run's samples, (series id, value) taken at `t`, into both rollup levels."""
    if not values:
        return
    for table, width in LEVELS:
        bucket = bucket_of(t, width)
        rows = [
            {"series_id": s, "bucket": bucket, "n": 1, "sum": v, "min": v, "max": v}
            for s, v in values
        ]
        execute_in_batches(conn, _upsert(conn, table), rows)


def _upsert(conn: Connection, table: Table) -> Insert:
    stmt = dialect_insert(conn, table)
    new = stmt.excluded
    # SQLite's two-argument min()/max() are scalar, PostgreSQL spells them least()/greatest()
    lower, upper = (
        (func.least, func.greatest) if conn.dialect.name == "postgresql" else (func.min, func.max)
    )
    return stmt.on_conflict_do_update(
        index_elements=[table.c.series_id, table.c.bucket],
        set_={
            "n": table.c.n + new.n,
            "sum": table.c.sum + new.sum,
            "min": lower(table.c.min, new.min),
            "max": upper(table.c.max, new.max),
        },
    )
