"""The data-quality tables: each source's state per run, and what is known of each source.

They live on the same MetaData as the rest of the schema, so one Alembic history covers them.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from ..schema import UTCDateTime, metadata

# One row per source ever read: its key, its last good fingerprint, and its current state with
# the time that state began (the "since" of a notice), so no reader scans the history for it.
sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("url", Text, nullable=False),  # as the API shows it: credentials removed
    Column("state", String(16), nullable=False),
    Column("since", UTCDateTime, nullable=False),
    Column("last_good_at", UTCDateTime),
    Column("fingerprint", Text),  # JSON: path -> kinds, of the last document read successfully
    Column("fingerprint_at", UTCDateTime),  # when that fingerprint was last taken or confirmed
)

# One row per (run, source). Retention deletes these with their runs.
source_quality = Table(
    "source_quality",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("since", UTCDateTime, nullable=False),  # when the source entered this state
    Column("latency", Float),  # seconds of the fetch; NULL when it never answered
    Column("bytes", Integer),
    Column("source_time", UTCDateTime),  # the time the document itself claims
    Column("message", Text, nullable=False),
    # JSON: {"appeared": [...], "disappeared": [...], "modules": [...], "greyed": {id: status}}
    Column("details", Text, nullable=False),
    PrimaryKeyConstraint("run_id", "source_id"),
    # a source's history without touching other sources' rows
    Index("ix_source_quality_source_id", "source_id", "run_id"),
)
