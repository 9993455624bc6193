"""The tables: narrow rows keyed for the two questions asked most, the site at T and a curve.

Texts that repeat (module, category and metric names, the configuration with its descriptions
and instructions) are stored once and referenced by small integers. On SQLite the narrow tables
are WITHOUT ROWID, so a row lives in its primary-key B-tree and nowhere else.
"""

from __future__ import annotations

import math
import struct
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


class _RawFloat(Float[float]):
    """A FLOAT column whose values reach the driver untouched (integers and blobs included)."""

    def bind_processor(self, dialect: Dialect) -> None:
        return None

    def result_processor(self, dialect: Dialect, coltype: object) -> None:
        return None


class SampleValue(TypeDecorator[float]):
    """A metric sample, stored compactly on SQLite (see `pack_sample`); a double elsewhere."""

    impl = Float
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(_RawFloat() if dialect.name == "sqlite" else Float())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return pack_sample(float(value)) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> float | None:
        return None if value is None else unpack_sample(value)


def pack_sample(value: float) -> int | float | bytes:
    """A sample as SQLite should keep it: whole numbers as integers, fractions as 4-byte floats.

    SQLite writes integers in 1 to 8 bytes but every REAL in 8. A fraction kept as a 4-byte
    float (seven significant digits, plenty for a curve) keeps a sample near 13 bytes on disk.
    The exact value stays in the run's result; only the plotted history is rounded.
    """
    if value.is_integer():  # exact: as an integer while one fits, else as the double itself
        return int(value) if abs(value) < 2**53 else value
    packed = struct.pack("<f", value) if abs(value) < 3.0e38 else b""
    return packed if packed and math.isfinite(struct.unpack("<f", packed)[0]) else value


def unpack_sample(stored: int | float | bytes) -> float:
    """The float a stored sample stands for."""
    if isinstance(stored, bytes):
        return float(f"{struct.unpack('<f', stored)[0]:.7g}")
    return float(stored)


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

results = Table(
    "results",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("module_id", Integer, ForeignKey("modules.id"), nullable=False),
    Column("category_id", Integer, ForeignKey("categories.id"), nullable=False),
    Column("status", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("data", Text, nullable=False),  # JSON: metrics, tables, links, details
    Column("archive", Text),
    Column("fetch_seconds", Float, nullable=False),
    Column("extract_seconds", Float, nullable=False),
    Column("error", Text, nullable=False),
    PrimaryKeyConstraint("run_id", "module_id"),
    # a module's history (status curve, past results) without touching other modules' rows
    Index("ix_results_module_id", "module_id", "run_id", "status"),
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

# One row per metric per run. No foreign key on run_id: checking it would cost a lookup per
# sample on insert and a full scan per deleted run; retention removes samples before runs.
samples = Table(
    "samples",
    metadata,
    Column("series_id", Integer, ForeignKey("series.id"), nullable=False),
    Column("run_id", Integer, nullable=False),
    Column("value", SampleValue, nullable=False),
    PrimaryKeyConstraint("series_id", "run_id"),
    sqlite_with_rowid=False,
)


def _rollup(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("series_id", Integer, ForeignKey("series.id"), nullable=False),
        Column("bucket", Integer, nullable=False),  # hours (or days) since 1970-01-01 UTC
        Column("n", Integer, nullable=False),
        Column("sum", Float, nullable=False),
        Column("min", Float, nullable=False),
        Column("max", Float, nullable=False),
        PrimaryKeyConstraint("series_id", "bucket"),
        sqlite_with_rowid=False,
    )


rollups_hourly = _rollup("rollups_hourly")
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

# Small facts about the store itself, e.g. from when on raw samples are complete.
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
