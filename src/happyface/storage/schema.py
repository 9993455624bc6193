"""The tables: narrow rows keyed for the two questions asked most, the site at T and a curve.

Texts that repeat (module, category and metric names, the configuration with its descriptions
and instructions) are stored once and referenced by small integers. On SQLite the narrow tables
are WITHOUT ROWID, so a row lives in its primary-key B-tree and nowhere else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeDecorator

from .records import utc


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend; SQLite keeps it as sortable naive text."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = utc(value)
        # SQLite would store an aware value's wall time and drop the offset: store UTC itself.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else utc(value)


metadata = MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ix": "ix_%(table_name)s_%(column_0_name)s",
    }
)


config_versions = Table(
    "config_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("config", Text, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("state", String(8), nullable=False),
    Column("holder", String(200), nullable=False, server_default=""),
    Column("config_id", Integer, ForeignKey("config_versions.id")),
    Column("error", Text, nullable=False, server_default=""),
    # the scheduled time this run is for; a run without one (`happyface acquire`) has NULL
    Column("slot", UTCDateTime),
    # "the newest visible run at or before T" is one descent of this index
    Index("ix_runs_state_started_at", "state", "started_at"),
    # when a configuration version was in force: two descents per version, not a scan
    Index("ix_runs_config_id", "config_id", "state", "started_at"),
    # at most one record per slot, whatever crashes, restarts, outages or second schedulers
    Index("ux_runs_slot", "slot", unique=True),
)

modules = Table(
    "modules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
)

categories = Table(
    "categories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
)

# Contents stored once under their SHA-256 (see hashed.py): most results repeat the details
# of the run before, and a module's metric names rarely change.
result_details = Table(
    "result_details",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hash", String(64), nullable=False, unique=True),
    Column("data", LargeBinary, nullable=False),  # zlib-compressed JSON: tables, links, details
    # the last day (since 1970) of the packed results that reference it; NULL: none packed yet
    Column("used_until", Integer),
)

metric_layouts = Table(
    "metric_layouts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hash", String(64), nullable=False, unique=True),
    Column("layout", Text, nullable=False),  # see packing.py
)

# One row per (module, run) of the current day (and of runs stored late): ended days are
# packed into `result_days` below. The row holds the module's metrics as packed samples
# (plots read them from here) and references its details. Keyed by module first, so a
# module's history is one primary-key range.
results = Table(
    "results",
    metadata,
    # module, run, category and layout are not foreign keys: none of their rows can go while
    # a result references it, and on PostgreSQL each key costs a lookup and a lock per row
    # (migration 0014); details can go (retention), so their key stays
    Column("module_id", Integer, nullable=False),
    Column("run_id", Integer, nullable=False),
    Column("category_id", Integer, nullable=False),
    Column("status", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("layout_id", Integer),  # NULL: no metrics
    Column("metrics", LargeBinary),
    Column("details_id", Integer, ForeignKey("result_details.id")),  # NULL: no details
    Column("archive", Text),
    Column("fetch_seconds", Float, nullable=False),
    Column("extract_seconds", Float, nullable=False),
    Column("error", Text, nullable=False),
    PrimaryKeyConstraint("module_id", "run_id"),
    # the site at a run, and retention deleting whole runs
    Index("ix_results_run_id", "run_id"),
    # retention: is a details row still referenced?
    Index("ix_results_details_id", "details_id"),
    sqlite_with_rowid=False,
)

# The results of a day that has ended, one row per module (see result_days.py): the rows of
# `results` above are the current day's, and those of runs stored late.
result_days = Table(
    "result_days",
    metadata,
    Column("module_id", Integer, ForeignKey("modules.id"), nullable=False),
    Column("day", Integer, nullable=False),  # days since 1970-01-01 UTC of the runs' starts
    Column("count", Integer, nullable=False),  # how many results `data` holds
    Column("data", LargeBinary, nullable=False),
    # a rowid table on SQLite, unlike the narrow ones: a WITHOUT ROWID row keeps only about
    # 1 KB on its page and spills the rest to an overflow page of its own, which a packed
    # day (2 KB for a module of 5 metrics) would leave half empty
    PrimaryKeyConstraint("module_id", "day"),
)

run_categories = Table(
    "run_categories",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("category_id", Integer, ForeignKey("categories.id"), nullable=False),
    Column("status", Integer, nullable=False),
    PrimaryKeyConstraint("run_id", "category_id"),
    sqlite_with_rowid=False,
)

series = Table(
    "series",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("module_id", Integer, ForeignKey("modules.id"), nullable=False),
    Column("name", String(128), nullable=False),
    UniqueConstraint("module_id", "name"),
)


def _rollup(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("series_id", Integer, ForeignKey("series.id"), nullable=False),
        Column("bucket", Integer, nullable=False),  # days since 1970-01-01 UTC
        Column("n", Integer, nullable=False),
        Column("sum", Float, nullable=False),
        Column("min", Float, nullable=False),
        Column("max", Float, nullable=False),
        PrimaryKeyConstraint("series_id", "bucket"),
        sqlite_with_rowid=False,
    )


# One row per series and day: that day's hourly aggregates packed (see packed_hours.py).
rollups_hourly = Table(
    "rollups_hourly",
    metadata,
    Column("series_id", Integer, ForeignKey("series.id"), nullable=False),
    Column("day", Integer, nullable=False),  # days since 1970-01-01 UTC
    Column("hours", LargeBinary, nullable=False),
    PrimaryKeyConstraint("series_id", "day"),
    sqlite_with_rowid=False,
)
rollups_daily = _rollup("rollups_daily")

# Who holds a lock, in enough detail to say so and to tell, on the same machine, a dead holder.
locks = Table(
    "locks",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("machine", String(200), nullable=False),  # kernel boot and PID namespace
    Column("process", String(64), nullable=False),  # the process's start, against PID reuse
    Column("since", UTCDateTime, nullable=False),
    Column("renewed_at", UTCDateTime, nullable=False),
)

# Small facts about the store itself, e.g. from when on each rollup level is complete.
meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


def dialect_insert(conn: Connection, table: Table) -> sqlite.Insert | postgresql.Insert:
    """An INSERT with the backend's ON CONFLICT clauses (both spell them the same way)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
