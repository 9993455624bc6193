"""Hourly and daily rollups of every metric, kept up to date in the run's own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Table

from .bulk import insert_rows
from .schema import rollups_daily, rollups_hourly

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
        rows = [(s, bucket, 1, v, v, v) for s, v in values]
        insert_rows(conn, table, COLUMNS, rows, _on_conflict(conn, table))


COLUMNS = ("series_id", "bucket", "n", "sum", "min", "max")


def _on_conflict(conn: Connection, table: Table) -> str:
    """The clause that folds a new bucket row into the stored one."""
    q = conn.dialect.identifier_preparer.quote
    old = f"{q(table.name)}."
    # SQLite's two-argument min()/max() are scalar, PostgreSQL spells them least()/greatest()
    lower, upper = ("least", "greatest") if conn.dialect.name == "postgresql" else ("min", "max")
    n, total, low, high = (q(c) for c in ("n", "sum", "min", "max"))
    return (
        f"ON CONFLICT (series_id, bucket) DO UPDATE SET "
        f"{n} = {old}{n} + excluded.{n}, {total} = {old}{total} + excluded.{total}, "
        f"{low} = {lower}({old}{low}, excluded.{low}), "
        f"{high} = {upper}({old}{high}, excluded.{high})"
    )
