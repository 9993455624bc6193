"""The data-quality axis: the sources read, and each source's state per run.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from happyface.storage.schema import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the `sources` and `source_quality` tables."""
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("since", UTCDateTime, nullable=False),
        sa.Column("last_good_at", UTCDateTime),
        sa.Column("fingerprint", sa.Text),
        sa.Column("fingerprint_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_sources"),
        sa.UniqueConstraint("key", name="uq_sources_key"),
    )
    op.create_table(
        "source_quality",
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("source_id", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("since", UTCDateTime, nullable=False),
        sa.Column("latency", sa.Float),
        sa.Column("bytes", sa.Integer),
        sa.Column("source_time", UTCDateTime),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_source_quality_run_id"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name="fk_source_quality_source_id"),
        sa.PrimaryKeyConstraint("run_id", "source_id", name="pk_source_quality"),
    )
    op.create_index(
        "ix_source_quality_source_id", "source_quality", ["source_id", "run_id"], unique=False
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_index("ix_source_quality_source_id", table_name="source_quality")
    op.drop_table("source_quality")
    op.drop_table("sources")
