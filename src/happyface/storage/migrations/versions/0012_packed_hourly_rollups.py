"""Hourly rollups packed one row per series and day: the day's hours in one binary value.

Every stored hour is kept exactly (its n, sum, min and max); the rows of a series' day become
one row holding them (see happyface.storage.packed_hours). The marks of what is written stay
as they are: a mark in the middle of a day counts from that day's start, whose stored hours
are kept when the day is written. Downgrading gives one row per hour back.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from happyface.storage.packed_hours import HOURS_PER_DAY, pack_hours, unpack_hours

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

NARROW = {"sqlite_with_rowid": False}
SERIES_PER_BATCH = 200
HOURLY = "rollups_hourly"


def upgrade() -> None:
    """Set the hour rows aside, pack them a day a row into the new table, drop them."""
    _set_aside(HOURLY, "rollups_hourly_rows")
    packed = _create_packed()
    old = _hour_rows_table("rollups_hourly_rows")
    conn = op.get_bind()
    for batch in _series_batches():
        stmt = sa.select(old).where(old.c.series_id.in_(batch))
        days: dict[tuple[int, int], dict[int, list[float]]] = {}
        for series_id, bucket, n, total, low, high in conn.execute(stmt):
            day, hour = divmod(bucket, HOURS_PER_DAY)
            days.setdefault((series_id, day), {})[hour] = [n, total, low, high]
        rows = [
            {"series_id": s, "day": d, "hours": pack_hours(hours)}
            for (s, d), hours in sorted(days.items())
        ]
        if rows:
            conn.execute(packed.insert(), rows)
    op.drop_table("rollups_hourly_rows")


def downgrade() -> None:
    """Unpack every day's row into one row per hour."""
    _set_aside(HOURLY, "rollups_hourly_packed")
    rows_table = _create_hour_rows()
    packed = sa.table(
        "rollups_hourly_packed", sa.column("series_id"), sa.column("day"), sa.column("hours")
    )
    conn = op.get_bind()
    for batch in _series_batches():
        stmt = sa.select(packed).where(packed.c.series_id.in_(batch))
        rows = [
            _hour_row(series_id, day * HOURS_PER_DAY + hour, agg)
            for series_id, day, blob in conn.execute(stmt)
            for hour, agg in unpack_hours(blob).items()
        ]
        if rows:
            conn.execute(rows_table.insert(), rows)
    op.drop_table("rollups_hourly_packed")


def _set_aside(name: str, new_name: str) -> None:
    """Rename a table so its replacement can be created beside it under the same name."""
    op.rename_table(name, new_name)
    if op.get_bind().dialect.name == "postgresql":  # its key's index name is schema-wide
        op.execute(f"ALTER TABLE {new_name} RENAME CONSTRAINT pk_{name} TO pk_{new_name}")


def _series_batches() -> Iterator[list[int]]:
    series = sa.table("series", sa.column("id"))
    ids = list(op.get_bind().execute(sa.select(series.c.id).order_by(series.c.id)).scalars())
    for start in range(0, len(ids), SERIES_PER_BATCH):
        yield ids[start : start + SERIES_PER_BATCH]


def _create_packed() -> sa.Table:
    table = op.create_table(
        HOURLY,
        sa.Column("series_id", sa.Integer, nullable=False),
        sa.Column("day", sa.Integer, nullable=False),
        sa.Column("hours", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("series_id", "day", name=f"pk_{HOURLY}"),
        sa.ForeignKeyConstraint(["series_id"], ["series.id"], name=f"fk_{HOURLY}_series_id"),
        **NARROW,
    )
    assert table is not None
    return table


def _create_hour_rows() -> sa.Table:
    table = op.create_table(
        HOURLY,
        sa.Column("series_id", sa.Integer, nullable=False),
        sa.Column("bucket", sa.Integer, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("sum", sa.Float, nullable=False),
        sa.Column("min", sa.Float, nullable=False),
        sa.Column("max", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("series_id", "bucket", name=f"pk_{HOURLY}"),
        sa.ForeignKeyConstraint(["series_id"], ["series.id"], name=f"fk_{HOURLY}_series_id"),
        **NARROW,
    )
    assert table is not None
    return table


def _hour_rows_table(name: str) -> sa.TableClause:
    columns = ("series_id", "bucket", "n", "sum", "min", "max")
    return sa.table(name, *(sa.column(c) for c in columns))


def _hour_row(series_id: int, bucket: int, agg: list[float]) -> dict[str, Any]:
    n, total, low, high = agg
    return {"series_id": series_id, "bucket": bucket, "n": int(n), "sum": total, "min": low,
            "max": high}  # fmt: skip
